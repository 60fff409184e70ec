"""National portal sync records (DongBoHoSoMC, EVENTS.md §2) → canonical dossier events.

Provincial one-stop systems push each dossier's *current state*. This module
turns the changes between successive records of one dossier into the
canonical events of EVENTS.md §1. It is pure: no broker, no database, no
clock (the caller says when it observed a record: `seen_at`).

The package, by concern: `values` (the portal's values → ours), `record`
(the record as read), `units` (the unit directory), `steps` (what a record
shows happened), `events` (steps → events), `rewrites` (values a source
changed after sending them), `convert` (a stream of records).

Decisions (each one is tested in tests/unit/ingest/test_sync.py):

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
- The 766 scorecard's fields (METRICS.md §7; tests/unit/ingest/
  test_sync_scorecard_fields.py), riding on every event like the flags above:
  electronic_result = MaKetQua and DuongDanTepTinKetQua both non-empty (either
  one empty → false; both absent or null → not stated). Neither the result code
  nor the link is kept (the link opens the applicant's document): the stored
  record's MaKetQua holds the flag itself.
  TaiLieuNop (a list of components; one object counts as one component, a
  component with IsDeleted/DaXoa true does not count): components_digitized =
  some component has a file (a non-empty value under a key naming one:
  TepDinhKem, TepDinhKemId, TenTepDinhKem, DuongDan…, File, Url) or DuocSoHoa
  = 1; from_personal_store = some DuocLayTuKhoDMQG = 1; absent → not stated.
  reused_digitized_data = HoSoCoThanhPhanSoHoa = 1 or some DuocSoHoa = 1
  (not stated when neither field is). Nothing but these three flags is kept of
  the components (their names, files and any personal data inside them are
  dropped; the stored record keeps one stand-in component with the flags).
  TaiKhoanDuocXacThucVoiVNeID 1 → vneid_verified, another value → not.
  MaXa/TenXa → commune_code/commune_name, on the received event with the rest
  of the attribution (absent: a commune-level unit's own dossier gets that
  unit as its commune; any other leaves them out).

Attribution (`attribute` over the versioned `schemas.units.UnitDirectory`;
ingest/sync/units.py has the rules: the unit as of the receipt, the commune
from MaXa/TenXa else the commune unit itself, the area = the district before
1 July 2025 and the directory's area of the commune after it)
- The unit code is MaHoSo's prefix. A unit missing from the directory still
  converts, so its dossiers count in the province's totals: agency_name =
  DonViXuLy (else the code); level inferred from that name (the first unit
  word: xã/phường/thị trấn → commune; huyện/quận/thị xã/thành phố →
  district; sở/tỉnh or nothing recognisable → province); district =
  `UNMAPPED_DISTRICT_CODE`, one visible bucket that tells an operator to
  complete the directory (`Attribution.mapped` is False for such units).

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

from ingest.sync.convert import LastRecords, convert
from ingest.sync.events import advance, record_events
from ingest.sync.record import SupplementRound, SyncRecord, parse_record, parse_records
from ingest.sync.units import (
    Attribution,
    UnitDirectory,
    attribute,
    infer_level,
    read_unit_directory,
)
from ingest.sync.values import (
    DEFAULT_SOURCE,
    HISTORY_KEY,
    TIME_FORMAT,
    UNMAPPED_DISTRICT_CODE,
    UNMAPPED_DISTRICT_NAME,
    Status,
    plain_text,
)

__all__ = [
    "DEFAULT_SOURCE",
    "HISTORY_KEY",
    "TIME_FORMAT",
    "UNMAPPED_DISTRICT_CODE",
    "UNMAPPED_DISTRICT_NAME",
    "Attribution",
    "LastRecords",
    "Status",
    "SupplementRound",
    "SyncRecord",
    "UnitDirectory",
    "advance",
    "attribute",
    "convert",
    "infer_level",
    "parse_record",
    "parse_records",
    "plain_text",
    "read_unit_directory",
    "record_events",
]
