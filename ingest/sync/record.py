"""The sync record (DongBoHoSoMC) as read, with its supplement rounds and our bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

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


class SupplementRound(BaseModel):
    """One DanhSachHoSoBoSung entry (yêu cầu bổ sung); other keys are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    requested_at: PortalTime = Field(None, alias="NgayYeuCauBoSung")
    old_due: PortalTime = Field(None, alias="NgayHenTraTruoc")
    new_due: PortalTime = Field(None, alias="NgayHenTraMoi")
    supplied_at: PortalTime = Field(None, alias="NgayTiepNhanBoSung")

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


def _components(value: Any) -> Components | None:
    if isinstance(value, Components):
        return value
    flags = component_flags(value)
    if flags is None:
        return None
    return Components(**dict(zip(Components.model_fields, flags, strict=True)))


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

    dossier_id: Annotated[str, BeforeValidator(dossier_id_of)] = Field(alias="MaHoSo")
    procedure_code: Code = Field(None, alias="MaTTHC")
    procedure_name: Name = Field(None, alias="TenTTHC")
    field_code: Code = Field(None, alias="MaLinhVuc")
    field_name: Name = Field(None, alias="TenLinhVuc")
    unit_name: Name = Field(None, alias="DonViXuLy")
    channel: Annotated[Channel, BeforeValidator(channel_of)] = Field(
        Channel.DIRECT, alias="KenhThucHien"
    )
    received_at: PortalTime = Field(None, alias="NgayTiepNhan")
    due_at: PortalTime = Field(None, alias="NgayHenTra")
    processed_at: PortalTime = Field(None, alias="NgayKetThucXuLy")
    returned_at: PortalTime = Field(None, alias="NgayTra")
    # not in EVENTS.md §2: when the source took the record (archives, the simulator)
    synced_at: PortalTime = Field(None, alias="NgayDongBo")
    status: Annotated[Status, BeforeValidator(status_of)] = Field(alias="TrangThaiHoSo")
    supplements: Annotated[
        tuple[SupplementRound, ...], BeforeValidator(lambda v: () if v is None else v)
    ] = Field((), alias="DanhSachHoSoBoSung")
    paid_online: Annotated[bool | None, BeforeValidator(flag_of(1, 2))] = Field(
        None, alias="DuocThanhToanTrucTuyen"
    )
    digitized: Flag = Field(None, alias="HoSoCoThanhPhanSoHoa")
    online_level: Annotated[OnlineLevel | None, BeforeValidator(online_level_of)] = Field(
        None, alias="MucDoDVC"
    )
    fee_flag: Flag = Field(None, alias="CoPhi")
    fee_amount: Annotated[bool | None, BeforeValidator(fee_amount_of)] = Field(
        None, alias="PhiLePhi"
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
        """The portal's result code and link → the flag (a stored record has the flag)."""
        if not isinstance(data, Mapping):
            return data
        stored = isinstance(data.get("MaKetQua"), bool | None) and RESULT_LINK not in data
        if stored:
            return data
        clean = {k: v for k, v in data.items() if k not in ("MaKetQua", RESULT_LINK)}
        flag = electronic_result_of(data)
        return clean if flag is None else clean | {"MaKetQua": flag}

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
        return {c: n for n, c in CHANNELS.items()}[value]

    @field_serializer("online_level")
    def _level_code(self, value: OnlineLevel | None) -> int | None:
        return None if value is None else {"full": 4, "partial": 3, "none": 1}[value.value]

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
