"""Attribution through the unit directory: which unit handles a dossier, its
commune and its area (district before 1 July 2025), as of the dossier's receipt.

The directory itself is `schemas.units.UnitDirectory` (versioned: validity and
successors; the old `{agency_code, …, district_code}` files still read, each
unit valid always with its district as its area). Decisions:

- The unit version used is the one valid at the receipt's local date; a code
  the directory has but not valid then (a receipt dated before the unit
  existed or after it ended, as late records of a merged unit are) uses its
  nearest version (the last one that started by then, else the first), so a
  known unit is never "unmapped".
- Commune: MaXa/TenXa when the record has them (TenXa missing: the
  directory's name of MaXa, else the code); else, for a commune-level unit,
  the unit itself (a commune's own dossiers); else none.
- Area (the event's district fields): before 1 July 2025 the unit's area,
  which is its district; from that day the directory's area of the commune
  (the version valid at receipt, a merged commune followed to its successor),
  else the unit's own area, else `UNMAPPED_DISTRICT_CODE`.
- A unit the directory lacks still converts (its name from DonViXuLy, its
  level guessed from that name, district `UNMAPPED_DISTRICT_CODE`), so its
  dossiers count in the province's totals and tell an operator to complete
  the directory (`Attribution.mapped` is False).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from ingest.sync.values import (
    UNMAPPED_DISTRICT_CODE,
    UNMAPPED_DISTRICT_NAME,
    plain_text,
)
from schemas.events import Level
from schemas.units import UnitDirectory, UnitRecord, parse_unit_directory
from streams.rules.units import is_two_tier, local_day, successor_at, unit_as_of

__all__ = ["Attribution", "UnitDirectory", "attribute", "infer_level", "read_unit_directory"]


@dataclass(frozen=True, slots=True)
class Attribution:
    """What a received event needs about the unit that handles a dossier."""

    agency_name: str
    level: Level
    district_code: str  # the area from 1 July 2025
    district_name: str
    commune_code: str | None = None
    commune_name: str | None = None
    mapped: bool = True  # False: not in the directory, attributes guessed


# The first unit word in a name decides ("UBND xã A, huyện B" is a commune).
_UNIT_WORD = re.compile(
    r"\b(thi tran|thi xa|thanh pho|phuong|xa|huyen|(?<!co )quan(?! ly)|so|tinh)\b"
)
_WORD_LEVEL = {
    "xa": Level.COMMUNE,
    "phuong": Level.COMMUNE,
    "thi tran": Level.COMMUNE,
    "huyen": Level.DISTRICT,
    "quan": Level.DISTRICT,
    "thi xa": Level.DISTRICT,
    "thanh pho": Level.DISTRICT,
}


@lru_cache(maxsize=4096)  # a province's few unit names, on every receipt of a unit not listed
def infer_level(unit_name: str | None) -> Level:
    """Level of a unit the directory lacks, from its name; province when unclear."""
    match = _UNIT_WORD.search(plain_text(unit_name or ""))
    return _WORD_LEVEL.get(match[1], Level.PROVINCE) if match else Level.PROVINCE


def read_unit_directory(path: Path | str) -> UnitDirectory:
    """A directory file of either shape (JSON, or CSV with the versioned columns)."""
    return parse_unit_directory(Path(path).read_text(encoding="utf-8-sig"))


def _version(directory: UnitDirectory, code: str, at: datetime) -> UnitRecord | None:
    """The version valid at `at`, else the nearest one (see the decisions)."""
    valid = unit_as_of(directory, code, at)
    if valid is not None:
        return valid
    versions = directory.versions(code)
    if not versions:
        return None
    day = local_day(at)
    started = [r for r in versions if r.valid_from is None or r.valid_from <= day]
    return started[-1] if started else versions[0]


def _area_of(record: UnitRecord | None) -> tuple[str, str] | None:
    return None if record is None or record.area is None else (record.area.code, record.area.name)


def attribute(
    directory: UnitDirectory,
    agency_code: str,
    unit_name: str | None,
    at: datetime,
    commune: tuple[str | None, str | None] = (None, None),
) -> Attribution:
    """The unit, commune and area of a dossier of `agency_code` received at `at`;
    `commune` is the record's (MaXa, TenXa)."""
    unit = _version(directory, agency_code, at)
    commune_code, commune_name = commune
    if unit is None:
        name, level = unit_name or agency_code, infer_level(unit_name)
        if not commune_code and level is Level.COMMUNE:
            commune_code, commune_name = agency_code, name
        return Attribution(
            agency_name=name,
            level=level,
            district_code=UNMAPPED_DISTRICT_CODE,
            district_name=UNMAPPED_DISTRICT_NAME,
            commune_code=commune_code,
            commune_name=(commune_name or commune_code) if commune_code else None,
            mapped=False,
        )
    commune_unit: UnitRecord | None = None
    if commune_code:
        commune_unit = unit_as_of(directory, commune_code, at) or successor_at(
            directory, commune_code, at
        )
        if not commune_name:
            known = _version(directory, commune_code, at)
            commune_name = known.name if known is not None else commune_code
    elif unit.level is Level.COMMUNE:
        commune_code, commune_name, commune_unit = unit.code, unit.name, unit
    area = _area_of(unit)
    if is_two_tier(at):
        area = _area_of(commune_unit) or area
    code, name = area or (UNMAPPED_DISTRICT_CODE, UNMAPPED_DISTRICT_NAME)
    return Attribution(
        agency_name=unit.name,
        level=unit.level,
        district_code=code,
        district_name=name,
        commune_code=commune_code,
        commune_name=commune_name,
    )
