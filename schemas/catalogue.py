"""The procedure catalogue (EVENTS.md §4), an optional input of the 766 scorecard.

It comes from the national procedure database as JSON or CSV exported by
hand, so reading is tolerant of the shape (unknown columns are ignored, a
tick is as good as "true") but not of the meaning: a value that is neither
yes nor no, or a level nobody knows, rejects the file with the row and field
named, since a wrong denominator would be worse than none.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from schemas.events import Level, describe_errors

_YES = frozenset({"1", "true", "x", "yes", "y", "có", "co", "đúng"})
_NO = frozenset({"0", "false", "", "no", "n", "không", "khong", "sai"})


def tolerant_bool(value: Any) -> bool:
    """True/False from a spreadsheet's many spellings (1/0, true/false, x, có/không)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if value is None:
        return False
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _YES:
            return True
        if text in _NO:
            return False
    raise ValueError("expected yes or no (1/0, true/false, x or empty)")


class Subject(StrEnum):
    CITIZEN = "citizen"  # công dân, cá nhân
    ORGANISATION = "organisation"  # tổ chức, doanh nghiệp


_LEVELS = {
    "province": Level.PROVINCE,
    "tỉnh": Level.PROVINCE,
    "cấp tỉnh": Level.PROVINCE,
    "district": Level.DISTRICT,
    "huyện": Level.DISTRICT,
    "cấp huyện": Level.DISTRICT,
    "commune": Level.COMMUNE,
    "xã": Level.COMMUNE,
    "cấp xã": Level.COMMUNE,
}
_SUBJECTS = {
    "citizen": Subject.CITIZEN,
    "công dân": Subject.CITIZEN,
    "cá nhân": Subject.CITIZEN,
    "organisation": Subject.ORGANISATION,
    "organization": Subject.ORGANISATION,
    "tổ chức": Subject.ORGANISATION,
    "doanh nghiệp": Subject.ORGANISATION,
}
_SEPARATORS = re.compile(r"[,;|/]")


def _names_of(table: Mapping[str, StrEnum], what: str) -> Any:
    """A validator: a list, or text separated by , ; | /, of names in `table`."""

    def parse(value: Any) -> frozenset:
        if value is None:
            return frozenset()
        items = _SEPARATORS.split(value) if isinstance(value, str) else value
        if not isinstance(items, Iterable):
            raise ValueError(f"expected a list of {what}")
        found = set()
        for item in items:
            text = str(item).strip().lower()
            if not text:
                continue
            if text not in table:
                raise ValueError(f"unknown {what[:-1]}; expected one of {', '.join(table)}")
            found.add(table[text])
        return frozenset(found)

    return BeforeValidator(parse)


Flag = Annotated[bool, BeforeValidator(tolerant_bool)]
OptionalText = Annotated[
    str | None, BeforeValidator(lambda v: None if v is None else str(v).strip() or None)
]


class CatalogueEntry(BaseModel):
    """One procedure (thủ tục hành chính) as the scorecard's denominators need it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: Annotated[str, Field(min_length=1, max_length=200)]  # mã TTHC, e.g. 1.004227
    name: OptionalText = None
    field: OptionalText = None
    levels: Annotated[frozenset[Level], _names_of(_LEVELS, "levels")] = frozenset()
    full_online_eligible: Flag = False  # đủ điều kiện cung cấp trực tuyến toàn trình
    paper_result: Flag = False  # the result is a paper document
    fee: Flag = False  # a non-zero fee or charge
    subjects: Annotated[frozenset[Subject], _names_of(_SUBJECTS, "subjects")] = frozenset()


class ProcedureCatalogue(Mapping[str, CatalogueEntry]):
    """Procedure code → entry. Immutable; build it with `from_rows`."""

    def __init__(self, entries: Mapping[str, CatalogueEntry]) -> None:
        self._entries = dict(entries)

    def __getitem__(self, code: str) -> CatalogueEntry:
        return self._entries[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"ProcedureCatalogue({len(self)} procedures)"

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> ProcedureCatalogue:
        """Entries from dict rows; a code listed twice must say the same thing both times."""
        entries: dict[str, CatalogueEntry] = {}
        for number, row in enumerate(rows, start=1):
            cleaned = {k.strip(): v for k, v in row.items() if isinstance(k, str)}
            if isinstance(cleaned.get("code"), str):
                cleaned["code"] = cleaned["code"].strip()
            try:
                entry = CatalogueEntry.model_validate(cleaned)
            except ValidationError as exc:
                raise ValueError(f"row {number}: {describe_errors(exc, keys=None)}") from None
            if entries.get(entry.code, entry) != entry:
                raise ValueError(f"row {number}: procedure {entry.code} listed twice, differently")
            entries[entry.code] = entry
        return cls(entries)


def catalogue_from_json(text: str | bytes) -> ProcedureCatalogue:
    """A JSON list of entries, or an object with them under "procedures"."""
    data = orjson.loads(text)
    if isinstance(data, dict):
        data = data.get("procedures")
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ValueError('expected a list of procedures (or {"procedures": [...]})')
    return ProcedureCatalogue.from_rows(data)


def catalogue_from_csv(text: str) -> ProcedureCatalogue:
    """CSV with a header row; levels and subjects as lists separated by ; or ,."""
    return ProcedureCatalogue.from_rows(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def parse_catalogue(text: str) -> ProcedureCatalogue:
    """JSON when the text starts like JSON, CSV otherwise."""
    body = text.lstrip("\ufeff \t\r\n")
    return catalogue_from_json(body) if body[:1] in ("[", "{") else catalogue_from_csv(text)
