"""Deployment settings, read from the environment (prefix MOTCUA_) or a .env file.

Lists are given as JSON in the environment, e.g.
MOTCUA_EXTRA_DAYS_OFF='["2026-05-04"]', MOTCUA_WORKING_HOURS='["07:30-11:30","13:00-17:00"]'.
"""

from __future__ import annotations

from datetime import date, time
from functools import cached_property

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.calendar import WorkingCalendar


def _parse_span(text: str) -> tuple[time, time]:
    try:
        start, end = text.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"working hours span must look like 07:00-11:30, got {text!r}") from None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_file=".env", extra="ignore")

    province_code: str = "ALL"
    province_name: str = "Toàn tỉnh"
    timezone: str = "Asia/Ho_Chi_Minh"
    working_hours: list[str] = ["07:00-11:30", "13:30-17:00"]
    # Province-announced swaps on top of the national calendar.
    extra_days_off: list[date] = []
    extra_working_days: list[date] = []

    @field_validator("working_hours")
    @classmethod
    def _hours_parse(cls, spans: list[str]) -> list[str]:
        for span in spans:
            _parse_span(span)
        return spans

    @cached_property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(
            hours=[_parse_span(s) for s in self.working_hours],
            extra_days_off=self.extra_days_off,
            extra_working_days=self.extra_working_days,
            tz=self.timezone,
        )

    @property
    def province(self) -> tuple[str, str]:
        return self.province_code, self.province_name
