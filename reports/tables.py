"""Report tables for people: on a terminal a rich table that fits its width,
anywhere else (a pipe, a file) a plain text table that does not depend on
any width.

A table names what it groups by ("theo lĩnh vực"), heads its code column
accordingly ("Mã lĩnh vực"), and ends with a total row ("Tổng"). On a
terminal too narrow for every column, the least read columns are left out
(in `drop_order`) and a note says which; CSV and xlsx always carry all.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from reports.render import cell
from streams.rules.period import COLUMN_LABELS_VI, PeriodRow, UnitKind

Record = Mapping[str, object]

BY_TITLE = {
    UnitKind.AGENCY: "theo cơ quan",
    UnitKind.COMMUNE: "theo xã/phường",
    UnitKind.AREA: "theo khu vực",
    UnitKind.FIELD: "theo lĩnh vực",
    UnitKind.DISTRICT: "theo huyện",
    UnitKind.LEVEL: "theo cấp",
    UnitKind.PROCEDURE: "theo thủ tục",
    UnitKind.PROVINCE: "toàn tỉnh",
}
_UNIT_HEADERS = {
    UnitKind.AGENCY: ("Mã đơn vị", "Tên đơn vị"),
    UnitKind.COMMUNE: ("Mã xã/phường", "Xã/phường"),
    UnitKind.AREA: ("Mã khu vực", "Khu vực"),
    UnitKind.FIELD: ("Mã lĩnh vực", "Tên lĩnh vực"),
    UnitKind.DISTRICT: ("Mã huyện", "Tên huyện"),
    UnitKind.LEVEL: ("Mã cấp", "Cấp"),
    UnitKind.PROCEDURE: ("Mã thủ tục", "Tên thủ tục"),
    UnitKind.PROVINCE: ("Mã tỉnh", "Tên tỉnh"),
}
TOTAL = "Tổng"


def unit_labels(by: UnitKind) -> dict[str, str]:
    """The Vietnamese column headers of a report grouped by `by`."""
    code, name = _UNIT_HEADERS[by]
    return COLUMN_LABELS_VI | {"unit_code": code, "unit_name": name}


def total_row(rows: Sequence[PeriodRow]) -> PeriodRow:
    """The sum of the rows (rates recomputed from the summed counts)."""
    total = PeriodRow("", TOTAL)
    for row in rows:
        total.add(row)
    return total


@dataclass
class TableSpec:
    """What a table shows; `drop_order`: columns a narrow terminal may leave out, first first."""

    title: str
    columns: Sequence[str]
    labels: Mapping[str, str]
    records: Sequence[Record]
    total: Record | None = None
    drop_order: Sequence[str] = field(default_factory=tuple)

    def text_columns(self) -> set[str]:
        return {c for c in self.columns if c == "unit_code" or c.endswith(_TEXT_SUFFIXES)}


_TEXT_SUFFIXES = ("_name", "status", "differences")
_NAME_MIN = 24  # names longer than this wrap; shorter ones keep their line
# rich: a space of padding each side and a (blank) divider; no edges, so one divider less
_COLUMN_GAP = 3


def _words_width(text: str) -> int:
    return max((cell_len(w) for w in text.split()), default=0)


def _min_width(spec: TableSpec, column: str) -> int:
    values = [cell(r[column]) for r in [*spec.records, *([spec.total] if spec.total else [])]]
    header = _words_width(spec.labels[column])
    if column.endswith("_name") or column == "differences":
        longest = max((cell_len(v) for v in values), default=0)
        return max(header, min(longest, _NAME_MIN))
    return max([header, *(cell_len(v) for v in values)])


def fit_columns(spec: TableSpec, width: int) -> list[str]:
    """The columns that fit `width` terminal cells, leaving out drop_order's first."""
    columns = list(spec.columns)
    for dropped in [None, *spec.drop_order]:
        if dropped in columns:
            columns.remove(dropped)
        needed = sum(_min_width(spec, c) + _COLUMN_GAP for c in columns) - 1
        if needed <= width:
            break
    return columns


def column_widths(spec: TableSpec, columns: Sequence[str], width: int) -> dict[str, int]:
    """Each column's width in cells (padding excluded) so the table is at most `width`:
    every column its minimum, then what is left to the name (up to its longest) and
    to the headers (fewer header lines), in that order."""
    widths = {c: _min_width(spec, c) for c in columns}
    slack = width + 1 - sum(w + _COLUMN_GAP for w in widths.values())
    records = [*spec.records, *([spec.total] if spec.total else [])]
    for c in columns:
        if c.endswith("_name") and slack > 0:
            longest = max((cell_len(cell(r[c])) for r in records), default=0)
            grow = min(slack, max(0, longest - widths[c]))
            widths[c] += grow
            slack -= grow
    while slack > 0:
        wrapped = [c for c in columns if cell_len(spec.labels[c]) > widths[c]]
        if not wrapped:
            break
        for c in wrapped[:slack]:
            widths[c] += 1
            slack -= 1
    return widths


def terminal_table(spec: TableSpec, width: int) -> RenderableType:
    """A rich table for a terminal `width` cells wide (headers wrap, columns fit)."""
    columns = fit_columns(spec, width)
    widths = column_widths(spec, columns, width)
    texts = spec.text_columns()
    table = Table(
        title=spec.title, header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, expand=False
    )
    for name in columns:
        table.add_column(
            spec.labels[name],
            justify="left" if name in texts else "right",
            overflow="fold",
            width=widths[name],
        )
    for i, record in enumerate(spec.records):
        last = i == len(spec.records) - 1
        table.add_row(*(cell(record[c]) for c in columns), end_section=last and bool(spec.total))
    if spec.total is not None:
        table.add_row(*(cell(spec.total[c]) for c in columns), style="bold")
    left_out = [spec.labels[c] for c in spec.columns if c not in columns]
    if not left_out:
        return table
    note = Text(
        f"Màn hình {width} cột: đã ẩn {len(left_out)} cột ({', '.join(left_out)}); "
        "dùng --format csv hoặc xlsx để có đủ cột.",
        style="dim",
    )
    return Group(table, note)


def plain_table(spec: TableSpec, header_width: int = 12) -> str:
    """A fixed-width text table of every column, for a file or a pipe.

    Headers wrap onto lines of about `header_width` cells; a column is as
    wide as its widest value or header word; nothing depends on a terminal.
    """
    columns = list(spec.columns)
    texts = spec.text_columns()
    rows = [[cell(r[c]) for c in columns] for r in spec.records]
    total = [cell(spec.total[c]) for c in columns] if spec.total is not None else None
    widths = []
    headers = []
    for i, name in enumerate(columns):
        label = unicodedata.normalize("NFC", spec.labels[name])
        values = [row[i] for row in [*rows, *([total] if total else [])]]
        widest = max([cell_len(v) for v in values] + [_words_width(label)])
        lines = textwrap.wrap(label, max(widest, header_width), break_long_words=False) or [""]
        widths.append(max(widest, *(cell_len(line) for line in lines)))
        headers.append(lines)

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, text in enumerate(cells):
            pad = " " * (widths[i] - cell_len(text))
            out.append(text + pad if columns[i] in texts else pad + text)
        return "  ".join(out).rstrip()

    height = max(len(h) for h in headers)
    lines = [spec.title, ""]
    for n in range(height):
        lines.append(line([h[n] if n < len(h) else "" for h in headers]))
    rule = line(["-" * w for w in widths])
    lines.append(rule)
    lines += [line(row) for row in rows]
    if total is not None:
        lines.append(rule)
        lines.append(line(total))
    return "\n".join(lines) + "\n"
