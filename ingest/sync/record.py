"""The sync record (DongBoHoSoMC) as read, with its supplement rounds and our bookkeeping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, cast

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_serializer,
    model_validator,
)

from ingest.sync.values import (
    CHANNELS,
    FINISHING,
    HISTORY_KEY,
    NOT_RECEIVED,
    RESULT_LINK,
    Code,
    Flag,
    Name,
    PortalTime,
    Status,
    channel_of,
    component_flags,
    dossier_id_of,
    electronic_result_of,
    fee_amount_of,
    flag_of,
    format_time,
    online_level_of,
    status_of,
)
from schemas.events import (
    Channel,
    EventType,
    OnlineLevel,
    describe_errors,
    json_problem,
)
from schemas.personal import scrub_personal_data
from schemas.unvalidated import unvalidated


class SupplementRound(BaseModel):
    """One DanhSachHoSoBoSung entry (yêu cầu bổ sung); other keys are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    requested_at: PortalTime = Field(
        None, alias="NgayYeuCauBoSung", description="When the supplement was requested."
    )
    old_due: PortalTime = Field(None, alias="NgayHenTraTruoc", description="The due before it.")
    new_due: PortalTime = Field(None, alias="NgayHenTraMoi", description="The new due after it.")
    supplied_at: PortalTime = Field(
        None, alias="NgayTiepNhanBoSung", description="When the supplement was received."
    )

    @field_serializer("requested_at", "old_due", "new_due", "supplied_at")
    def _time(self, value: datetime | None) -> str | None:
        return format_time(value)


class Components(BaseModel):
    """What TaiLieuNop (the submitted components) says, and nothing else: a
    component's name, file name or link may carry personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    digitized: bool  # some component has a file or DuocSoHoa = 1
    reused: bool  # some component has DuocSoHoa = 1
    personal_store: bool  # some component has DuocLayTuKhoDMQG = 1


# the eight possible Components, built once each (frozen: shared by the records)
_COMPONENTS: dict[tuple[bool, bool, bool], Components] = {}


def _components(value: Any) -> Components | None:
    if isinstance(value, Components):
        return value
    flags = component_flags(value)
    if flags is None:
        return None
    known = _COMPONENTS.get(flags)
    if known is None:
        known = Components(**dict(zip(Components.model_fields, flags, strict=True)))
        _COMPONENTS[flags] = known
    return known


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
        known = _FINISHED.get(self.steps)
        if known is None:
            known = any(key.split(":", 1)[0] in FINISHING for key in self.steps)
            if len(_FINISHED) < _SHAPES_KEPT:
                _FINISHED[self.steps] = known
        return known

    def pending(self, requested: EventType, received: EventType) -> list[int]:
        """Round numbers requested and not yet answered."""
        asked = (self.steps, requested, received)
        known = _PENDING.get(asked)
        if known is None:
            steps = self.steps
            rounds = {int(k.rsplit(":", 1)[1]) for k in steps if k.startswith(f"{requested}:")}
            known = tuple(sorted(n for n in rounds if f"{received}:{n}" not in steps))
            if len(_PENDING) < _SHAPES_KEPT:
                _PENDING[asked] = known
        return list(known)


# A history's steps name no dossier ("received:0", "resolved:0"...), so
# dossiers share a few sets of them: what each set says is worked out once.
_SHAPES_KEPT = 10_000
_FINISHED: dict[frozenset[str], bool] = {}
_PENDING: dict[tuple[frozenset[str], EventType, EventType], tuple[int, ...]] = {}


def with_result_flag(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The portal's result code and link → the flag (a stored record has the flag)."""
    stored = isinstance(data.get("MaKetQua"), bool | None) and RESULT_LINK not in data
    if stored:
        return data
    clean = {k: v for k, v in data.items() if k not in ("MaKetQua", RESULT_LINK)}
    flag = electronic_result_of(data)
    return clean if flag is None else clean | {"MaKetQua": flag}


# a stored record's codes, as the portal writes them
_CHANNEL_CODES = {c: n for n, c in CHANNELS.items()}
_LEVEL_CODES = {"full": 4, "partial": 3, "none": 1}


class SyncRecord(BaseModel):
    """A national-portal sync record (DongBoHoSoMC, EVENTS.md §2). Unknown keys
    are ignored. At TrangThaiHoSo 2 and later (except 3), NgayTiepNhan, MaTTHC
    and MaLinhVuc are required."""

    # the portal keys are the aliases; the ingest endpoint's OpenAPI document
    # is this model's JSON schema (`input_schema`)
    model_config = ConfigDict(frozen=True, extra="ignore", json_schema_extra=lambda s: _as_input(s))

    dossier_id: Annotated[
        str,
        BeforeValidator(dossier_id_of),
        WithJsonSchema({"type": "string", "minLength": 3, "maxLength": 150, "pattern": "^[^-]+-"}),
    ] = Field(alias="MaHoSo", description="Dossier code; the unit code is its prefix.")
    procedure_code: Code = Field(None, alias="MaTTHC", description="Procedure code (mã TTHC).")
    procedure_name: Name = Field(None, alias="TenTTHC", description="Procedure name.")
    field_code: Code = Field(None, alias="MaLinhVuc", description="Field code (lĩnh vực).")
    field_name: Name = Field(
        None, alias="TenLinhVuc", description="Field name; defaults to MaLinhVuc."
    )
    unit_name: Name = Field(None, alias="DonViXuLy", description="Handling unit's name.")
    channel: Annotated[
        Channel,
        BeforeValidator(channel_of),
        WithJsonSchema(
            {"type": ["integer", "string", "null"], "enum": [1, 2, 3, "1", "2", "3", None]}
        ),
    ] = Field(
        Channel.DIRECT,
        alias="KenhThucHien",
        description="1 direct, 2 online, 3 postal; null = direct.",
    )
    received_at: PortalTime = Field(None, alias="NgayTiepNhan", description="Received time.")
    due_at: PortalTime = Field(None, alias="NgayHenTra", description="Due time.")
    processed_at: PortalTime = Field(None, alias="NgayKetThucXuLy", description="Processing ended.")
    returned_at: PortalTime = Field(None, alias="NgayTra", description="Result returned.")
    # not in EVENTS.md §2: when the source took the record (archives, the simulator)
    synced_at: PortalTime = Field(None, alias="NgayDongBo", description="When it was synced.")
    status: Annotated[
        Status,
        BeforeValidator(status_of),
        WithJsonSchema({"type": ["integer", "string"], "minimum": 1, "maximum": 10}),
    ] = Field(
        alias="TrangThaiHoSo",
        description="1 new, 2 received, 3 refused at counter, 4 processing, 5 supplement "
        "requested, 6 payment requested, 7 withdrawn, 8 stopped, 9 resolved, 10 returned.",
    )
    supplements: Annotated[
        tuple[SupplementRound, ...], BeforeValidator(lambda v: () if v is None else v)
    ] = Field((), alias="DanhSachHoSoBoSung", description="Supplement rounds, in order.")
    paid_online: Annotated[
        bool | None, BeforeValidator(flag_of(1, 2)), WithJsonSchema({"type": ["integer", "null"]})
    ] = Field(None, alias="DuocThanhToanTrucTuyen", description="1 or 2 = paid online.")
    digitized: Flag = Field(
        None, alias="HoSoCoThanhPhanSoHoa", description="1 = components and result digitized."
    )
    online_level: Annotated[
        OnlineLevel | None, BeforeValidator(online_level_of), WithJsonSchema({})
    ] = Field(
        None,
        alias="MucDoDVC",
        description="How the procedure is offered online: 4 or 'toàn trình' = full, "
        "3 or 'một phần' = partial, other = none.",
    )
    fee_flag: Flag = Field(
        None, alias="CoPhi", description="1/true or 0/false: the dossier is charged a fee."
    )
    fee_amount: Annotated[bool | None, BeforeValidator(fee_amount_of), WithJsonSchema({})] = Field(
        None, alias="PhiLePhi", description="Fee amount (number, or a list of amounts / {SoTien})."
    )
    # 766 scorecard (METRICS.md §7). MaKetQua holds the flag "an electronic result
    # was issued" (MaKetQua with DuongDanTepTinKetQua, `_result_flag`): neither the
    # result code nor its link is kept; a stored record writes the flag (true/false).
    electronic_result: bool | None = Field(None, alias="MaKetQua")
    components: Annotated[Components | None, BeforeValidator(_components)] = Field(
        None, alias="TaiLieuNop"
    )
    vneid_verified: Flag = Field(None, alias="TaiKhoanDuocXacThucVoiVNeID")
    commune_code: Code = Field(None, alias="MaXa")
    commune_name: Name = Field(None, alias="TenXa")
    history: SyncHistory = Field(default_factory=SyncHistory, alias=HISTORY_KEY)

    @model_validator(mode="before")
    @classmethod
    def _result_flag(cls, data: Any) -> Any:
        return with_result_flag(data) if isinstance(data, Mapping) else data

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
    def components_digitized(self) -> bool | None:
        return None if self.components is None else self.components.digitized

    @property
    def reused_digitized_data(self) -> bool | None:
        """HoSoCoThanhPhanSoHoa = 1 or a component with DuocSoHoa = 1; None if neither is stated."""
        stated = [
            flag
            for flag in (self.digitized, self.components and self.components.reused)
            if flag is not None
        ]
        return any(stated) if stated else None

    @property
    def from_personal_store(self) -> bool | None:
        return None if self.components is None else self.components.personal_store

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
        return format_time(value)

    @field_serializer("channel")
    def _channel_code(self, value: Channel) -> int:
        return _CHANNEL_CODES[value]

    @field_serializer("online_level")
    def _level_code(self, value: OnlineLevel | None) -> int | None:
        return None if value is None else _LEVEL_CODES[value.value]

    @field_serializer("components")
    def _components_list(self, value: Components | None) -> list[dict[str, Any]] | None:
        """One component standing for them all: reads back to the same flags."""
        if value is None:
            return None
        return [
            {
                "TepDinhKem": value.digitized,
                "DuocSoHoa": int(value.reused),
                "DuocLayTuKhoDMQG": int(value.personal_store),
            }
        ]

    @field_serializer("paid_online", "digitized", "fee_flag", "fee_amount", "vneid_verified")
    def _flag_code(self, value: bool | None) -> int | None:
        return None if value is None else int(value)

    def to_json(self) -> bytes:
        """The record with its history, for a durable store (`from_json` reads it back)."""
        return orjson.dumps(self.model_dump(mode="json", by_alias=True))

    @classmethod
    def from_json(cls, data: bytes | str) -> SyncRecord:
        return cls.model_validate_json(data)


def history_of_steps(steps: frozenset[str], seen_at: datetime) -> SyncHistory:
    """`SyncHistory(steps=steps, seen_at=seen_at)` for values already of their
    types (the steps derived, an aware time), without validating them again."""
    return unvalidated(SyncHistory, {"steps": steps, "seen_at": seen_at}, {"steps", "seen_at"})


def with_history(record: SyncRecord, history: SyncHistory) -> SyncRecord:
    """`record.model_copy(update={"history": history})` at a fifth of its cost
    (one per record converted): the same values and fields set."""
    values = record.__dict__ | {"history": history}
    return unvalidated(SyncRecord, values, record.__pydantic_fields_set__ | {"history"})


# -- reading a record without pydantic ---------------------------------------------
#
# Reading a record was half of the conversion's CPU, most of it the value
# functions themselves; pydantic's own part (~4 of ~17 µs a record) is what
# `read_record` saves. It builds the same SyncRecord from each field's own
# BeforeValidator (the value functions of values.py, taken from the model, so
# each rule has one definition) when those already give values of the field's
# type; whatever it is not sure of goes through validation, so every rejection
# reads as before.
# A test holds it equal to validation (tests/unit/ingest/test_fast_paths.py).


class _Unsure(Exception):
    """A value the reader leaves to validation."""


def _before(model: type[BaseModel], name: str) -> Callable[[Any], Any]:
    """The field's BeforeValidator: the rule its value is read by."""
    funcs = [m.func for m in model.model_fields[name].metadata if isinstance(m, BeforeValidator)]
    if len(funcs) != 1:  # a field without one needs its own reader here
        raise TypeError(f"{model.__name__}.{name}: no single BeforeValidator to read it by")
    return cast(Callable[[Any], Any], funcs[0])


_ROUND_FIELDS = tuple(
    (field.alias or name, name, _before(SupplementRound, name))
    for name, field in SupplementRound.model_fields.items()
)
_ROUND_DEFAULTS = {name: None for name in SupplementRound.model_fields}


def _round(item: Any) -> SupplementRound:
    if type(item) is not dict:
        raise _Unsure
    values = dict(_ROUND_DEFAULTS)
    present: set[str] = set()
    for alias, name, read in _ROUND_FIELDS:
        if alias in item:
            values[name] = read(item[alias])
            present.add(name)
    return unvalidated(SupplementRound, values, present)


_rounds_given = _before(SyncRecord, "supplements")


def _rounds(value: Any) -> tuple[SupplementRound, ...]:
    """A list of rounds (objects); validation says what else is wrong."""
    value = _rounds_given(value)
    if type(value) is tuple and not value:
        return value
    if type(value) is not list:
        raise _Unsure
    return tuple(map(_round, value))


def _result(value: Any) -> bool | None:
    """MaKetQua once `with_result_flag` has read it: the flag, or absent."""
    if value is None or type(value) is bool:
        return value
    raise _Unsure


_SPECIAL = {"supplements": _rounds, "electronic_result": _result}
# alias → (field name, its reader); the bookkeeping key is never input (parse_record drops it)
_RECORD_FIELDS = {
    field.alias or name: (name, _SPECIAL.get(name) or _before(SyncRecord, name))
    for name, field in SyncRecord.model_fields.items()
    if name != "history"
}
_RECORD_DEFAULTS = {
    name: field.default for name, field in SyncRecord.model_fields.items() if name != "history"
}
_REQUIRED = frozenset(n for n, field in SyncRecord.model_fields.items() if field.is_required())
NO_HISTORY = SyncHistory()  # frozen: shared by records read and dossiers seen first
_Reader = tuple[str, str, Callable[[Any], Any]]  # alias, field name, reader
# a record's keys → the fields it sets and how to read them: records repeat a
# few shapes, so the set is shared (frozen models; a copy makes its own, as
# `with_history` does)
_SHAPES: dict[tuple[str, ...], tuple[set[str], tuple[_Reader, ...]]] = {}


def _shape(keys: tuple[str, ...]) -> tuple[set[str], tuple[_Reader, ...]]:
    known = _SHAPES.get(keys)
    if known is None:
        readers = tuple((k, *_RECORD_FIELDS[k]) for k in keys if k in _RECORD_FIELDS)
        known = {name for _, name, _ in readers}, readers
        if len(_SHAPES) < 4096 and len(keys) <= 100:  # bounded: keys are input
            _SHAPES[keys] = known
    return known


def read_record(data: Mapping[str, Any]) -> SyncRecord | None:
    """`SyncRecord.model_validate(data)` without validation for a record whose
    values the value functions accept; None when validation must decide (a
    value refused, a required key missing, an unexpected type)."""
    data = with_result_flag(data)
    if HISTORY_KEY in data:
        return None
    present, readers = _shape(tuple(data))
    if not present >= _REQUIRED:
        return None
    values = dict(_RECORD_DEFAULTS)
    try:
        for alias, name, read in readers:
            values[name] = read(data[alias])
    except Exception:  # validation raises it as it always did, or reports it
        return None
    if values["status"] not in NOT_RECEIVED and (
        values["received_at"] is None
        or values["procedure_code"] is None
        or values["field_code"] is None
    ):
        return None  # `_received_is_complete` words the reason
    values["history"] = NO_HISTORY
    return unvalidated(SyncRecord, values, present)


def parse_record(data: Any) -> SyncRecord:
    """One record from decoded JSON; raises ValueError with a reason naming the field."""
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    clean = scrub_personal_data(data)
    clean.pop(HISTORY_KEY, None)  # bookkeeping is ours, never the sender's
    fast = read_record(clean)
    if fast is not None:
        return fast
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


# Keys an input may carry that the record drops at ingest (EVENTS.md §1): named
# in the input schema so a sender knows they are accepted and never kept.
PERSONAL_KEYS = {
    "ChuHoSo": "Applicant name",
    "MaDoiTuong": "Applicant ID",
    "SoCMND": "ID card number",
    "SoDienThoai": "Phone",
    "Email": "E-mail",
    "DiaChi": "Address",
}


def _as_input(schema: dict[str, Any]) -> None:
    """The record's JSON schema as a sender's input: our bookkeeping key is not
    input, unknown keys are allowed (ignored), personal keys are dropped."""
    schema["properties"].pop(HISTORY_KEY, None)
    rounds = schema["properties"]["DanhSachHoSoBoSung"]
    rounds["anyOf"] = [{"type": "array", "items": rounds.pop("items")}, {"type": "null"}]
    rounds.pop("type", None)
    schema["additionalProperties"] = True
    for key, what in PERSONAL_KEYS.items():
        schema["properties"][key] = {
            "description": f"{what}. Personal data: accepted and dropped at ingest."
        }
