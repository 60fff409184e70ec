"""Values as the portal writes them (times, codes, names, flags, statuses) → ours."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from schemas.events import (
    LOCAL_TZ,
    Channel,
    EventType,
    OnlineLevel,
)

DEFAULT_SOURCE = "dongbo"
TIME_FORMAT = "%Y%m%d%H%M%S"
UNMAPPED_DISTRICT_CODE = "unmapped"
UNMAPPED_DISTRICT_NAME = "Chưa có trong danh mục đơn vị"
HISTORY_KEY = "_history"  # bookkeeping key of a stored record; never read from input
MAX_DOSSIER_ID = 150  # leaves room for ":supplement_received:NN" within an event id's 200
MAX_CODE = 200
MAX_NAME = 500  # canonical Text limit; names are cosmetic, so longer ones are cut


class Status(IntEnum):
    """TrangThaiHoSo."""

    NEW = 1
    RECEIVED = 2
    REFUSED = 3  # not received at the counter: never a dossier
    PROCESSING = 4
    SUPPLEMENT = 5
    PAYMENT = 6
    WITHDRAWN = 7
    STOPPED = 8
    RESOLVED = 9
    RETURNED = 10


NOT_RECEIVED = frozenset({Status.NEW, Status.REFUSED})
FINISHED = frozenset({Status.WITHDRAWN, Status.STOPPED, Status.RESOLVED, Status.RETURNED})
# statuses that show a pending request was answered (processing went on)
ANSWERS_SUPPLEMENT = frozenset(
    {Status.PROCESSING, Status.PAYMENT, Status.RESOLVED, Status.RETURNED}
)
ANSWERS_PAYMENT = frozenset(
    {Status.PROCESSING, Status.SUPPLEMENT, Status.RESOLVED, Status.RETURNED}
)
FINISHING = frozenset(
    {EventType.RESOLVED, EventType.RETURNED, EventType.REJECTED, EventType.WITHDRAWN}
)


# Portal text → its time, for the texts seen lately: a dossier's records repeat
# its times (every state carries NgayTiepNhan, NgayHenTra...), and a datetime
# is immutable, so one can be shared. Cleared when full (a long import).
_TIMES: dict[str, datetime] = {}
_TIMES_KEPT = 100_000


def _portal_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if type(value) is str:
        known = _TIMES.get(value)
        if known is None:
            known = _read_time(value)
            if len(_TIMES) >= _TIMES_KEPT:
                _TIMES.clear()
            _TIMES[value] = known
        return known
    return _read_time(value)


def _read_time(value: Any) -> datetime:
    text = value.strip() if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"\d{14}", text):
        raise ValueError("expected yyyyMMddHHmmss local time")
    try:  # TIME_FORMAT's fields by position: strptime cost ~17 µs a value
        if not text.isascii():  # other scripts' digits match \d; strptime refused them
            raise ValueError(text)
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:14]), tzinfo=LOCAL_TZ,
        )  # fmt: skip
    except ValueError:
        raise ValueError("not a real date-time") from None


# An aware time → its portal text: a stored record writes its dossier's times
# again and again; equal aware times are one instant, so one local text.
_TEXTS: dict[datetime, str] = {}


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = _TEXTS.get(value) if value.tzinfo is not None else None
    if text is None:
        text = value.astimezone(LOCAL_TZ).strftime(TIME_FORMAT)
        if value.tzinfo is not None:  # a naive one is the system's local time: not kept
            if len(_TEXTS) >= _TIMES_KEPT:
                _TEXTS.clear()
            _TEXTS[value] = text
    return text


def _integer(value: Any) -> int | None:
    """An int given as a JSON number or numeric text; None if it is neither."""
    if type(value) is int:  # the usual case first (a bool is not one here)
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", value):
        return int(value)
    return None


_STATUSES = {s.value: s for s in Status}  # Status(n) costs a call through the enum machinery


def status_of(value: Any) -> Status:
    if type(value) is int and value in _STATUSES:  # the usual case first
        return _STATUSES[value]
    number = _integer(value)
    if number is None or not 1 <= number <= 10:
        raise ValueError("expected a status 1-10")
    return Status(number)


CHANNELS = {1: Channel.DIRECT, 2: Channel.ONLINE, 3: Channel.POSTAL}


def channel_of(value: Any) -> Channel:
    if value is None or value == "":
        return Channel.DIRECT  # EVENTS.md §2: null → direct
    channel = CHANNELS.get(_integer(value) or 0)
    if channel is None:
        raise ValueError("expected 1 (direct), 2 (online) or 3 (postal)")
    return channel


def plain_text(text: str) -> str:
    """Lower case without Vietnamese diacritics, single spaces."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


_LEVELS: dict[str, OnlineLevel] = {}  # MucDoDVC's text → level: a province uses a few


def online_level_of(value: Any) -> OnlineLevel | None:
    if value is None or value == "":
        return None
    text = str(value)
    level = _LEVELS.get(text)
    if level is None:
        level = _online_level(text)
        if len(_LEVELS) < 1000 and len(text) <= 100:
            _LEVELS[text] = level
    return level


def _online_level(text: str) -> OnlineLevel:
    plain = plain_text(text)
    digits = re.sub(r"\D", "", plain)  # "4", "Mức độ 4"
    if "toan trinh" in plain or plain == "full" or digits == "4":
        return OnlineLevel.FULL
    if "mot phan" in plain or plain == "partial" or digits == "3":
        return OnlineLevel.PARTIAL
    return OnlineLevel.NONE


def flag_of(*yes: int) -> Any:
    def parse(value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        return _integer(value) in yes

    return parse


def fee_amount_of(value: Any) -> bool | None:
    """PhiLePhi: an amount (or a list of amounts / {SoTien}); True when positive."""
    if value is None or value == "":
        return None
    items = value if isinstance(value, list) else [value]
    amounts = [i.get("SoTien") if isinstance(i, Mapping) else i for i in items]
    try:
        return any(float(a) > 0 for a in amounts if a not in (None, ""))
    except (TypeError, ValueError):
        raise ValueError("expected a fee amount") from None


def _code(value: Any) -> str | None:
    text = _name(value)
    if text is not None and len(text) > MAX_CODE:
        raise ValueError(f"longer than {MAX_CODE} characters")
    return text


def _name(value: Any) -> str | None:
    if type(value) is str:  # the usual case, without the checks below
        return value.strip()[:MAX_NAME] or None
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value.strip()[:MAX_NAME] or None


def dossier_id_of(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a dossier code like 'H44.100-240524-0001'")
    code = value.strip()
    if len(code) > MAX_DOSSIER_ID:
        raise ValueError(f"longer than {MAX_DOSSIER_ID} characters")
    if not code.split("-", 1)[0] or "-" not in code:
        raise ValueError("no unit code before the first '-'")
    return code


# Each type says what it accepts as input: the ingest endpoint's OpenAPI
# document is generated from the record model (ingest/serve.py).
_TEXT = WithJsonSchema({"type": ["string", "null"]})
PortalTime = Annotated[
    datetime | None,
    BeforeValidator(_portal_time),
    WithJsonSchema(
        {
            "type": ["string", "null"],
            "pattern": r"^(\d{14})?$",
            "description": "yyyyMMddHHmmss, local time; empty or null = absent.",
        }
    ),
]
Code = Annotated[str | None, BeforeValidator(_code), _TEXT]
Name = Annotated[str | None, BeforeValidator(_name), _TEXT]
Flag = Annotated[
    bool | None,
    BeforeValidator(flag_of(1)),
    WithJsonSchema({"type": ["integer", "string", "boolean", "null"]}),
]


def local_time(moment: datetime) -> datetime:
    """seen_at without an offset is local time, as everywhere in EVENTS.md."""
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


# -- the 766 scorecard's fields (METRICS.md §7) --------------------------------------

RESULT_LINK = "DuongDanTepTinKetQua"  # read for the flag, never kept (schemas/contract.py)


def _stated(value: Any) -> bool:
    """A value that says something: not null, not blank text, not an empty list."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | Mapping):
        return bool(value)
    return True


def electronic_result_of(data: Mapping[str, Any]) -> bool | None:
    """MaKetQua and DuongDanTepTinKetQua both there and non-empty: an electronic
    result was issued; either one empty: not; both absent or null: not stated."""
    if data.get("MaKetQua") is None and data.get(RESULT_LINK) is None:
        return None
    return _stated(data.get("MaKetQua")) and _stated(data.get(RESULT_LINK))


# Keys of a component (TaiLieuNop item) that point at an attached file: TepDinhKem,
# TepDinhKemId, TenTepDinhKem, DuongDanTepTin, File, Url... (normalised key contains one)
_FILE_TOKENS = ("tep", "file", "duongdan", "url")
_NON_ALNUM = re.compile(r"[^0-9a-z]")


_FILE_KEYS: dict[str, bool] = {}  # component key → names a file: components repeat keys


def _names_file(key: Any) -> bool:
    names = _FILE_KEYS.get(key) if type(key) is str else None
    if names is None:
        names = any(t in _NON_ALNUM.sub("", str(key).lower()) for t in _FILE_TOKENS)
        if type(key) is str and len(_FILE_KEYS) < 10_000 and len(key) <= 200:
            _FILE_KEYS[key] = names
    return names


# a component's keys → those naming a file: components repeat a few shapes
_FILE_KEYS_OF: dict[tuple[Any, ...], tuple[Any, ...]] = {}


def _file_keys(keys: tuple[Any, ...]) -> tuple[Any, ...]:
    known = _FILE_KEYS_OF.get(keys)
    if known is None:
        known = tuple(k for k in keys if _names_file(k))
        if len(_FILE_KEYS_OF) < 4096 and len(keys) <= 100:  # bounded: keys are input
            _FILE_KEYS_OF[keys] = known
    return known


def _has_file(component: Mapping[str, Any]) -> bool:
    return any(
        _stated(value) and value is not False and value != 0
        for value in map(component.__getitem__, _file_keys(tuple(component)))
    )


def _yes(value: Any) -> bool:
    if type(value) is int:  # the usual 0 / 1, without _integer's checks
        return value == 1
    if value is None:  # a flag the component leaves out
        return False
    return value is True or _integer(value) == 1


def component_flags(value: Any) -> tuple[bool, bool, bool] | None:
    """TaiLieuNop → (a component digitized: it has a file or DuocSoHoa = 1,
    a component reuses digitized data: DuocSoHoa = 1, a component came from
    the citizen's data store: DuocLayTuKhoDMQG = 1); None when absent.

    A component marked deleted (IsDeleted / DaXoa true) does not count; one
    object instead of a list is one component. Only these flags are kept."""
    if value is None or value == "":
        return None
    items = value if type(value) is list else [value] if isinstance(value, Mapping) else value
    if not isinstance(items, list):
        raise ValueError("expected a list of components")
    has_file = digitized = personal_store = False
    for item in items:
        if type(item) is not dict and not isinstance(item, Mapping):  # ABC check: rare types
            raise ValueError("expected each component as an object")
        if _yes(item.get("IsDeleted")) or _yes(item.get("DaXoa")):
            continue
        reused = _yes(item.get("DuocSoHoa"))
        has_file = has_file or reused or _has_file(item)
        digitized = digitized or reused
        personal_store = personal_store or _yes(item.get("DuocLayTuKhoDMQG"))
    return has_file, digitized, personal_store
