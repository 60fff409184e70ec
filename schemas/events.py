"""The canonical dossier event (EVENTS.md §1) and its strict parser.

`parse_event` is the one door into the system: it decodes, scrubs personal
data, validates, and raises `InvalidEvent` with a reason that names the field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from operator import itemgetter
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.contract import REASON_KEYS
from schemas.personal import scrub_personal_data
from schemas.unvalidated import unvalidated

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_set = object.__setattr__
_FIELDS_SETS: dict[tuple[str, ...], set[str]] = {}  # DossierEvent.trusted
# An event more than this far ahead of "now" is impossible (EVENTS.md §1).
MAX_FUTURE = timedelta(days=1)


class EventType(StrEnum):
    RECEIVED = "received"
    TRANSFERRED = "transferred"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENT_RECEIVED = "supplement_received"
    PAYMENT_REQUESTED = "payment_requested"
    PAYMENT_RECEIVED = "payment_received"
    EXTENDED = "extended"
    RESOLVED = "resolved"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CORRECTED = "corrected"  # a source rewrote a value it had sent (METRICS.md §9)
    # a citizen's complaint or "dislike" about the dossier (METRICS.md §7, 5.4); last,
    # so the ranks of the others (their order at one instant) stay as they were
    COMPLAINT = "complaint"


class CorrectedField(StrEnum):
    """Which value a `corrected` event says a source rewrote."""

    DUE_AT = "due_at"
    RECEIVED_AT = "received_at"
    END_AT = "end_at"
    STATUS = "status"


class Channel(StrEnum):
    DIRECT = "direct"
    ONLINE = "online"
    POSTAL = "postal"


class Level(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class OnlineLevel(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


class TimeUnit(StrEnum):
    WORKING_DAYS = "working_days"
    DAYS = "days"
    WORKING_HOURS = "working_hours"


def parse_local_datetime(value: Any) -> datetime:
    """ISO 8601 text → aware datetime; no offset means Asia/Ho_Chi_Minh.

    Whole seconds only: one-stop systems record seconds, and ClickHouse's
    DateTime stores seconds, so stream and store agree exactly.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not an ISO 8601 date-time") from None
    else:
        raise ValueError(f"expected an ISO 8601 date-time string, got {type(value).__name__}")
    if parsed.microsecond:
        parsed = parsed.replace(microsecond=0)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


LocalDatetime = Annotated[datetime, BeforeValidator(parse_local_datetime)]
Text = Annotated[str, Field(strict=True, min_length=1, max_length=500)]
Identifier = Annotated[str, Field(strict=True, min_length=1, max_length=200)]


class TimeLimit(BaseModel):
    """Statutory time limit of a procedure (thời hạn giải quyết)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Annotated[float, Field(gt=0, le=3650, allow_inf_nan=False)]
    unit: TimeUnit


# Fields a `received` event must carry (EVENTS.md §1, "on received").
RECEIVED_REQUIRED = (
    "agency_code",
    "agency_name",
    "level",
    "district_code",
    "district_name",
    "procedure_code",
    "field_code",
    "field_name",
    "channel",
)

_received_values = itemgetter(*RECEIVED_REQUIRED)
_SHARED_LIMITS: dict[tuple[float, str], TimeLimit] = {}  # TimeUnit is a str


def shared_time_limit(value: float, unit: str) -> TimeLimit:
    """The limit `value` `unit`, one (frozen) instance per distinct limit: few
    exist, and every receipt in the histories keeps one, so sharing holds
    three objects fewer per receipt for the garbage collector to walk (parsed
    and decoded events alike). A known limit costs a lookup, not a validation."""
    key = (value, unit)
    shared = _SHARED_LIMITS.get(key)
    if shared is None:
        shared = TimeLimit.model_validate({"value": value, "unit": unit})
        if len(_SHARED_LIMITS) < 10_000:
            _SHARED_LIMITS[(shared.value, shared.unit)] = shared
    return shared


def shared_fields_set(present: tuple[str, ...]) -> set[str]:
    """One fields set per combination of fields given, shared by the events
    that have it (a model_copy copies it): a set fewer per event held."""
    fields_set = _FIELDS_SETS.get(present)
    if fields_set is None:
        fields_set = set(present)
        if len(_FIELDS_SETS) < 1000:
            _FIELDS_SETS[present] = fields_set
    return fields_set


class DossierEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: Identifier
    dossier_id: Identifier
    type: EventType
    at: LocalDatetime
    agency_code: Identifier | None = None
    agency_name: Text | None = None
    level: Level | None = None
    district_code: Identifier | None = None
    district_name: Text | None = None
    procedure_code: Identifier | None = None
    procedure_name: Text | None = None
    field_code: Identifier | None = None
    field_name: Text | None = None
    channel: Channel | None = None
    online_level: OnlineLevel | None = None
    due_at: LocalDatetime | None = None
    time_limit: TimeLimit | None = None
    fee_due: StrictBool | None = None
    paid_online: StrictBool | None = None
    digitized: StrictBool | None = None
    source: Text | None = None
    commune_code: Identifier | None = None
    commune_name: Text | None = None
    # what the 766 scorecard's digitization indicators count (METRICS.md §7)
    electronic_result: StrictBool | None = None
    components_digitized: StrictBool | None = None
    reused_digitized_data: StrictBool | None = None
    from_personal_store: StrictBool | None = None
    vneid_verified: StrictBool | None = None
    # on `corrected` only: the rewritten value, as first observed and as reported now
    field: CorrectedField | None = None
    old: Text | None = None
    new: Text | None = None

    @field_validator("time_limit")
    @classmethod
    def _shared_limit(cls, limit: TimeLimit | None) -> TimeLimit | None:
        return None if limit is None else shared_time_limit(limit.value, limit.unit)

    @classmethod
    def trusted(cls, fields: dict[str, Any]) -> DossierEvent:
        """An event from values this system validated before (its own stored
        histories), without validating again: every field of the model, each
        already of its field's type (aware datetimes, the enums, a TimeLimit).
        `model_validate` costs ~10 µs an event; this ~1 (bench/process_cpu.py).
        Never for input from outside: that goes through `parse_event`. A
        property test holds it equal to `model_validate` (tests/unit/rules)."""
        present = tuple(k for k, v in fields.items() if v is not None)
        return unvalidated(cls, fields, shared_fields_set(present))

    @model_validator(mode="after")
    def _received_is_complete(self) -> DossierEvent:
        # runs for every event parsed: the values straight from __dict__, a
        # list of the missing ones only when one is
        fields = self.__dict__
        fields_set = tuple(self.__pydantic_fields_set__)
        _set(self, "__pydantic_fields_set__", shared_fields_set(fields_set))
        kind = fields["type"]
        if kind is EventType.RECEIVED:
            if None in _received_values(fields):
                missing = [name for name in RECEIVED_REQUIRED if fields[name] is None]
                raise ValueError(f"received event lacks {', '.join(missing)}")
        elif kind is EventType.CORRECTED:
            missing = [name for name in ("field", "old", "new") if fields[name] is None]
            if missing:
                raise ValueError(f"corrected event lacks {', '.join(missing)}")
            if self.field is CorrectedField.DUE_AT:
                try:  # it becomes the due in force: it must be a time
                    parse_local_datetime(self.new)
                except ValueError as exc:
                    raise ValueError(f"new: {exc}") from None
        return self


class InvalidEvent(ValueError):
    """A message that cannot be accepted; `reason` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


UNLISTED_KEY = "(unlisted key)"


def describe_errors(
    error: ValidationError, whole: str = "", keys: Collection[str] | None = REASON_KEYS
) -> str:
    """One line naming each wrong field and why (`whole` names a model-level error).

    Built from each error's location and message, never its input (pydantic's
    own text carries `input_value`: a wrong value may be a name or a phone).
    A location part that is not one of `keys` (the input contracts' fields) is
    masked, since an unknown key can itself be a value; `keys=None` for inputs
    that are not dossier data (a mapping file).
    """
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(_loc(p, keys) for p in item["loc"]) or whole
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _loc(part: str | int, keys: Collection[str] | None) -> str:
    if isinstance(part, int) or keys is None or part in keys:
        return str(part)
    return UNLISTED_KEY


def json_problem(exc: orjson.JSONDecodeError) -> str:
    """Why text is not JSON: the parser's message and position, never the text."""
    return f"not valid JSON: {exc.msg[:100]} at line {exc.lineno} column {exc.colno}"


def parse_event(
    raw: bytes | str | Mapping[str, Any], *, now: datetime | None = None
) -> DossierEvent:
    """Decode, scrub and validate one canonical event.

    `now` enables the impossible-time check (`at` more than a day ahead); it is
    left off when reading historic exports.
    """
    if isinstance(raw, bytes | str):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(json_problem(exc)) from None
    else:
        data = raw
    if not isinstance(data, Mapping):
        raise InvalidEvent(f"expected a JSON object, got {type(data).__name__}")
    try:
        event = DossierEvent.model_validate(scrub_personal_data(data))
    except ValidationError as exc:
        raise InvalidEvent(describe_errors(exc, whole="event")) from None
    if now is not None and event.at > now + MAX_FUTURE:
        raise InvalidEvent(f"at: {event.at.isoformat()} is more than a day in the future")
    return event


def event_json(event: DossierEvent) -> bytes:
    """The canonical bytes of an event, `model_dump_json(exclude_none=True)`,
    at about half the cost: orjson from the field values (property tests hold
    them equal: tests/unit/clickhouse/test_event_payload.py,
    tests/unit/ingest/test_fast_paths.py). pydantic writes the rare cases
    orjson would write otherwise: an offset with seconds (an LMT zone),
    microseconds, text orjson refuses."""
    fields = event.__dict__
    due = fields["due_at"]
    if _odd_time(fields["at"]) or (due is not None and _odd_time(due)):
        return event.model_dump_json(exclude_none=True).encode()
    payload = {k: v for k, v in fields.items() if v is not None}
    limit = payload.get("time_limit")
    if limit is not None:
        payload["time_limit"] = {"value": limit.value, "unit": limit.unit}
    try:
        return orjson.dumps(payload, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return event.model_dump_json(exclude_none=True).encode()


def _odd_time(t: datetime) -> bool:
    offset = t.utcoffset()
    return offset is None or offset.seconds % 60 != 0 or t.microsecond != 0
