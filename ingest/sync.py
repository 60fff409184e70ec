"""National portal sync records (DongBoHoSoMC, EVENTS.md §2) → canonical dossier events.

Provincial one-stop systems push each dossier's *current state*. This module
turns the changes between successive records of one dossier into the
canonical events of EVENTS.md §1. It is pure: no broker, no database, no
clock (the caller says when it observed a record: `seen_at`).

Decisions (each one is tested in tests/unit/test_sync.py):

Reading a record (`SyncRecord`, `parse_records`)
- Personal keys are dropped (`scrub_personal_data`) before validation, and the
  model keeps no unknown key, so nothing personal can reach an event or the
  stored record.
- Times are `yyyyMMddHHmmss` local time (Asia/Ho_Chi_Minh); "" or null means
  absent; anything else is an error naming the field.
- A record at status 2 or later (except 3) must carry NgayTiepNhan, MaTTHC and
  MaLinhVuc: a `received` event cannot exist without them, and inventing a
  receipt time would corrupt every rate. TenLinhVuc falls back to MaLinhVuc.
  MaHoSo must start with a unit code (`H44.100-240524-0001` → `H44.100`).
- KenhThucHien: 1 direct, 2 online, 3 postal, null/absent → direct, other → error.
- MucDoDVC (how the procedure is offered online, in Decree 42/2022 terms):
  4 or "toàn trình" → full; 3 or "một phần" → partial; any other value →
  none; absent → not stated (the event leaves online_level out).
- Fee: CoPhi (1/true or 0/false) when present; else PhiLePhi, an amount
  (> 0 means a fee); else a dossier paid online has a fee (the online payment
  rate divides by fee dossiers); else not stated.
- DuocThanhToanTrucTuyen 1 or 2 → paid online, another value → not;
  HoSoCoThanhPhanSoHoa 1 → digitized, another value → not; absent → not stated.
  The flags ride on every event a record yields (the stream notes the first
  moment each one was reported true).

Attribution (`UnitDirectory`)
- The unit code is MaHoSo's prefix. A unit missing from the directory still
  converts, so its dossiers count in the province's totals: agency_name =
  DonViXuLy (else the code); level inferred from that name (the first unit
  word: xã/phường/thị trấn → commune; huyện/quận/thị xã/thành phố →
  district; sở/tỉnh or nothing recognisable → province); district =
  `UNMAPPED_DISTRICT_CODE`, one visible bucket that tells an operator to
  complete the directory (`Unit.mapped` is False for such units).

Events (`record_events`, `advance`, `convert`)
- Event id = f"{MaHoSo}:{type}:{n}": n = 0 for once-only events, the round's
  1-based position in DanhSachHoSoBoSung for supplements (a status-5 round not
  listed yet is number len(list) + 1), 1 for payment (the record does not
  number payment rounds). No source and no time in the id, so a re-sent
  record or the same state from a second source maps to the ids already used.
  Consequence: a system that does not list its supplement rounds shows at most
  one round, as the national portal itself counts it (766: 2+ rounds = late);
  at most one payment stop is derived per dossier.
- Each event is derived at most once per dossier: the stored record carries
  a `SyncHistory` (keys already derived, latest observation time). The first
  derivation wins; a later record does not correct an emitted event's time.
- received: at NgayTiepNhan; due_at = the first supplement round's
  NgayHenTraTruoc (the due before any shift), else NgayHenTra, else none (no
  time limit either: such a dossier can only be late by the 2+ rounds rule).
- Missing times, never "now": resolved/rejected/withdrawn at NgayKetThucXuLy,
  else NgayTra, else seen_at; returned at NgayTra, else seen_at (and a status-10
  record yields resolved only when NgayKetThucXuLy is set). A step shown by
  status alone (a supplement or payment request, a supplement received with no
  NgayTiepNhanBoSung) is placed at the record's end time if the record is
  finished, else at seen_at. A round with a receipt but no request time is
  requested at its receipt (counted, no clock stop). No step precedes the
  receipt and no supplement receipt precedes its request.
- Status jumps yield the missing steps: a pending supplement (payment) request
  is answered when a later record shows 4, 6 (5), 9 or 10; 7 and 8 finish the
  dossier while it waits.
- Backwards: once a finishing event was derived, a record adds only resolved
  and returned (9 → 10, or a resolved time learnt later) and supplement rounds
  with their own request times; its status never yields clock steps or
  another outcome (7/8 after a finish are ignored). Statuses 1 and 3 yield
  nothing at any time.
- NgayDongBo (an extension, not in EVENTS.md §2), when a record carries it,
  is when the source took the record: the record counts as observed then
  (capped at seen_at), so a replayed archive keeps each record's time.
- A record observed before the latest one applied for the dossier (seen_at
  earlier) is stale and ignored, so a replay must carry its original
  observation times (push arrival, poll time, export timestamp), not the
  ingest time. Two sources that lag each other are applied in arrival order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)

from schemas.events import (
    LOCAL_TZ,
    Channel,
    CorrectedField,
    DossierEvent,
    EventType,
    Level,
    OnlineLevel,
    describe_errors,
    json_problem,
)
from schemas.personal import scrub_personal_data

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


# --- portal values -------------------------------------------------------------


def _portal_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is None or not re.fullmatch(r"\d{14}", text):
        raise ValueError("expected yyyyMMddHHmmss local time")
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise ValueError("not a real date-time") from None


def _format_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(LOCAL_TZ).strftime(TIME_FORMAT)


def _integer(value: Any) -> int | None:
    """An int given as a JSON number or numeric text; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", value):
        return int(value)
    return None


def _status(value: Any) -> Status:
    number = _integer(value)
    if number is None or not 1 <= number <= 10:
        raise ValueError("expected a status 1-10")
    return Status(number)


_CHANNELS = {1: Channel.DIRECT, 2: Channel.ONLINE, 3: Channel.POSTAL}


def _channel(value: Any) -> Channel:
    if value is None or value == "":
        return Channel.DIRECT  # EVENTS.md §2: null → direct
    channel = _CHANNELS.get(_integer(value) or 0)
    if channel is None:
        raise ValueError("expected 1 (direct), 2 (online) or 3 (postal)")
    return channel


def plain_text(text: str) -> str:
    """Lower case without Vietnamese diacritics, single spaces."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


def _online_level(value: Any) -> OnlineLevel | None:
    if value is None or value == "":
        return None
    plain = plain_text(str(value))
    digits = re.sub(r"\D", "", plain)  # "4", "Mức độ 4"
    if "toan trinh" in plain or plain == "full" or digits == "4":
        return OnlineLevel.FULL
    if "mot phan" in plain or plain == "partial" or digits == "3":
        return OnlineLevel.PARTIAL
    return OnlineLevel.NONE


def _flag_of(*yes: int) -> Any:
    def parse(value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        return _integer(value) in yes

    return parse


def _fee_amount(value: Any) -> bool | None:
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
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value.strip()[:MAX_NAME] or None


def _dossier_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a dossier code like 'H44.100-240524-0001'")
    code = value.strip()
    if len(code) > MAX_DOSSIER_ID:
        raise ValueError(f"longer than {MAX_DOSSIER_ID} characters")
    if not code.split("-", 1)[0] or "-" not in code:
        raise ValueError("no unit code before the first '-'")
    return code


PortalTime = Annotated[datetime | None, BeforeValidator(_portal_time)]
Code = Annotated[str | None, BeforeValidator(_code)]
Name = Annotated[str | None, BeforeValidator(_name)]
Flag = Annotated[bool | None, BeforeValidator(_flag_of(1))]


# --- the record ------------------------------------------------------------------


class SupplementRound(BaseModel):
    """One DanhSachHoSoBoSung entry (yêu cầu bổ sung); other keys are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    requested_at: PortalTime = Field(None, alias="NgayYeuCauBoSung")
    old_due: PortalTime = Field(None, alias="NgayHenTraTruoc")
    new_due: PortalTime = Field(None, alias="NgayHenTraMoi")
    supplied_at: PortalTime = Field(None, alias="NgayTiepNhanBoSung")

    @field_serializer("requested_at", "old_due", "new_due", "supplied_at")
    def _time(self, value: datetime | None) -> str | None:
        return _format_time(value)


class SyncHistory(BaseModel):
    """What earlier records of the dossier already yielded (kept with the stored record)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: frozenset[str] = frozenset()  # "type:n" keys already derived
    seen_at: AwareDatetime | None = None  # latest observation applied

    @field_serializer("steps")
    def _sorted(self, steps: frozenset[str]) -> list[str]:
        return sorted(steps)  # stable JSON for a durable store

    @property
    def finished(self) -> bool:
        return any(key.split(":", 1)[0] in FINISHING for key in self.steps)

    def pending(self, requested: EventType, received: EventType) -> list[int]:
        """Round numbers requested and not yet answered."""
        rounds = {int(k.rsplit(":", 1)[1]) for k in self.steps if k.startswith(f"{requested}:")}
        return sorted(n for n in rounds if f"{received}:{n}" not in self.steps)


class SyncRecord(BaseModel):
    """A DongBoHoSoMC record, validated; portal keys are the aliases."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    dossier_id: Annotated[str, BeforeValidator(_dossier_id)] = Field(alias="MaHoSo")
    procedure_code: Code = Field(None, alias="MaTTHC")
    procedure_name: Name = Field(None, alias="TenTTHC")
    field_code: Code = Field(None, alias="MaLinhVuc")
    field_name: Name = Field(None, alias="TenLinhVuc")
    unit_name: Name = Field(None, alias="DonViXuLy")
    channel: Annotated[Channel, BeforeValidator(_channel)] = Field(
        Channel.DIRECT, alias="KenhThucHien"
    )
    received_at: PortalTime = Field(None, alias="NgayTiepNhan")
    due_at: PortalTime = Field(None, alias="NgayHenTra")
    processed_at: PortalTime = Field(None, alias="NgayKetThucXuLy")
    returned_at: PortalTime = Field(None, alias="NgayTra")
    # not in EVENTS.md §2: when the source took the record (archives, the simulator)
    synced_at: PortalTime = Field(None, alias="NgayDongBo")
    status: Annotated[Status, BeforeValidator(_status)] = Field(alias="TrangThaiHoSo")
    supplements: Annotated[
        tuple[SupplementRound, ...], BeforeValidator(lambda v: () if v is None else v)
    ] = Field((), alias="DanhSachHoSoBoSung")
    paid_online: Annotated[bool | None, BeforeValidator(_flag_of(1, 2))] = Field(
        None, alias="DuocThanhToanTrucTuyen"
    )
    digitized: Flag = Field(None, alias="HoSoCoThanhPhanSoHoa")
    online_level: Annotated[OnlineLevel | None, BeforeValidator(_online_level)] = Field(
        None, alias="MucDoDVC"
    )
    fee_flag: Flag = Field(None, alias="CoPhi")
    fee_amount: Annotated[bool | None, BeforeValidator(_fee_amount)] = Field(None, alias="PhiLePhi")
    history: SyncHistory = Field(default_factory=SyncHistory, alias=HISTORY_KEY)

    @model_validator(mode="after")
    def _received_is_complete(self) -> SyncRecord:
        if self.is_received:
            needed = {
                "NgayTiepNhan": self.received_at,
                "MaTTHC": self.procedure_code,
                "MaLinhVuc": self.field_code,
            }
            missing = [key for key, value in needed.items() if value is None]
            if missing:
                raise ValueError(
                    f"{', '.join(missing)}: required when TrangThaiHoSo is {int(self.status)}"
                )
        return self

    @property
    def agency_code(self) -> str:
        return self.dossier_id.split("-", 1)[0]

    @property
    def is_received(self) -> bool:
        return self.status not in NOT_RECEIVED

    @property
    def fee_due(self) -> bool | None:
        for stated in (self.fee_flag, self.fee_amount):
            if stated is not None:
                return stated
        return True if self.paid_online else None

    @property
    def original_due(self) -> datetime | None:
        """The due before any supplement shift (NgayHenTra may already be shifted)."""
        first = self.supplements[0].old_due if self.supplements else None
        return first or self.due_at

    def end_time(self, seen_at: datetime) -> datetime:
        return self.processed_at or self.returned_at or seen_at

    # Portal-shaped serialisation, so a stored record reads back with from_json.
    @field_serializer("received_at", "due_at", "processed_at", "returned_at", "synced_at")
    def _time(self, value: datetime | None) -> str | None:
        return _format_time(value)

    @field_serializer("channel")
    def _channel_code(self, value: Channel) -> int:
        return {c: n for n, c in _CHANNELS.items()}[value]

    @field_serializer("online_level")
    def _level_code(self, value: OnlineLevel | None) -> int | None:
        return None if value is None else {"full": 4, "partial": 3, "none": 1}[value.value]

    @field_serializer("paid_online", "digitized", "fee_flag", "fee_amount")
    def _flag_code(self, value: bool | None) -> int | None:
        return None if value is None else int(value)

    def to_json(self) -> bytes:
        """The record with its history, for a durable store (`from_json` reads it back)."""
        return orjson.dumps(self.model_dump(mode="json", by_alias=True))

    @classmethod
    def from_json(cls, data: bytes | str) -> SyncRecord:
        return cls.model_validate_json(data)


# --- parsing payloads ------------------------------------------------------------


def parse_record(data: Any) -> SyncRecord:
    """One record from decoded JSON; raises ValueError with a reason naming the field."""
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    clean = scrub_personal_data(data)
    clean.pop(HISTORY_KEY, None)  # bookkeeping is ours, never the sender's
    try:
        return SyncRecord.model_validate(clean)
    except ValidationError as exc:
        raise ValueError(describe_errors(exc)) from None


def parse_records(
    raw: bytes | str | list[Any] | dict[str, Any],
) -> tuple[list[SyncRecord], list[tuple[int, str]]]:
    """Valid records and (index, reason) for each invalid one.

    Raises ValueError only when the payload as a whole is not JSON, or is
    neither an object (one record) nor a list of records.
    """
    data = raw
    if isinstance(raw, bytes | str):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ValueError(json_problem(exc)) from None
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise ValueError(f"expected a record or a list of records, got {type(data).__name__}")
    records: list[SyncRecord] = []
    errors: list[tuple[int, str]] = []
    for index, item in enumerate(data):
        try:
            records.append(parse_record(item))
        except ValueError as exc:
            errors.append((index, str(exc)))
    return records, errors


# --- unit directory --------------------------------------------------------------


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


# --- steps: what a record shows happened -----------------------------------------

_RANK = {t: i for i, t in enumerate(EventType)}  # lifecycle order for ties


@dataclass(frozen=True, slots=True)
class _Step:
    type: EventType
    n: int  # round number; 0 for once-only events
    at: datetime
    due_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.type}:{self.n}"

    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.at, _RANK[self.type], self.n)


def _steps(r: SyncRecord, history: SyncHistory, seen_at: datetime) -> list[_Step]:
    """Every step record `r` shows, given what earlier records yielded."""
    if not r.is_received:
        return []
    steps = [_Step(EventType.RECEIVED, 0, _received_at(r), r.original_due)]
    if history.finished:  # backwards or late detail: a finished dossier is not reopened
        steps += _round_steps(r, anchor=None) + _finish_steps(r, seen_at, refinish=False)
    else:
        anchor = r.end_time(seen_at) if r.status in FINISHED else seen_at
        steps += _round_steps(r, anchor)
        steps += _unlisted_supplement(r, history, anchor)
        steps += _payment_steps(r, history, anchor)
        steps += _finish_steps(r, seen_at, refinish=True)
    start = _received_at(r)
    return [s if s.at >= start else replace(s, at=start) for s in steps]


def _received_at(r: SyncRecord) -> datetime:
    assert r.received_at is not None  # SyncRecord guarantees it for received statuses
    return r.received_at


def _round_steps(r: SyncRecord, anchor: datetime | None) -> list[_Step]:
    """The listed rounds; with no anchor (after a finish) only dated requests count."""
    steps = []
    last = len(r.supplements)
    for n, rnd in enumerate(r.supplements, start=1):
        requested = rnd.requested_at or rnd.supplied_at or anchor
        if requested is None:
            continue
        steps.append(_Step(EventType.SUPPLEMENT_REQUESTED, n, requested))
        if rnd.supplied_at or n < last or r.status in ANSWERS_SUPPLEMENT:
            supplied = max(rnd.supplied_at or anchor or requested, requested)
            steps.append(_Step(EventType.SUPPLEMENT_RECEIVED, n, supplied, rnd.new_due))
    return steps


def _unlisted_supplement(r: SyncRecord, history: SyncHistory, anchor: datetime) -> list[_Step]:
    """Rounds shown by status only: a request at 5, its answer at a later status."""
    listed = len(r.supplements)
    if r.status is Status.SUPPLEMENT:
        if not listed or r.supplements[-1].supplied_at:
            return [_Step(EventType.SUPPLEMENT_REQUESTED, listed + 1, anchor)]
        return []
    if r.status not in ANSWERS_SUPPLEMENT:
        return []
    pending = history.pending(EventType.SUPPLEMENT_REQUESTED, EventType.SUPPLEMENT_RECEIVED)
    return [_Step(EventType.SUPPLEMENT_RECEIVED, n, anchor) for n in pending if n > listed]


def _payment_steps(r: SyncRecord, history: SyncHistory, anchor: datetime) -> list[_Step]:
    if r.status is Status.PAYMENT:
        return [_Step(EventType.PAYMENT_REQUESTED, 1, anchor)]
    pending = history.pending(EventType.PAYMENT_REQUESTED, EventType.PAYMENT_RECEIVED)
    if r.status in ANSWERS_PAYMENT and pending:
        return [_Step(EventType.PAYMENT_RECEIVED, 1, anchor)]
    return []


def _finish_steps(r: SyncRecord, seen_at: datetime, *, refinish: bool) -> list[_Step]:
    """Finishing steps; without `refinish` (already finished) 7 and 8 add nothing."""
    end = r.end_time(seen_at)
    if r.status is Status.RESOLVED:
        return [_Step(EventType.RESOLVED, 0, end)]
    if r.status is Status.RETURNED:
        resolved = [_Step(EventType.RESOLVED, 0, r.processed_at)] if r.processed_at else []
        return [*resolved, _Step(EventType.RETURNED, 0, r.returned_at or seen_at)]
    if refinish and r.status is Status.WITHDRAWN:
        return [_Step(EventType.WITHDRAWN, 0, end)]
    if refinish and r.status is Status.STOPPED:
        return [_Step(EventType.REJECTED, 0, end)]
    return []


# --- events ----------------------------------------------------------------------


def _event(r: SyncRecord, step: _Step, directory: UnitDirectory, source: str) -> DossierEvent:
    fields: dict[str, Any] = {
        "event_id": f"{r.dossier_id}:{step.key}",
        "dossier_id": r.dossier_id,
        "type": step.type,
        "at": step.at,
        "due_at": step.due_at,
        "fee_due": r.fee_due,
        "paid_online": r.paid_online,
        "digitized": r.digitized,
        "source": source,
    }
    if step.type is EventType.RECEIVED:
        fields |= _attribution(r, directory)
    return DossierEvent(**fields)


def _attribution(r: SyncRecord, directory: UnitDirectory) -> dict[str, Any]:
    unit = directory.resolve(r.agency_code, r.unit_name)
    return {
        "agency_code": r.agency_code,
        "agency_name": unit.agency_name,
        "level": unit.level,
        "district_code": unit.district_code,
        "district_name": unit.district_name,
        "procedure_code": r.procedure_code,
        "procedure_name": r.procedure_name,
        "field_code": r.field_code,
        "field_name": r.field_name or r.field_code,
        "channel": r.channel,
        "online_level": r.online_level,
    }


def _local(moment: datetime) -> datetime:
    """seen_at without an offset is local time, as everywhere in EVENTS.md."""
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def history_of(record: SyncRecord | None, seen_at: datetime) -> SyncHistory:
    """The record's history; a record never stored is taken as fully applied."""
    if record is None:
        return SyncHistory()
    if record.history.steps or record.history.seen_at:
        return record.history
    return SyncHistory(steps=frozenset(s.key for s in _steps(record, SyncHistory(), seen_at)))


def advance(
    previous: SyncRecord | None,
    current: SyncRecord,
    directory: UnitDirectory,
    source: str = DEFAULT_SOURCE,
    *,
    seen_at: datetime,
) -> tuple[list[DossierEvent], SyncRecord]:
    """New events of `current`, and the record to store in place of `previous`."""
    seen_at = _local(seen_at)
    history = history_of(previous, seen_at)
    if previous is not None and history.seen_at is not None and seen_at < history.seen_at:
        return [], previous.model_copy(update={"history": history})  # stale observation
    new: dict[str, _Step] = {}
    for step in _steps(current, history, seen_at):
        if step.key not in history.steps:
            new.setdefault(step.key, step)
    ordered = sorted(new.values(), key=_Step.sort_key)
    events = [_event(current, step, directory, source) for step in ordered]
    derived = frozenset(new)
    if previous is not None:  # each rewrite once, however often a record repeats it
        fixes = corrections(previous, current, ordered, source, seen_at=seen_at)
        fixes = [e for e in fixes if _step_key(e) not in history.steps]
        events += fixes
        derived |= {_step_key(e) for e in fixes}
    remembered = SyncHistory(steps=history.steps | derived, seen_at=seen_at)
    return events, current.model_copy(update={"history": remembered})


# --- rewrites: values a source changed after sending them (EVENTS.md §2) ---------

# TrangThaiHoSo as the lifecycle names a `corrected` status (streams.rules.integrity)
STATUS_NAMES = {
    Status.RECEIVED: "received",
    Status.PROCESSING: "processing",
    Status.SUPPLEMENT: "supplement_requested",
    Status.PAYMENT: "payment_requested",
    Status.WITHDRAWN: "withdrawn",
    Status.STOPPED: "rejected",
    Status.RESOLVED: "resolved",
    Status.RETURNED: "returned",
}
_RESTARTS = frozenset({EventType.SUPPLEMENT_RECEIVED, EventType.PAYMENT_RECEIVED})


def corrections(
    previous: SyncRecord,
    current: SyncRecord,
    steps: list[_Step],
    source: str = DEFAULT_SOURCE,
    *,
    seen_at: datetime,
) -> list[DossierEvent]:
    """`corrected` events for the values `current` reports differently from
    `previous` (old = the previous record's value), observed at `seen_at`.

    A later NgayHenTra counts only when no supplement round or clock restart
    of this record explains it (a round naming it as its new due, a new round,
    or a restart among `steps`, this record's new steps).
    """
    if not (previous.is_received and current.is_received):
        return []
    rewrites: list[tuple[CorrectedField, str, str]] = []
    if _due_rewritten(previous, current, steps):
        rewrites.append((CorrectedField.DUE_AT, _iso(previous.due_at), _iso(current.due_at)))
    for name, before, now in (
        (CorrectedField.RECEIVED_AT, previous.received_at, current.received_at),
        (CorrectedField.END_AT, previous.processed_at, current.processed_at),
    ):
        if before is not None and now is not None and before != now:
            rewrites.append((name, _iso(before), _iso(now)))
    if previous.status in FINISHED and current.status not in FINISHED:
        rewrites.append(
            (CorrectedField.STATUS, STATUS_NAMES[previous.status], STATUS_NAMES[current.status])
        )
    at = max(seen_at, _received_at(current))
    return [
        DossierEvent(
            event_id=f"{current.dossier_id}:corrected:{name}:{_compact(new)}",
            dossier_id=current.dossier_id,
            type=EventType.CORRECTED,
            at=at,
            field=name,
            old=old,
            new=new,
            source=source,
        )
        for name, old, new in rewrites
    ]


def _step_key(event: DossierEvent) -> str:
    return event.event_id.removeprefix(f"{event.dossier_id}:")


def _due_rewritten(previous: SyncRecord, current: SyncRecord, steps: list[_Step]) -> bool:
    before, now = previous.due_at, current.due_at
    if before is None or now is None or now <= before:
        return False
    explained = (
        any(r.new_due == now for r in current.supplements)
        or len(current.supplements) > len(previous.supplements)
        or any(s.type in _RESTARTS for s in steps)
    )
    return not explained


def _iso(moment: datetime | None) -> str:
    assert moment is not None
    return _local(moment).isoformat()


def _compact(value: str) -> str:
    """A corrected value as an id part: digits of a time, else the name."""
    digits = "".join(c for c in value[:19] if c.isdigit())
    return digits if len(digits) == 14 else value


def record_events(
    previous: SyncRecord | None,
    current: SyncRecord,
    directory: UnitDirectory,
    source: str = DEFAULT_SOURCE,
    *,
    seen_at: datetime,
) -> list[DossierEvent]:
    """The canonical events that happened between `previous` and `current` (same dossier)."""
    return advance(previous, current, directory, source, seen_at=seen_at)[0]


# --- applying a stream of records ------------------------------------------------


class RecordStore(Protocol):
    """Last record per dossier (with its history); a durable one stores `to_json()`."""

    def get(self, dossier_id: str) -> SyncRecord | None: ...

    def put(self, record: SyncRecord) -> None: ...


class LastRecords:
    """In-memory RecordStore."""

    def __init__(self) -> None:
        self._records: dict[str, SyncRecord] = {}

    def get(self, dossier_id: str) -> SyncRecord | None:
        return self._records.get(dossier_id)

    def put(self, record: SyncRecord) -> None:
        self._records[record.dossier_id] = record

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, dossier_id: object) -> bool:
        return dossier_id in self._records


def convert(
    records: Iterable[SyncRecord],
    store: RecordStore,
    directory: UnitDirectory,
    seen_at: datetime,
    source: str = DEFAULT_SOURCE,
) -> list[DossierEvent]:
    """Events of records observed at `seen_at`, in order, updating `store`.

    A record that says when it was synced (NgayDongBo) was observed then, if
    that is earlier: a replayed archive keeps each record's own time, and a
    source clock running ahead cannot place steps in the future.
    """
    events: list[DossierEvent] = []
    for record in records:
        observed = min(record.synced_at, seen_at) if record.synced_at else seen_at
        new, remembered = advance(
            store.get(record.dossier_id), record, directory, source, seen_at=observed
        )
        store.put(remembered)
        events += new
    return events
