"""The fields of the input contracts (EVENTS.md §1 and §2): the allow-list of
what a rejected input may keep (schemas/redact.py) and what an error reason
may name.

An allow-list, not a block-list: a key that is not listed here is dropped from
a dead letter whatever it is called, so a personal field the scrubber has
never heard of (SoCanCuoc, NguoiDaiDien, MaSoThue...) cannot slip through.
None of these fields is personal (tests/unit/schemas/test_redact.py holds them against
`schemas.personal.is_personal_key` and against the parsers' own models, so
the lists cannot drift from what ingest reads).
"""

from __future__ import annotations

# EVENTS.md §1: the canonical dossier event.
CANONICAL_FIELDS = frozenset(
    {
        "event_id",
        "dossier_id",
        "type",
        "at",
        "agency_code",
        "agency_name",
        "level",
        "district_code",
        "district_name",
        "procedure_code",
        "procedure_name",
        "field_code",
        "field_name",
        "channel",
        "online_level",
        "due_at",
        "time_limit",
        "fee_due",
        "paid_online",
        "digitized",
        "source",
        "commune_code",
        "commune_name",
        "electronic_result",
        "components_digitized",
        "reused_digitized_data",
        "from_personal_store",
        "vneid_verified",
        "field",  # on corrected: which value a source rewrote
        "old",
        "new",
    }
)

# EVENTS.md §2: the national portal sync record (DongBoHoSoMC), plus the
# extensions ingest reads (NgayDongBo, MucDoDVC, CoPhi, PhiLePhi; ingest/sync.py)
# and the keys of a supplement round, which a table row carries at top level.
PORTAL_FIELDS = frozenset(
    {
        "MaHoSo",
        "MaTTHC",
        "TenTTHC",
        "MaLinhVuc",
        "TenLinhVuc",
        "DonViXuLy",
        "KenhThucHien",
        "NgayTiepNhan",
        "NgayHenTra",
        "NgayKetThucXuLy",
        "NgayTra",
        "TrangThaiHoSo",
        "DanhSachHoSoBoSung",
        "DuocThanhToanTrucTuyen",
        "HoSoCoThanhPhanSoHoa",
        "MaKetQua",
        "TaiLieuNop",
        "TaiKhoanDuocXacThucVoiVNeID",
        "MaXa",
        "TenXa",
        "NgayDongBo",
        "MucDoDVC",
        "CoPhi",
        "PhiLePhi",
        "NgayYeuCauBoSung",
        "NgayHenTraTruoc",
        "NgayHenTraMoi",
        "NgayTiepNhanBoSung",
    }
)

# In the contract but never kept: the link opens the applicant's own result
# document (a certificate with their name on it), so it is as good as the data.
WITHHELD_FIELDS = frozenset({"DuongDanTepTinKetQua"})

KEPT_FIELDS = (CANONICAL_FIELDS | PORTAL_FIELDS) - WITHHELD_FIELDS

# What an error reason may name besides the kept fields: the keys inside a
# time_limit, which the canonical model validates field by field.
REASON_KEYS = KEPT_FIELDS | {"value", "unit"}
