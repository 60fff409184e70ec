"""What the commands print: one Vietnamese line per message, on stderr."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.text import Text

from schemas.settings import Settings

err = Console(stderr=True)
MAX_LISTED = 20  # rejected lines listed one by one; the rest are counted


def say(text: str, style: str | None = None) -> None:
    """One line on stderr, never wrapped by the console (logs keep it whole)."""
    err.print(Text(text, style=style or ""), soft_wrap=True)


def settings_for_messages() -> Settings:
    try:
        return Settings()
    except Exception:
        return Settings.model_construct()


def quiet_libraries() -> None:
    """Client libraries log their retries and tracebacks (clickhouse-driver
    prints one per refused connection); the commands say what matters
    themselves. Commands that run services configure logging anew."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())
