"""The unit directory: which unit a dossier belongs to, and its district."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from ingest.sync.values import (
    MAX_CODE,
    MAX_NAME,
    UNMAPPED_DISTRICT_CODE,
    UNMAPPED_DISTRICT_NAME,
    plain_text,
)
from schemas.events import (
    Level,
)


class Unit(BaseModel):
    """What a received event needs about the unit that handles a dossier."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency_name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    level: Level
    district_code: Annotated[str, Field(min_length=1, max_length=MAX_CODE)]
    district_name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
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


def infer_level(unit_name: str | None) -> Level:
    """Level of a unit the directory lacks, from its name; province when unclear."""
    match = _UNIT_WORD.search(plain_text(unit_name or ""))
    return _WORD_LEVEL.get(match[1], Level.PROVINCE) if match else Level.PROVINCE


class UnitDirectory:
    """Unit code (MaHoSo's prefix) → agency name, level and district."""

    def __init__(self, units: Mapping[str, Unit | Mapping[str, Any]]) -> None:
        self._units = {
            code: unit if isinstance(unit, Unit) else Unit.model_validate(unit)
            for code, unit in units.items()
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | list[Mapping[str, Any]]) -> UnitDirectory:
        """{code: {...}} or [{"agency_code": code, ...}, ...]."""
        if isinstance(data, list):
            if not all(isinstance(i, Mapping) and "agency_code" in i for i in data):
                raise ValueError("every unit in a list needs an agency_code")
            data = {item["agency_code"]: item for item in data}
        return cls({code: _without(unit, "agency_code") for code, unit in data.items()})

    @classmethod
    def from_file(cls, path: Path | str) -> UnitDirectory:
        return cls.from_data(orjson.loads(Path(path).read_bytes()))

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __len__(self) -> int:
        return len(self._units)

    def resolve(self, agency_code: str, unit_name: str | None) -> Unit:
        known = self._units.get(agency_code)
        if known is not None:
            return known
        return Unit(
            agency_name=unit_name or agency_code,
            level=infer_level(unit_name),
            district_code=UNMAPPED_DISTRICT_CODE,
            district_name=UNMAPPED_DISTRICT_NAME,
            mapped=False,
        )


def _without(item: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != key}
