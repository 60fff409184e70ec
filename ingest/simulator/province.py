"""The simulated province's units and what each one draws from the seed.

Shaped like the national portal's 766 sample for Phú Thọ (../shared/data/
portal-766): provincial departments (`H44.0x`/`H44.1x`, level province), a
People's Committee per district (level district) and dozens of communes and
wards (`H44.1xx`, level commune), each attributed to a district. Units are a
fixed list; per seed, each unit draws its monthly volume (a handful to
~3,000 dossiers, skewed towards city wards), its on-time target (63-94%),
its online share around the knob, and from those its late probability per
field (land late-prone, most of all in the hotspot districts).

Two shapes (METRICS.md §8): before 1 July 2025 the old one above (districts,
their People's Committees, communes); from that day the two-tier province:
departments (four merged into new ones), no districts, ~100 communes and
wards: the old communes merged three or so into one, and the communes of the
areas merged in with the neighbouring provinces. Each commune's area is its
former district (codes `H44.Dxx`, the same as the old districts'), and it
carries the former district's land procedures. A unit's `valid_from`/
`valid_to`/`successor` make the versioned unit directory (`unit_history`);
the simulator places every change on 1 July 2025 (some departments really
merged on 1 March 2025), so one date switches the whole shape.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ingest.simulator.catalogue import COMMUNE, DEPARTMENTS, DISTRICT, LAND, Offer
from ingest.simulator.knobs import Knobs
from schemas.events import Level
from schemas.units import UnitDirectory, UnitType
from streams.rules.units import REFORM_DATE

PROVINCE_CODE = "H44"
PROVINCE_NAME = "Tỉnh Phú Thọ"
PROVINCE_DISTRICT = ("H44.D00", "Cấp tỉnh")

# code, name, (volume range per month at scale 1)
_DEPARTMENTS = (
    ("H44.03", "Ban quản lý các khu công nghiệp tỉnh Phú Thọ", (300, 800)),
    ("H44.07", "Sở Công Thương", (300, 700)),
    ("H44.08", "Sở Giáo dục và Đào tạo", (150, 600)),
    ("H44.09", "Sở Giao thông vận tải", (1500, 3000)),
    ("H44.10", "Sở Kế hoạch và Đầu tư", (500, 1500)),
    ("H44.12", "Sở Tài nguyên và Môi trường", (400, 1200)),
    ("H44.13", "Sở Ngoại vụ", (2, 10)),
    ("H44.15", "Sở Tư pháp", (800, 2500)),
    ("H44.17", "Sở Y tế", (200, 800)),
)

# district code, district name, its People's Committee (code, name), communes (code, name)
_DISTRICTS = (
    (
        "H44.D01",
        "Thành phố Việt Trì",
        ("H44.31", "UBND Thành phố Việt Trì"),
        (
            ("H44.100", "UBND Phường Việt Trì"),
            ("H44.101", "UBND Phường Nông Trang"),
            ("H44.102", "UBND Phường Gia Cẩm"),
            ("H44.103", "UBND Phường Tiên Cát"),
            ("H44.104", "UBND xã Hy Cương"),
            ("H44.106", "UBND Phường Thanh Miếu"),
            ("H44.107", "UBND Phường Vân Phú"),
            ("H44.109", "UBND Phường Minh Phương"),
            ("H44.110", "UBND Phường Dữu Lâu"),
            ("H44.111", "UBND xã Thụy Vân"),
        ),
    ),
    (
        "H44.D02",
        "Huyện Lâm Thao",
        ("H44.32", "UBND huyện Lâm Thao"),
        (
            ("H44.105", "UBND xã Xuân Lũng"),
            ("H44.108", "UBND xã Bản Nguyên"),
            ("H44.112", "UBND thị trấn Lâm Thao"),
            ("H44.113", "UBND thị trấn Hùng Sơn"),
            ("H44.114", "UBND xã Sơn Vi"),
            ("H44.115", "UBND xã Cao Xá"),
            ("H44.116", "UBND xã Tiên Kiên"),
            ("H44.117", "UBND xã Thạch Sơn"),
        ),
    ),
    (
        "H44.D03",
        "Thị xã Phú Thọ",
        ("H44.33", "UBND Thị xã Phú Thọ"),
        (
            ("H44.118", "UBND Phường Âu Cơ"),
            ("H44.119", "UBND Phường Phong Châu"),
            ("H44.120", "UBND Phường Hùng Vương"),
            ("H44.121", "UBND Phường Thanh Vinh"),
            ("H44.122", "UBND xã Hà Lộc"),
            ("H44.123", "UBND xã Văn Lung"),
            ("H44.124", "UBND xã Thanh Minh"),
        ),
    ),
    (
        "H44.D04",
        "Huyện Cẩm Khê",
        ("H44.34", "UBND huyện Cẩm Khê"),
        (
            ("H44.125", "UBND thị trấn Cẩm Khê"),
            ("H44.126", "UBND xã Phú Khê"),
            ("H44.127", "UBND xã Tình Cương"),
            ("H44.128", "UBND xã Văn Bán"),
            ("H44.129", "UBND xã Tiên Lương"),
            ("H44.130", "UBND xã Hương Lung"),
            ("H44.131", "UBND xã Sơn Tình"),
            ("H44.137", "UBND xã Đồng Lương"),
        ),
    ),
    (
        "H44.D05",
        "Huyện Thanh Sơn",
        ("H44.35", "UBND huyện Thanh Sơn"),
        (
            ("H44.140", "UBND xã Sơn Hùng"),
            ("H44.141", "UBND xã Tất Thắng"),
            ("H44.142", "UBND xã Cự Đồng"),
            ("H44.143", "UBND xã Thắng Sơn"),
            ("H44.144", "UBND xã Võ Miếu"),
            ("H44.145", "UBND xã Địch Quả"),
            ("H44.146", "UBND xã Giáp Lai"),
            ("H44.147", "UBND xã Thanh Sơn"),
        ),
    ),
    (
        "H44.D06",
        "Huyện Đoan Hùng",
        ("H44.36", "UBND huyện Đoan Hùng"),
        (
            ("H44.150", "UBND thị trấn Đoan Hùng"),
            ("H44.151", "UBND xã Chí Đám"),
            ("H44.152", "UBND xã Sóc Đăng"),
            ("H44.153", "UBND xã Hùng Xuyên"),
            ("H44.154", "UBND xã Bằng Luân"),
            ("H44.155", "UBND xã Tây Cốc"),
            ("H44.156", "UBND xã Phú Lâm"),
            ("H44.157", "UBND xã Vân Du"),
        ),
    ),
)

# Monthly volume ranges at scale 1 by kind of commune-level unit: city wards are
# the big ones (the sample's Phường Việt Trì: ~3,000), rural communes small.
_COMMUNE_VOLUMES = {"ward": (900, 2400), "town": (400, 1500), "commune": (80, 1100)}
_DISTRICT_VOLUME = (300, 2000)
_BIGGEST = ("H44.100", (2500, 3000))  # the sample's largest unit
ON_TIME_RANGE = (0.63, 0.94)  # the sample's spread of unit on-time ratios
_HOTSPOT_ON_TIME = (0.63, 0.80)  # units of a land-hotspot district score lower
_OTHER_ON_TIME = (0.72, 0.94)
LAND_LATE_FACTOR = 1.6  # land is late-prone everywhere ...
HOTSPOT_LATE_FACTOR = 3.5  # ... and much more in a hotspot district
MAX_LATE = 0.92


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str
    level: Level
    district_code: str
    district_name: str
    offers: tuple[Offer, ...]
    volume_range: tuple[float, float]
    valid_from: date | None = None  # None: since always
    valid_to: date | None = None  # exclusive; None: still valid
    successor: str | None = None  # who took over on valid_to

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )

    @property
    def commune(self) -> tuple[str, str] | None:
        """The commune a unit's own dossiers belong to (a commune: itself)."""
        return (self.code, self.name) if self.level is Level.COMMUNE else None

    def history_entry(self) -> dict[str, Any]:
        """The versioned shape `schemas.units.UnitDirectory.from_rows` reads."""
        kind = {
            Level.PROVINCE: UnitType.DEPARTMENT,
            Level.DISTRICT: UnitType.DISTRICT_UNIT,
            Level.COMMUNE: UnitType.COMMUNE,
        }[self.level]
        entry: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "kind": kind.value,
            "area_code": self.district_code,
            "area_name": self.district_name,
        }
        for key in ("valid_from", "valid_to", "successor"):
            value = getattr(self, key)
            if value is not None:
                entry[key] = value if isinstance(value, str) else value.isoformat()
        return entry

    def directory_entry(self) -> dict[str, Any]:
        """The old directory shape (a list item; `schemas.units` still reads it)."""
        return {
            "agency_code": self.code,
            "agency_name": self.name,
            "level": self.level.value,
            "district_code": self.district_code,
            "district_name": self.district_name,
        }


@dataclass(frozen=True, slots=True)
class Profile:
    """What a unit drew from the seed."""

    monthly_volume: float  # dossiers per month at scale 1
    on_time_target: float
    online_share: float
    late: dict[str, float] = field(default_factory=dict)  # late probability by field code


def _commune_kind(name: str) -> str:
    if "Phường" in name:
        return "ward"
    return "town" if "thị trấn" in name else "commune"


def build_units() -> list[Unit]:
    """The province before 1 July 2025 (the units that ended then say so)."""
    units = [
        Unit(
            code,
            name,
            Level.PROVINCE,
            *PROVINCE_DISTRICT,
            DEPARTMENTS[code],
            volumes,
            **_ended(_MERGED_DEPARTMENTS.get(code, (None,))[0], code in _MERGED_DEPARTMENTS),
        )
        for code, name, volumes in _DEPARTMENTS
    ]
    successors = {old: new for new, _, _, olds in _merged_communes() for old in olds}
    for district_code, district_name, (code, name), communes in _DISTRICTS:
        where = (district_code, district_name)
        units.append(
            Unit(code, name, Level.DISTRICT, *where, DISTRICT, _DISTRICT_VOLUME, **_ended(None))
        )
        for c_code, c_name in communes:
            end = _ended(successors[c_code])
            units.append(
                Unit(c_code, c_name, Level.COMMUNE, *where, COMMUNE, _volumes(c_code), **end)
            )
    return units


def _volumes(code: str) -> tuple[float, float]:
    names = {c: n for *_, communes in _DISTRICTS for c, n in communes}
    return _BIGGEST[1] if code == _BIGGEST[0] else _COMMUNE_VOLUMES[_commune_kind(names[code])]


def _ended(successor: str | None, ends: bool = True) -> dict[str, Any]:
    return {"valid_to": REFORM_DATE, "successor": successor} if ends else {}


# Departments merged on the reform: old code → (new code, new name).
_MERGED_DEPARTMENTS = {
    "H44.09": ("H44.20", "Sở Xây dựng"),
    "H44.10": ("H44.21", "Sở Tài chính"),
    "H44.12": ("H44.22", "Sở Nông nghiệp và Môi trường"),
    "H44.13": ("H44.23", "Văn phòng Ủy ban nhân dân tỉnh"),
}
MERGE_SIZE = 3  # old communes per new one (the reform cut communes by about two thirds)

# Areas merged in from the neighbouring provinces on 1 July 2025 (their former
# districts), each with its communes and wards.
_JOINED_AREAS = (
    ("H44.D11", "Thành phố Vĩnh Yên", "Phường Vĩnh Phúc, Phường Vĩnh Yên, Phường Liên Bảo, "
     "Phường Hội Hợp, Phường Định Trung, Phường Đồng Tâm, Phường Khai Quang, Phường Tích Sơn, "
     "Xã Thanh Trù, Xã Thanh Vân"),
    ("H44.D12", "Thành phố Phúc Yên", "Phường Phúc Yên, Phường Xuân Hòa, Phường Trưng Nhị, "
     "Phường Hùng Vương, Phường Đồng Xuân, Xã Ngọc Thanh, Xã Cao Minh, Xã Tiền Châu, "
     "Xã Nam Viêm, Xã Phúc Thắng"),
    ("H44.D13", "Huyện Vĩnh Tường", "Xã Vĩnh Tường, Xã Thổ Tang, Xã Vĩnh Hưng, Xã Vĩnh An, "
     "Xã Vĩnh Phú, Xã Vĩnh Thành, Xã Tam Phúc, Xã Tân Tiến, Xã Tứ Trưng, Xã Bình Dương"),
    ("H44.D14", "Huyện Yên Lạc", "Xã Yên Lạc, Xã Tề Lỗ, Xã Liên Châu, Xã Tam Hồng, Xã Nguyệt Đức, "
     "Xã Bình Định, Xã Đồng Cương, Xã Trung Kiên, Xã Hồng Châu, Xã Văn Tiến"),
    ("H44.D15", "Huyện Tam Dương", "Xã Tam Dương, Xã Hội Thịnh, Xã Hoàng An, Xã Tam Dương Bắc, "
     "Xã Kim Long, Xã Hướng Đạo, Xã Đạo Tú, Xã An Hòa, Xã Thanh Vân Hạ, Xã Duy Phiên"),
    ("H44.D16", "Thành phố Hòa Bình", "Phường Hòa Bình, Phường Kỳ Sơn, Phường Tân Hòa, "
     "Phường Thống Nhất, Phường Phương Lâm, Phường Đồng Tiến, Phường Hữu Nghị, Xã Hòa Lạc, "
     "Xã Độc Lập, Xã Mông Hóa"),
    ("H44.D17", "Huyện Lương Sơn", "Xã Lương Sơn, Xã Cao Dương, Xã Liên Sơn, Xã Nhuận Trạch, "
     "Xã Cư Yên, Xã Thanh Cao, Xã Hòa Sơn, Xã Lâm Sơn, Xã Tân Vinh, Xã Cao Sơn"),
    ("H44.D18", "Huyện Mai Châu", "Xã Mai Châu, Xã Mai Hạ, Xã Bao La, Xã Pà Cò, Xã Tân Mai, "
     "Xã Vân Sơn, Xã Săm Khóe, Xã Thung Khe, Xã Chiềng Châu, Xã Nà Phòn"),
)  # fmt: skip
_JOINED_VOLUMES = {"ward": (400, 1500), "town": (200, 900), "commune": (60, 700)}
TWO_TIER_OFFERS = COMMUNE + DISTRICT  # communes took over the districts' procedures (land)


def _merged_communes() -> list[tuple[str, str, tuple[str, str], tuple[str, ...]]]:
    """(new code, new name, area, old codes): each former district's communes,
    MERGE_SIZE at a time, named after the first of them."""
    merged = []
    number = 200
    for district_code, district_name, _, communes in _DISTRICTS:
        groups = [communes[i : i + MERGE_SIZE] for i in range(0, len(communes), MERGE_SIZE)]
        if len(groups) > 1 and len(groups[-1]) == 1:  # no commune stays alone
            groups = [*groups[:-2], groups[-2] + groups[-1]]
        for group in groups:
            merged.append(
                (
                    f"H44.{number}",
                    group[0][1],
                    (district_code, district_name),
                    tuple(code for code, _ in group),
                )
            )
            number += 1
    return merged


def build_two_tier_units() -> list[Unit]:
    """The province from 1 July 2025: departments and communes, no districts."""
    since = {"valid_from": REFORM_DATE}
    volumes = {code: v for code, _, v in _DEPARTMENTS}
    units = [
        Unit(new, name, Level.PROVINCE, *PROVINCE_DISTRICT, DEPARTMENTS[old], volumes[old], **since)
        for old, (new, name) in _MERGED_DEPARTMENTS.items()
    ]
    merged = _merged_communes()
    groups = Counter(area for _, _, area, _ in merged)
    for code, name, area, olds in merged:
        volume = max((_volumes(old) for old in olds), key=lambda v: v[1])
        if _BIGGEST[0] not in olds:  # the sample's biggest ward stays the biggest unit
            # the biggest predecessor's volume and a share of the dissolved district's
            low, high = _DISTRICT_VOLUME
            volume = (volume[0] + low / groups[area], volume[1] + high / groups[area])
        units.append(Unit(code, name, Level.COMMUNE, *area, TWO_TIER_OFFERS, volume, **since))
    number = 300
    for area_code, area_name, names in _JOINED_AREAS:
        for name in names.split(", "):
            kind = _commune_kind(name)
            units.append(
                Unit(
                    f"H44.{number}",
                    f"UBND {name}",
                    Level.COMMUNE,
                    area_code,
                    area_name,
                    TWO_TIER_OFFERS,
                    _JOINED_VOLUMES[kind],
                    **since,
                )
            )
            number += 1
    return units


def all_units() -> list[Unit]:
    """Every unit of either shape (codes never repeat across the reform)."""
    return build_units() + build_two_tier_units()


def _log_uniform(rnd: random.Random, low: float, high: float) -> float:
    return math.exp(rnd.uniform(math.log(low), math.log(high)))


def late_by_field(unit: Unit, target: float, hotspot: bool) -> dict[str, float]:
    """Late probability per field so that the unit's mix averages 1 - target.

    With land share s and land k times as late-prone as the rest:
    s·k·p + (1 - s)·p = 1 - target.
    """
    total = sum(w for _, w in unit.offers)
    land = sum(w for p, w in unit.offers if p.land) / total
    k = HOTSPOT_LATE_FACTOR if hotspot else LAND_LATE_FACTOR
    base = (1 - target) / (land * k + 1 - land)
    fields = {p.field_code for p, _ in unit.offers}
    return {f: min(MAX_LATE, base * k if f == LAND else base) for f in sorted(fields)}


def draw_profiles(units: Sequence[Unit], knobs: Knobs) -> dict[str, Profile]:
    rnd = random.Random(f"{knobs.seed}:province")
    profiles = {}
    for unit in units:
        hotspot = unit.level is not Level.PROVINCE and unit.district_code in knobs.land_hotspots
        band = ON_TIME_RANGE if unit.level is Level.PROVINCE else None
        band = band or (_HOTSPOT_ON_TIME if hotspot else _OTHER_ON_TIME)
        target = rnd.uniform(*band)
        volume = _log_uniform(rnd, *unit.volume_range)
        # each unit's direct share scatters around the province's (mean = the knob)
        online = min(1.0, max(0.0, 1 - (1 - knobs.online_share) * rnd.uniform(0.25, 1.75)))
        late = late_by_field(unit, target, hotspot)
        profiles[unit.code] = Profile(volume, target, online, late)
    return profiles


def check_hotspots(knobs: Knobs) -> None:
    """Raise ValueError naming a land-hotspot district (or area) the province does not have."""
    known = {district for district, *_ in _DISTRICTS} | {area for area, *_ in _JOINED_AREAS}
    unknown = sorted(set(knobs.land_hotspots) - known)
    if unknown:
        raise ValueError(f"unknown district(s) {unknown}; known: {sorted(known)}")


@dataclass(frozen=True)
class Province:
    units: tuple[Unit, ...]
    profiles: dict[str, Profile]

    @classmethod
    def build(cls, knobs: Knobs) -> Province:
        check_hotspots(knobs)
        units = all_units()  # the old ones first: their draws are as before the reform
        return cls(tuple(units), draw_profiles(units, knobs))

    def units_on(self, day: date) -> list[Unit]:
        """The units that receive dossiers on `day` (the shape of that day)."""
        return [unit for unit in self.units if unit.valid_on(day)]

    def directory(self) -> list[dict[str, Any]]:
        """Every unit in the old directory shape (`units.json`; valid always)."""
        return [unit.directory_entry() for unit in self.units]

    def unit_history(self) -> UnitDirectory:
        """The versioned unit directory across the reform (EVENTS.md §4)."""
        return UnitDirectory.from_rows([unit.history_entry() for unit in self.units])

    @property
    def districts(self) -> dict[str, str]:
        return {u.district_code: u.district_name for u in self.units}
