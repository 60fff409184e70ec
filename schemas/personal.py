"""Personal-data scrubber: applicant data never passes ingest (EVENTS.md §1-2).

A block-list, and only the second line: accepted input passes through models
that keep their declared fields alone, and a rejected input keeps only the
contract's fields (the allow-list in schemas/contract.py, schemas/redact.py).
This list still drops personal keys before anything validates a record, and
refuses a table mapping that names a personal column (ingest/tables.py).

Keys are compared after normalisation (lower case, letters and digits only),
so `ChuHoSo`, `chu_ho_so` and `CHU-HO-SO` are the same key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from itertools import compress
from typing import Any

# Exact keys (normalised) that carry personal data.
_EXACT = frozenset(
    {
        "chuhoso",
        "madoituong",
        "sodienthoai",
        "dienthoai",
        "email",
        "diachi",
        "ngaysinh",
        "hoten",
        "hovaten",
        "tencongdan",
        "tennguoinop",
        "nguoinop",
        "socmnd",
        "cmnd",
        "cccd",
        "socccd",
        "sodinhdanh",
        "madinhdanh",
        "sohochieu",
        "sogiayto",
        "sdt",
        "name",
        "fullname",
        "applicant",
        "applicantname",
        "phone",
        "phonenumber",
        "mobile",
        "address",
        "birthdate",
        "dateofbirth",
        "dob",
        "idnumber",
        "nationalid",
        "citizenid",
        "passport",
        "socancuoc",
        "cancuoc",
        "nguoidaidien",
        "masothue",
        "tennguoiyeucau",
        "nguoiyeucau",
        "sobhxh",
        "bhxh",
        "taxcode",
    }
)
# Tokens that mark a personal key wherever they stand in it: families such as
# DiaChiThuongTru, HoTenChuHoSo, DienThoaiDiDong, MobilePhone, applicant_email.
# None of them occurs inside a field the project reads (tested).
_TOKENS = (
    "chuhoso",
    "nguoinop",
    "hoten",
    "hovaten",
    "congdan",
    "diachi",
    "email",
    "dienthoai",
    "ngaysinh",
    "cccd",
    "cmnd",
    "dinhdanh",
    "madoituong",
    "hochieu",
    "giayto",  # SoGiayTo, GiayToTuyThan: identity papers
    "cancuoc",  # SoCanCuoc: the citizen identity card
    "daidien",  # NguoiDaiDien: the representative, a person
    "masothue",  # a household business's tax code identifies its owner
    "nguoiyeucau",  # TenNguoiYeuCau: the requester
    "bhxh",  # SoBHXH: social insurance number
    "applicant",
    "address",
    "phone",
    "birth",
    "passport",
)
_NON_ALNUM = re.compile(r"[^0-9a-z]")
_SCALARS = frozenset({str, int, float, bool, type(None)})


@lru_cache(maxsize=4096)  # messages repeat the same few keys
def is_personal_key(key: str) -> bool:
    norm = _NON_ALNUM.sub("", key.lower())
    return norm in _EXACT or any(token in norm for token in _TOKENS)


# key tuples (a message's keys, in order) → which of them to keep (None: all):
# messages repeat a few shapes, so most are then judged by one lookup, and
# the kept ones copied without a Python loop
_KEPT_KEYS: dict[tuple, tuple[bool, ...] | None] = {}


def _kept(keys: tuple) -> tuple[bool, ...] | None:
    """Per key, whether it is kept; None when every key is."""
    try:
        return _KEPT_KEYS[keys]
    except KeyError:
        pass
    mask = tuple(not is_personal_key(str(k)) for k in keys)
    kept = None if all(mask) else mask
    # bounded: a message's keys are input (a few MB of odd keys stay out)
    if len(_KEPT_KEYS) < 4096 and sum(len(str(k)) for k in keys) <= 2000:
        _KEPT_KEYS[keys] = kept
    return kept


def scrub_personal_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` without personal keys, at any depth (lists included)."""
    keys = tuple(data)
    kept = _kept(keys)
    items = data.items() if kept is None else list(compress(data.items(), kept))
    scrubbed = dict(items)
    # only the nested values (a time_limit, components) need a look; a plain
    # loop is about twice as fast here as chained map/compress (process_cpu.py)
    for k, v in items:
        if type(v) not in _SCALARS:
            scrubbed[k] = _scrub_value(v)
    return scrubbed


def _scrub_value(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:  # the common cases, without ABC checks
        return value
    if kind is dict:
        return scrub_personal_data(value)
    if kind is list:
        return [_scrub_value(v) for v in value]
    if isinstance(value, Mapping):
        return scrub_personal_data(value)
    if isinstance(value, list):
        return [_scrub_value(v) for v in value]
    return value
