"""The monthly evidence workbook: Biểu II.06a per agency, field and district,
the 766 rates, the 766 scorecard (sheet "Chỉ số 766"), charts, and a cover
sheet that lets it stand as evidence (period, data cut-off, source, row
counts, and a SHA-256 of the data as the CSV export writes it, formula-like
names neutralised: schemas/cells.py).

Pure of I/O except writing the file: the caller hands in the rows.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from reports.integrity import FINDING_COLUMNS, FINDING_LABELS_VI, vietnamese
from reports.render import write_records_csv
from reports.tables import unit_labels
from schemas.cells import append_row, set_cell
from streams.rules.period import CSV_COLUMNS, PeriodRow, UnitKind
from streams.rules.scorecard import UnitScorecard

SHEETS = {
    UnitKind.AGENCY: "Theo đơn vị",
    UnitKind.FIELD: "Theo lĩnh vực",
    UnitKind.DISTRICT: "Theo huyện",
}
# sheets `export monthly --by` adds (METRICS.md §8: two-tier units)
EXTRA_SHEETS = {
    UnitKind.AREA: "Theo khu vực",
    UnitKind.COMMUNE: "Theo xã, phường",  # "/" is not allowed in a sheet title
}
SHEET_NAMES = SHEETS | EXTRA_SHEETS


@dataclass(frozen=True)
class MonthlyEvidence:
    month: str  # YYYY-MM
    province: PeriodRow
    tables: dict[UnitKind, list[PeriodRow]]  # agency, field, district rows
    trend: list[tuple[str, PeriodRow]]  # (YYYY-MM, province row), oldest first
    cut_off: datetime  # data as of
    source: str
    # integrity findings observed in the month (reports.integrity.finding_record)
    findings: Sequence[Mapping[str, object]] = ()
    # the month's 766 scorecards: the province's, then the agencies' (or the one unit's)
    scorecard: Sequence[UnitScorecard] = ()


def data_csv(evidence: MonthlyEvidence) -> str:
    """The data of every table, as CSV text: what the checksum covers."""
    out = io.StringIO()
    for kind, rows in evidence.tables.items():
        out.write(f"# {kind.value}\n")
        write_records_csv(CSV_COLUMNS, [r.as_record() for r in [*rows, evidence.province]], out)
    return out.getvalue()


def checksum(evidence: MonthlyEvidence) -> str:
    return hashlib.sha256(data_csv(evidence).encode("utf-8")).hexdigest()


def write_monthly_workbook(evidence: MonthlyEvidence, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    _cover(book.active, evidence)
    for kind, rows in evidence.tables.items():
        _table(book.create_sheet(SHEET_NAMES[kind]), rows, evidence.province, unit_labels(kind))
    if evidence.scorecard:
        _scorecard(book.create_sheet(SCORECARD_SHEET), evidence.scorecard)
    _charts(book.create_sheet("Biểu đồ"), evidence)
    _findings(book.create_sheet(FINDINGS_SHEET), evidence.findings)
    book.save(path)


FINDINGS_SHEET = "Dấu hiệu sửa hồ sơ"
SCORECARD_SHEET = "Chỉ số 766"


def _scorecard(sheet, cards: Sequence[UnitScorecard]) -> None:
    """The scorecard CSV's columns (METRICS.md §7) with the indicator's name and the
    points lost, Vietnamese headers over the machine names, where each figure
    came from in words; each unit ends with its total."""
    from openpyxl.styles import Font

    from reports.scorecard import LABELS_VI, SOURCE_VI, XLSX_COLUMNS, xlsx_records

    sources = {source.value: text for source, text in SOURCE_VI.items()}
    append_row(sheet, [LABELS_VI[c] for c in XLSX_COLUMNS])
    append_row(sheet, list(XLSX_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in xlsx_records(cards):
        shown = record | {"source": sources.get(str(record["source"]), record["source"])}
        append_row(sheet, [_figure(shown[c]) for c in XLSX_COLUMNS])
        if record["indicator"] == "Tổng":
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "C3"


def _findings(sheet, records: Sequence[Mapping[str, object]]) -> None:
    """One row per finding (METRICS.md §9), the kind by its Vietnamese name."""
    from openpyxl.styles import Font

    append_row(sheet, [FINDING_LABELS_VI[c] for c in FINDING_COLUMNS])
    append_row(sheet, list(FINDING_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in records:
        shown = vietnamese(dict(record))
        append_row(sheet, [shown[c] for c in FINDING_COLUMNS])
    sheet.freeze_panes = "C3"


def _cover(sheet, evidence: MonthlyEvidence) -> None:
    from openpyxl.styles import Font

    sheet.title = "Bìa"
    p = evidence.province
    lines = [
        ("BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", ""),
        ("Đơn vị báo cáo", p.unit_name),
        ("Kỳ báo cáo (tháng)", evidence.month),
        ("Thời điểm chốt số liệu", f"{evidence.cut_off:%d/%m/%Y %H:%M:%S %z}"),
        ("Nguồn số liệu", evidence.source),
        ("Số hồ sơ tiếp nhận trong kỳ", p.received_total),
        ("Số hồ sơ đã giải quyết", p.finished_total),
        ("Tỷ lệ đúng hạn (%)", _number(p.on_time_rate)),
        ("Tiến độ giải quyết 766 (%)", _number(p.progress_ratio_766)),
        ("Điểm tiến độ 766 (/20)", _number(p.progress_score_766)),
    ]
    lines += [(f"Số dòng — {SHEET_NAMES[k]}", len(rows)) for k, rows in evidence.tables.items()]
    lines.append((f"Số dòng — {FINDINGS_SHEET}", len(evidence.findings)))
    if evidence.scorecard:
        rows = sum(len(card.scores) for card in evidence.scorecard)
        lines.append((f"Số dòng — {SCORECARD_SHEET} (không kể dòng tổng)", rows))
    lines.append(("Mã kiểm tra SHA-256 (số liệu các biểu, dạng CSV)", checksum(evidence)))
    for label, value in lines:
        append_row(sheet, [label, value])  # the unit's name and the source come from data
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 48
    sheet.column_dimensions["B"].width = 70


def _figure(value: object) -> object:
    """Decimals as numbers; texts and blanks as they are."""
    return float(value) if isinstance(value, Decimal) else value


def _number(value: object) -> object:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _table(
    sheet, rows: Sequence[PeriodRow], province: PeriodRow, labels: Mapping[str, str]
) -> None:
    """`labels`: the headers for the sheet's unit kind ("Mã lĩnh vực" …)."""
    from openpyxl.styles import Font

    append_row(sheet, [labels[c] for c in CSV_COLUMNS])
    append_row(sheet, CSV_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in [*rows, province]:
        record = row.as_record()
        append_row(sheet, [_number(v) if c in _RATES else v for c, v in record.items()])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)  # the province total
    sheet.freeze_panes = "C3"


_RATES = set(CSV_COLUMNS[CSV_COLUMNS.index("on_time_rate") :])


def _charts(sheet, evidence: MonthlyEvidence) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference

    agencies = evidence.tables[UnitKind.AGENCY]
    append_row(sheet, ["Đơn vị", "Tỷ lệ đúng hạn (%)"])
    for row in agencies:
        append_row(sheet, [row.unit_name, _number(row.on_time_rate)])
    bar = BarChart()
    bar.type = "bar"
    bar.title = f"Tỷ lệ giải quyết đúng hạn theo đơn vị — tháng {evidence.month}"
    bar.add_data(
        Reference(sheet, min_col=2, min_row=1, max_row=len(agencies) + 1), titles_from_data=True
    )
    bar.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(agencies) + 1))
    bar.height, bar.width = 4 + 0.5 * len(agencies), 18
    sheet.add_chart(bar, "E2")

    first = len(agencies) + 3
    set_cell(sheet, first, 1, "Tháng")
    set_cell(sheet, first, 2, "Tỷ lệ đúng hạn toàn tỉnh (%)")
    for i, (month, row) in enumerate(evidence.trend, start=1):
        set_cell(sheet, first + i, 1, month)
        set_cell(sheet, first + i, 2, _number(row.on_time_rate))
    line = LineChart()
    line.title = "Xu hướng 12 tháng — tỷ lệ đúng hạn toàn tỉnh"
    last = first + len(evidence.trend)
    line.add_data(Reference(sheet, min_col=2, min_row=first, max_row=last), titles_from_data=True)
    line.set_categories(Reference(sheet, min_col=1, min_row=first + 1, max_row=last))
    sheet.add_chart(line, f"E{max(20, first)}")
