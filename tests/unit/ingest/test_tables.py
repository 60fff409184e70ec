"""Dossier tables + a column mapping → sync-record dicts; expected dicts written by hand
from the fixture rows (tests/fixtures/tables/dossiers.csv) and the sample mapping."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from ingest.sync import Status, parse_record
from ingest.tables import RowError, TableError, TableMapping, map_row, read_rows, text_key
from schemas.events import Channel

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "deploy" / "ingest" / "mapping.sample.toml"
CSV = ROOT / "tests" / "fixtures" / "tables" / "dossiers.csv"
MAPPING = TableMapping.from_file(SAMPLE)
PERSONAL = ("Plantedname", "001090099999", "0912000111", "Họ tên", "CCCD", "Điện thoại")

ROW_2 = {
    "MaHoSo": "H44.100-260504-0001",
    "MaTTHC": "1.003003",
    "TenTTHC": "Đăng ký biến động đất đai",
    "MaLinhVuc": "DD",
    "TenLinhVuc": "Đất đai",
    "DonViXuLy": "UBND Phường Việt Trì",
    "KenhThucHien": 2,
    "NgayTiepNhan": "20260504090000",
    "NgayHenTra": "20260507090000",
    "NgayKetThucXuLy": "20260506100000",
    "NgayTra": "20260506150000",
    "TrangThaiHoSo": 10,
    "DuocThanhToanTrucTuyen": 1,
}
# "trực tiếp" in lower case; a due date without a time; empty end columns left out
ROW_3 = {
    "MaHoSo": "H44.12-260505-0002",
    "MaTTHC": "2.000889",
    "TenTTHC": "Cấp giấy phép xây dựng, sửa chữa",
    "MaLinhVuc": "XD",
    "TenLinhVuc": "Xây dựng",
    "DonViXuLy": "Sở Tài nguyên và Môi trường",
    "KenhThucHien": 1,
    "NgayTiepNhan": "20260505083000",
    "NgayHenTra": "20260515000000",
    "TrangThaiHoSo": 4,
    "DuocThanhToanTrucTuyen": 0,
}
# seconds in the receipt time; an empty "Thanh toán trực tuyến" is left out
ROW_7 = {
    "MaHoSo": "H44.100-260506-0005",
    "MaTTHC": "2.001234",
    "TenTTHC": "Chứng thực bản sao",
    "MaLinhVuc": "CT",
    "TenLinhVuc": "Chứng thực",
    "DonViXuLy": "UBND Phường Việt Trì",
    "KenhThucHien": 1,
    "NgayTiepNhan": "20260506140030",
    "NgayHenTra": "20260506160000",
    "NgayKetThucXuLy": "20260506150000",
    "NgayTra": "20260506153000",
    "TrangThaiHoSo": 10,
}


def _mapping(**changes: Any) -> TableMapping:
    return TableMapping.model_validate(MAPPING.model_dump() | changes)


def _rows(path: Path, mapping: TableMapping = MAPPING) -> dict[int, dict[str, Any]]:
    return dict(read_rows(path, mapping))


# --- the CSV fixture with the sample mapping -------------------------------------------


def test_csv_rows_numbered_as_a_spreadsheet_shows_them_blank_row_skipped() -> None:
    assert list(_rows(CSV)) == [2, 3, 4, 5, 7]


def test_csv_cells_are_the_mapped_columns_only() -> None:
    cells = _rows(CSV)[2]
    assert set(cells) == set(MAPPING.columns.values())  # no STT, no personal column
    assert cells["Mã hồ sơ"] == "H44.100-260504-0001"  # header was "Mã Hồ Sơ " in the file
    assert cells["Ngày tiếp nhận"] == "04/05/2026 09:00"
    assert not any(p in str(v) for v in cells.values() for p in PERSONAL)


def test_csv_rows_map_to_the_records_worked_by_hand() -> None:
    rows = _rows(CSV)
    assert map_row(rows[2], MAPPING) == ROW_2
    assert map_row(rows[3], MAPPING) == ROW_3
    assert map_row(rows[7], MAPPING) == ROW_7


def test_a_mapped_row_is_a_valid_sync_record() -> None:
    record = parse_record(map_row(_rows(CSV)[2], MAPPING))
    assert record.status is Status.RETURNED and record.channel is Channel.ONLINE
    assert record.received_at == datetime(2026, 5, 4, 9, tzinfo=record.received_at.tzinfo)
    assert record.paid_online is True


def test_impossible_date_is_a_row_error_naming_column_and_value() -> None:
    with pytest.raises(RowError) as caught:
        map_row(_rows(CSV)[4], MAPPING)
    message = str(caught.value)
    # the column, not its value: the row's dead letter keeps the value
    assert message.startswith("Ngày tiếp nhận (NgayTiepNhan): not a valid date")
    assert "31/02" not in message
    assert "%d/%m/%Y %H:%M" in message


def test_unknown_status_text_is_a_row_error() -> None:
    with pytest.raises(RowError, match=r"Trạng thái \(TrangThaiHoSo\): unknown value "):
        map_row(_rows(CSV)[5], MAPPING)


def test_every_bad_cell_of_a_row_is_named() -> None:
    cells = _rows(CSV)[2] | {"Ngày hẹn trả": "hôm qua", "Hình thức nộp": "Fax"}
    with pytest.raises(RowError) as caught:
        map_row(cells, MAPPING)
    assert "Hình thức nộp (KenhThucHien): unknown value (known: " in str(caught.value)
    assert "Ngày hẹn trả (NgayHenTra): not a valid date" in str(caught.value)
    assert "Fax" not in str(caught.value) and "hôm qua" not in str(caught.value)


# --- matching and values ---------------------------------------------------------------


def test_text_key_ignores_case_spaces_and_composition() -> None:
    decomposed = unicodedata.normalize("NFD", "Ngày Tiếp  Nhận")
    assert decomposed != "Ngày Tiếp  Nhận"
    assert text_key(f"  {decomposed} ") == text_key("ngày tiếp nhận") == "ngày tiếp nhận"


def test_header_match_tolerates_nfd_case_and_spaces(tmp_path: Path) -> None:
    mapping = _mapping(columns={"MaHoSo": "Mã hồ sơ", "TrangThaiHoSo": "Trạng thái"}, values={})
    header = unicodedata.normalize("NFD", " MÃ HỒ SƠ ")
    path = tmp_path / "t.csv"
    path.write_text(f'"{header}",TRẠNG THÁI\nH44.1-1,4\n', encoding="utf-8")
    assert _rows(path, mapping) == {2: {"Mã hồ sơ": "H44.1-1", "Trạng thái": "4"}}


def test_value_map_tolerates_nfd_case_and_spaces() -> None:
    cells = _rows(CSV)[2] | {"Trạng thái": unicodedata.normalize("NFD", "  đã TRẢ kết  quả ")}
    assert map_row(cells, MAPPING)["TrangThaiHoSo"] == 10


def test_spreadsheet_values_dates_and_numbers() -> None:
    mapping = _mapping(values={})  # no value maps: codes pass as they are
    cells = {
        "Mã hồ sơ": " H44.100-1 ",
        "Trạng thái": 10.0,  # Excel's number
        "Hình thức nộp": 2,
        "Ngày tiếp nhận": datetime(2026, 5, 4, 9, 5, 7),
        "Ngày hẹn trả": date(2026, 5, 7),
        # an aware time is converted to local time (UTC 03:00 = 10:00 in Hà Nội)
        "Ngày có kết quả": datetime(2026, 5, 6, 3, 0, tzinfo=UTC),
        "Ngày trả kết quả": "06/05/2026 15:00:09",
        "Thanh toán trực tuyến": "",
        "Lĩnh vực": "   ",
    }
    assert map_row(cells, mapping) == {
        "MaHoSo": "H44.100-1",
        "TrangThaiHoSo": 10,
        "KenhThucHien": 2,
        "NgayTiepNhan": "20260504090507",
        "NgayHenTra": "20260507000000",
        "NgayKetThucXuLy": "20260506100000",
        "NgayTra": "20260506150009",
    }


def test_offset_other_than_utc_is_converted_too() -> None:
    cells = {"Mã hồ sơ": "H44.1-1", "Trạng thái": "Đang xử lý"}
    cells["Ngày tiếp nhận"] = datetime(2026, 5, 4, 23, 30, tzinfo=timezone(timedelta(hours=9)))
    assert map_row(cells, MAPPING)["NgayTiepNhan"] == "20260504213000"


def test_supplement_columns_make_one_round() -> None:
    mapping = _mapping(
        supplement_columns={"NgayYeuCauBoSung": "Ngày yêu cầu bổ sung", "NgayHenTraTruoc": "Hạn cũ"}
    )
    cells = {
        "Mã hồ sơ": "H44.1-1",
        "Trạng thái": "Chờ bổ sung",
        "Ngày yêu cầu bổ sung": "05/05/2026 10:00",
        "Hạn cũ": "06/05/2026",
    }
    assert map_row(cells, mapping) == {
        "MaHoSo": "H44.1-1",
        "TrangThaiHoSo": 5,
        "DanhSachHoSoBoSung": [
            {"NgayYeuCauBoSung": "20260505100000", "NgayHenTraTruoc": "20260506000000"}
        ],
    }
    assert "DanhSachHoSoBoSung" not in map_row(
        {**cells, "Ngày yêu cầu bổ sung": "", "Hạn cũ": ""}, mapping
    )


# --- file layouts ------------------------------------------------------------------------


def test_csv_with_bom_semicolons_and_a_title_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    text = (
        "DANH SÁCH HỒ SƠ;;\nMã hồ sơ;Họ tên người nộp;Trạng thái\nH44.1-1;Plantedname;Đang xử lý\n"
    )
    path.write_bytes("\ufeff".encode() + text.encode())
    mapping = _mapping(
        delimiter=";",
        header_row=2,
        columns={"MaHoSo": "Mã hồ sơ", "TrangThaiHoSo": "Trạng thái"},
        values={},
    )
    assert _rows(path, mapping) == {3: {"Mã hồ sơ": "H44.1-1", "Trạng thái": "Đang xử lý"}}


def _workbook(path: Path) -> None:
    book = Workbook()
    book.active.title = "Ghi chú"
    book.active["A1"] = "Xuất từ hệ thống một cửa"
    sheet = book.create_sheet("Danh sách hồ sơ")
    sheet.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN THÁNG 5/2026"])
    sheet.append([])
    sheet.append(["STT", "Mã hồ sơ", "Họ tên người nộp", "Số CCCD", "Trạng thái", "Ngày tiếp nhận"])
    sheet.append(
        [1, "H44.1-1", "Plantedname", "001090099999", "Đang xử lý", datetime(2026, 5, 4, 9)]
    )
    sheet.append([])
    sheet.append([2, "H44.1-2", "Plantedname", "001090099999", "Đã tiếp nhận", None])
    sheet.append([None, None, "only personal data: skipped"])
    book.save(path)


def test_xlsx_named_sheet_header_row_and_only_mapped_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    _workbook(path)
    columns = {
        "MaHoSo": "Mã hồ sơ",
        "TrangThaiHoSo": "Trạng thái",
        "NgayTiepNhan": "Ngày tiếp nhận",
    }
    mapping = _mapping(sheet="Danh sách hồ sơ", header_row=3, columns=columns, values={})
    assert _rows(path, mapping) == {
        4: {
            "Mã hồ sơ": "H44.1-1",
            "Trạng thái": "Đang xử lý",
            "Ngày tiếp nhận": datetime(2026, 5, 4, 9),
        },
        6: {"Mã hồ sơ": "H44.1-2", "Trạng thái": "Đã tiếp nhận", "Ngày tiếp nhận": None},
    }
    with pytest.raises(TableError, match="no sheet 'Hồ sơ'"):
        _rows(path, _mapping(sheet="Hồ sơ", header_row=3, columns=columns, values={}))
    with pytest.raises(TableError, match="lacks the columns"):  # the first sheet by default
        _rows(path, _mapping(header_row=1, columns=columns, values={}))


def test_missing_or_doubled_column_fails_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Mã hồ sơ,Trạng thái\nH44.1-1,Đang xử lý\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"row 1 lacks the columns \['Mã thủ tục'"):
        _rows(path)
    path.write_text("Mã hồ sơ,Trạng thái,MÃ HỒ SƠ\nH44.1-1,4,x\n", encoding="utf-8")
    mapping = _mapping(columns={"MaHoSo": "Mã hồ sơ", "TrangThaiHoSo": "Trạng thái"}, values={})
    with pytest.raises(TableError, match="more than once"):
        _rows(path, mapping)


def test_not_utf8_csv_is_a_table_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"M\xe3 h\xf4 s\xf4,Tr\xe1ng th\xe1i\n")  # a Windows code page
    with pytest.raises(TableError, match="not UTF-8"):
        _rows(path)


# --- the mapping file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"MaHoSo": "A", "TrangThaiHoSo": "B", "Status": "C"}}, "unknown fields"),
        ({"columns": {"TrangThaiHoSo": "B"}}, "MaHoSo must be mapped"),
        (
            {"columns": {"MaHoSo": "A", "TrangThaiHoSo": "B", "TenTTHC": "Họ tên người nộp"}},
            "personal columns must not be mapped: Họ tên người nộp",
        ),
        (
            {"columns": {"MaHoSo": "A", "TrangThaiHoSo": "B", "DonViXuLy": "Số CCCD"}},
            "personal columns",
        ),
        ({"columns": {"MaHoSo": "Mã", "TrangThaiHoSo": " mã "}}, "same column header"),
        (
            {"values": {"MaTTHC": {"x": 1}}, "columns": {"MaHoSo": "A", "TrangThaiHoSo": "B"}},
            "values.MaTTHC",
        ),
        ({"values": {"NgayTra": {"x": 1}}}, "values.NgayTra"),
        ({"values": {"TrangThaiHoSo": {"Mới": 1, "mới ": 2}}}, "differ only in case"),
        ({"header_row": 0}, "header_row"),
        ({"date_formats": []}, "date_formats"),
        ({"colums": {}}, "colums"),
    ],
)
def test_bad_mappings_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableMapping.model_validate(MAPPING.model_dump() | change)


def test_mapping_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[columns]\nMaHoSo = "Mã hồ sơ"\n', encoding="utf-8")
    with pytest.raises(TableError, match=r"m\.toml.*TrangThaiHoSo must be mapped"):
        TableMapping.from_file(path)
    path.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"m\.toml"):
        TableMapping.from_file(path)


def test_sample_mapping_reads_the_fields_the_brief_lists() -> None:
    assert MAPPING.header_row == 1 and MAPPING.sheet is None
    assert MAPPING.columns["TrangThaiHoSo"] == "Trạng thái"
    assert MAPPING.values["TrangThaiHoSo"]["Đã trả kết quả"] == 10
    assert MAPPING.values["KenhThucHien"]["Trực tuyến"] == 2
