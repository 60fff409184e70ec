"""The versioned unit directory (EVENTS.md §4, METRICS.md §8).

Since 1 July 2025 units merge and get renamed, so a unit code alone no longer
says which unit a dossier belongs to *today*: each record carries a validity
interval and, when it ended in a merger or rename, its successor's code.

Two input shapes are read:

- the versioned shape: `code, name, kind, parent, area (code + name),
  valid_from, valid_to, successor` (JSON objects, nested `area` or flat
  `area_code`/`area_name`; or CSV with the flat columns);
- the old shape (ingest's directory files before issue #17): a list of
  `{agency_code, agency_name, level, district_code, district_name}` or a
  mapping `{code: {...}}`. Such a row has no validity and no successor: it is
  valid always, its area is its district, its kind follows its level.

Validity is by local calendar date: a record is valid on days `valid_from <=
day < valid_to` (`None` = since always / still valid), the way reorganisation
decisions take effect ("from 1 July 2025").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from schemas.events import Level

Code = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
Name = Annotated[str, Field(strict=True, min_length=1, max_length=500)]

# CSV columns of the versioned shape, in order.
CSV_COLUMNS = (
    "code",
    "name",
    "kind",
    "parent",
    "area_code",
    "area_name",
    "valid_from",
    "valid_to",
    "successor",
)


class UnitType(StrEnum):
    """What a unit is (EVENTS.md §4); `level` says which tier handles its dossiers."""

    PROVINCE = "province"  # the provincial People's Committee
    DEPARTMENT = "department"  # sở, ngành (and other provincial agencies)
    DISTRICT = "district"  # huyện, thị xã, thành phố thuộc tỉnh (before 1 July 2025)
    DISTRICT_UNIT = "district_unit"  # a district's People's Committee or its offices
    COMMUNE = "commune"  # xã, phường, thị trấn, đặc khu

    @property
    def level(self) -> Level:
        match self:
            case UnitType.PROVINCE | UnitType.DEPARTMENT:
                return Level.PROVINCE
            case UnitType.DISTRICT | UnitType.DISTRICT_UNIT:
                return Level.DISTRICT
            case UnitType.COMMUNE:
                return Level.COMMUNE


_TYPE_OF_LEVEL = {
    Level.PROVINCE: UnitType.DEPARTMENT,
    Level.DISTRICT: UnitType.DISTRICT_UNIT,
    Level.COMMUNE: UnitType.COMMUNE,
}


class Area(BaseModel):
    """The geographic grouping of hotspots and "by area" views (METRICS.md §8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Name


class UnitRecord(BaseModel):
    """One version of a unit: what it was called and where it belonged while valid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Name
    kind: UnitType
    parent: Code | None = None
    area: Area | None = None
    valid_from: date | None = None  # None: since always
    valid_to: date | None = None  # exclusive; None: still valid
    successor: Code | None = None  # who took over when this version ended

    @model_validator(mode="after")
    def _interval(self) -> UnitRecord:
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(f"unit {self.code}: valid_to must be after valid_from")
        if self.successor is not None and self.valid_to is None:
            raise ValueError(f"unit {self.code}: a successor needs a valid_to")
        if self.successor == self.code:
            raise ValueError(f"unit {self.code}: a unit cannot succeed itself")
        return self

    @property
    def level(self) -> Level:
        return self.kind.level

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


def _blank(value: Any) -> Any:
    return None if value == "" else value


def record_of(row: Mapping[str, Any]) -> UnitRecord:
    """One row of either shape → a record (the old shape: valid always)."""
    if "agency_code" in row:
        return _old_record(row)
    data = {key: _blank(value) for key, value in row.items()}
    area_code, area_name = data.pop("area_code", None), data.pop("area_name", None)
    if area_code is not None or area_name is not None:
        if data.get("area") is not None:
            raise ValueError(f"unit {data.get('code')}: both area and area_code/area_name")
        data["area"] = {"code": area_code, "name": area_name}
    return UnitRecord.model_validate(data)


def _old_record(row: Mapping[str, Any]) -> UnitRecord:
    unknown = set(row) - {"agency_code", "agency_name", "level", "district_code", "district_name"}
    if unknown:
        raise ValueError(f"unit {row.get('agency_code')}: unknown keys {sorted(unknown)}")
    return UnitRecord(
        code=row["agency_code"],
        name=row["agency_name"],
        kind=_TYPE_OF_LEVEL[Level(row["level"])],
        area=Area(code=row["district_code"], name=row["district_name"]),
    )


class UnitDirectory(BaseModel):
    """Every version of every unit; one code's versions never overlap in time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    units: tuple[UnitRecord, ...] = ()
    _by_code: dict[str, tuple[UnitRecord, ...]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _index(self) -> UnitDirectory:
        grouped: dict[str, list[UnitRecord]] = {}
        for record in self.units:
            grouped.setdefault(record.code, []).append(record)
        for code, versions in grouped.items():
            versions.sort(key=lambda r: r.valid_from or date.min)
            for earlier, later in pairwise(versions):
                if earlier.valid_to is None or (
                    later.valid_from is not None and later.valid_from < earlier.valid_to
                ):
                    raise ValueError(f"unit {code}: versions overlap in time")
        self._by_code = {code: tuple(versions) for code, versions in grouped.items()}
        return self

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]
    ) -> UnitDirectory:
        """Rows of either shape; a mapping is the old `{code: {...}}` shape."""
        if isinstance(rows, Mapping):
            rows = [{"agency_code": code, **row} for code, row in rows.items()]
        return cls(units=tuple(record_of(row) for row in rows))

    def versions(self, code: str) -> tuple[UnitRecord, ...]:
        """The unit's versions, oldest first (empty when the directory lacks it)."""
        return self._by_code.get(code, ())

    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[UnitRecord]:  # type: ignore[override]
        return iter(self.units)


def parse_unit_directory(text: str, fmt: Literal["json", "csv"] | None = None) -> UnitDirectory:
    """A directory from its text (JSON list/mapping, or CSV with `CSV_COLUMNS`).

    Without `fmt`, text starting with `[` or `{` is JSON, anything else CSV.
    Raises ValueError naming the unit or the problem.
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if fmt is None:
        fmt = "json" if stripped[:1] in ("[", "{") else "csv"
    if fmt == "json":
        try:
            data = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg[:100]}") from None
        if not isinstance(data, list | dict):
            raise ValueError("a unit directory is a JSON list or object")
        return UnitDirectory.from_rows(data)
    reader = csv.DictReader(io.StringIO(stripped))
    missing = {"code", "name", "kind"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"unit directory CSV lacks columns {sorted(missing)}")
    return UnitDirectory.from_rows(list(reader))


def directory_json(directory: UnitDirectory) -> bytes:
    """The versioned shape as JSON (what `parse_unit_directory` reads back)."""
    return orjson.dumps(
        [u.model_dump(mode="json", exclude_none=True) for u in directory.units],
        option=orjson.OPT_INDENT_2,
    )
