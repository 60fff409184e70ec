"""The national portal's published 766 figures (EVENTS.md §3), per unit and indicator.

`load_portal_figures` reads three shapes into one mapping (unit code,
indicator id) → `PortalFigure`, each figure naming the file it came from:

1. the portal's progress tree (`dvc-progress-tree`): `{"data": {"parent": {…},
   "children": [{…}]}}` with `departmentCode, departmentName, level,
   totalReceived, totalOnTime, ratio, score, maxScore` (the parent says
   `totalScore, totalMaxScore`). Each unit gives indicator **2.1**: numerator
   `totalOnTime`, denominator `totalReceived`, rate `ratio`, points `score`,
   max `maxScore`. 2.1 is the whole progress group, so nothing else is needed
   for it.
2. the portal's online tree (`provide-online-tree`): the same envelope; each
   unit has `totalScore, totalMaxScore, ratio` for the **online group as a
   whole** (ratio = totalScore / totalMaxScore × 100, not a dossier rate),
   recorded under the group id `online`. The province row also carries the
   channel sums: **3.3**'s rate is derived as channelOnlineSum /
   channelTotalSum × 100 (numerator and denominator those sums, no points:
   3.3 is shown, not scored). That is the portal's online *channel* share;
   METRICS.md §7's 3.3 also asks an electronic result where the procedure
   has a paper one, so ours can be lower. **3.F is not derivable**:
   `fullCount` and `partialCount` count *procedures* offered fully or
   partly online (out of `authorityCount`), while 3.F counts *dossiers*; and
   the group's points are not split by indicator on the portal, so they are
   not read as 3.F's points (in the default table 3.F carries the whole 12,
   so reconciling the group compares the same number). The children carry
   no channel sums, so they get no 3.3.
3. a general shape for the portal's per-indicator and per-group figures (its
   other endpoints are not in the sample), as JSON — `{"month": "2026-08",
   "figures": [row, …]}` or a bare list of rows — or CSV with a header line
   (comma, semicolon or tab separated; UTF-8, a BOM allowed). A row:
   `unit_code` (required), `indicator` (required: an indicator id of the
   scoring table such as `1.1`, `3.5b`, `4.C`, or a group — `publicity`,
   `progress`, `online`, `payment`, `digitization`, `satisfaction`, or its
   number `1`…`6`), `unit_name`, `points`, `max`, `rate` (percent),
   `numerator`, `denominator`, `month` (YYYY-MM; the row's own or the
   document's), `level` (`PROVINCE_TOTAL` marks the province as a whole, as
   the trees' parent). See tests/fixtures/portal/.

In every shape: fields not listed are ignored; null or an empty cell is
None, never 0 ("missing is never zero"); numbers may be strings, with a
decimal comma (`"12,5"`) or point, thousands grouped by `.`/`,`/space
(`"1.234"` as a count), a trailing `%` on a rate. An indicator id the table
does not know is an error naming the row and the field (a typo would
otherwise drop a figure silently) unless `on_unknown` is given, which then
receives one message per skipped row. A bad number is an error naming the
row and the field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from schemas.scoring import DEFAULT_SCORING, Group, ScoringTable
from streams.rules.period import two_decimals

# the groups' numbers on the rule sheet (also accepted in files as ids)
GROUP_NUMBERS = {
    "1": Group.PUBLICITY,
    "2": Group.PROGRESS,
    "3": Group.ONLINE,
    "4": Group.PAYMENT,
    "5": Group.DIGITIZATION,
    "6": Group.SATISFACTION,
}
GROUP_NAMES_VI = {
    Group.PUBLICITY: "Nhóm công khai, minh bạch",
    Group.PROGRESS: "Nhóm tiến độ giải quyết",
    Group.ONLINE: "Nhóm dịch vụ công trực tuyến",
    Group.PAYMENT: "Nhóm thanh toán trực tuyến",
    Group.DIGITIZATION: "Nhóm số hóa hồ sơ",
    Group.SATISFACTION: "Nhóm mức độ hài lòng",
}
# the parent row of a tree: the province as a whole
PROVINCE_TOTAL = "PROVINCE_TOTAL"

# the general shape's columns, and the other names a file may use for them
_ALIASES = {
    "unit_code": ("unit_code", "departmentCode", "ma_don_vi"),
    "unit_name": ("unit_name", "departmentName", "ten_don_vi"),
    "indicator": ("indicator", "indicator_id", "chi_so"),
    "points": ("points", "score", "diem"),
    "max": ("max", "maxScore", "max_points", "diem_toi_da"),
    "rate": ("rate", "ratio", "ty_le"),
    "numerator": ("numerator", "tu_so"),
    "denominator": ("denominator", "mau_so"),
    "month": ("month", "thang"),
    "level": ("level", "cap"),
}
_ONLINE_FIELDS = frozenset({"channelOnlineSum", "channelTotalSum", "onlineServiceTotal"})
_PROGRESS_FIELDS = frozenset({"totalReceived", "totalOnTime"})
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_GROUPED = re.compile(r"^\d{1,3}([., ]\d{3})+$")


class PortalFigureError(ValueError):
    """A portal figures file that cannot be read; the message names the row and
    the field (Vietnamese, for the person who downloaded it)."""


@dataclass(frozen=True, slots=True)
class PortalFigure:
    """One published figure of a unit: an indicator's (`1.1`) or a group's (`online`).

    Every number is None where the portal did not publish it (never 0).
    """

    unit_code: str
    indicator: str  # an indicator id of the scoring table, or a Group value
    points: Decimal | None
    max: Decimal | None = None
    rate: Decimal | None = None  # percent
    numerator: int | None = None
    denominator: int | None = None
    unit_name: str = ""
    month: str | None = None  # YYYY-MM when the file says so
    level: str | None = None  # the tree's level; PROVINCE_TOTAL for its parent
    source: str = "portal"  # "portal: <file name>"

    @property
    def is_group(self) -> bool:
        return self.indicator in set(Group)

    @property
    def published(self) -> bool:
        """Whether the portal gave any number at all for it."""
        return any(
            v is not None for v in (self.points, self.rate, self.numerator, self.denominator)
        )


PortalFigureMap = dict[tuple[str, str], PortalFigure]


def load_portal_figures(
    path_or_text: str | bytes | os.PathLike[str],
    *,
    table: ScoringTable = DEFAULT_SCORING,
    on_unknown: Callable[[str], None] | None = None,
    name: str | None = None,
) -> PortalFigureMap:
    """The figures of one portal file, by (unit code, indicator id or group).

    `path_or_text`: a path (`Path`, or a `str` that is neither JSON nor
    multi-line), or the file's content (`bytes`, or a `str` starting with `{`
    or `[` or holding a line break). The source is "portal: <file name>"
    (`name`, or the path's name, or "text"). The shapes are in the module's
    docstring. Raises PortalFigureError.
    """
    if isinstance(path_or_text, bytes):
        raw, label = path_or_text.decode("utf-8-sig"), name or "text"
    elif isinstance(path_or_text, str) and _is_content(path_or_text):
        raw, label = path_or_text.removeprefix("\ufeff"), name or "text"
    else:
        path = Path(path_or_text)
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise PortalFigureError(f"không đọc được {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise PortalFigureError(f"{path} không phải văn bản UTF-8") from None
        label = name or path.name
    source = f"portal: {label}"
    if raw.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise PortalFigureError(f"không phải JSON hợp lệ ({exc})") from None
        return _from_json(document, source, table, on_unknown)
    return _from_rows(_csv_rows(raw), None, source, table, on_unknown, "dòng")


def merge_portal_figures(*maps: Mapping[tuple[str, str], PortalFigure]) -> PortalFigureMap:
    """Figures of several files as one; the same unit and indicator twice is an
    error unless both files say the same numbers."""
    merged: PortalFigureMap = {}
    for figures in maps:
        for key, figure in figures.items():
            seen = merged.get(key)
            if seen is not None and _numbers(seen) != _numbers(figure):
                raise PortalFigureError(
                    f"{key[0]} / {key[1]}: {seen.source} và {figure.source} khác nhau"
                )
            merged.setdefault(key, figure)
    return merged


def portal_points(
    figures: Mapping[tuple[str, str], PortalFigure], table: ScoringTable = DEFAULT_SCORING
) -> dict[tuple[str, str], Decimal | None]:
    """The `portal` argument of `streams.rules.scorecard.scorecard`: the points of
    the indicators only the portal decides (a None stays None: missing)."""
    ids = {i.id for i in table.portal}
    return {key: f.points for key, f in figures.items() if key[1] in ids}


def _numbers(f: PortalFigure) -> tuple:
    return (f.points, f.max, f.rate, f.numerator, f.denominator, f.month)


def _is_content(text: str) -> bool:
    return "\n" in text or text.lstrip().startswith(("{", "[", "\ufeff"))


# numbers -------------------------------------------------------------------


def parse_decimal(value: Any, where: str) -> Decimal | None:
    """A JSON number or a string such as "12,5", "1.234,5", "78.38%"; None for
    null or an empty string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PortalFigureError(f"{where}: {value!r} không phải số")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "").removesuffix("%")
        if not text:
            return None
        if "," in text and "." in text:  # the later one is the decimal mark
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise PortalFigureError(f"{where}: {value!r} không phải số") from None
    else:
        raise PortalFigureError(f"{where}: {value!r} không phải số")
    if not number.is_finite():
        raise PortalFigureError(f"{where}: {value!r} không phải số")
    if number < 0:
        raise PortalFigureError(f"{where}: {value!r} âm")
    return number


def parse_count(value: Any, where: str) -> int | None:
    """A whole count; a string may group thousands ("1.234", "1,234", "1 234")."""
    if isinstance(value, str) and _GROUPED.match(value.strip().replace("\u00a0", " ")):
        return int(re.sub(r"\D", "", value))
    number = parse_decimal(value, where)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise PortalFigureError(f"{where}: {value!r} không phải số nguyên")
    return int(number)


# the general shape ---------------------------------------------------------


def _csv_rows(raw: str) -> list[dict[str, Any]]:
    lines = raw.splitlines()
    header = next((line for line in lines if line.strip()), "")
    if not header:
        raise PortalFigureError("tệp rỗng")
    delimiter = max(("\t", ";", ","), key=header.count)
    if not header.count(delimiter):
        raise PortalFigureError(
            "không nhận ra dạng tệp: không phải JSON, và dòng đầu không phải tiêu đề CSV"
        )
    reader = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
    reader.fieldnames = [f.strip() for f in reader.fieldnames or []]
    return [row for row in reader if any(isinstance(v, str) and v.strip() for v in row.values())]


def _pick(row: Mapping[str, Any], column: str) -> Any:
    for alias in _ALIASES[column]:
        if alias in row:
            value = row[alias]
            return value.strip() if isinstance(value, str) else value
    return None


def _indicator_id(value: Any, table: ScoringTable) -> str | None:
    text = str(value).strip() if value is not None else ""
    if text in GROUP_NUMBERS:
        return GROUP_NUMBERS[text].value
    if text.lower() in set(Group):
        return text.lower()
    try:
        return table[text].id
    except KeyError:
        return None


def _month(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not _MONTH.match(text):
        raise PortalFigureError(f"{where}: tháng {value!r} không đúng dạng YYYY-MM")
    return text


def _from_rows(
    rows: Iterable[Any],
    month: str | None,
    source: str,
    table: ScoringTable,
    on_unknown: Callable[[str], None] | None,
    what: str,
) -> PortalFigureMap:
    figures: PortalFigureMap = {}
    where_of: dict[tuple[str, str], str] = {}
    known = ", ".join([i.id for i in (*table.computed, *table.portal)] + list(Group))
    for n, row in enumerate(rows):
        # CSV rows are counted as in a spreadsheet (the header is line 1)
        where = f"{what} {n + 2}" if what == "dòng" else f"{what}[{n}]"
        if not isinstance(row, Mapping):
            raise PortalFigureError(f"{where}: không phải một đối tượng JSON")
        code = _pick(row, "unit_code")
        if code in (None, ""):
            raise PortalFigureError(f"{where}: thiếu trường unit_code (mã đơn vị)")
        raw_id = _pick(row, "indicator")
        if raw_id in (None, ""):
            raise PortalFigureError(f"{where}: thiếu trường indicator (mã chỉ số)")
        indicator = _indicator_id(raw_id, table)
        if indicator is None:
            message = (
                f"{where}: trường indicator = {str(raw_id)!r} không phải chỉ số 766 đã biết "
                f"({known})"
            )
            if on_unknown is None:
                raise PortalFigureError(message)
            on_unknown(message)
            continue
        key = (str(code).strip(), indicator)
        if key in figures:
            raise PortalFigureError(f"{where}: {key[0]} / {key[1]} đã có ở {where_of[key]}")
        figures[key] = PortalFigure(
            unit_code=key[0],
            indicator=indicator,
            points=parse_decimal(_pick(row, "points"), f"{where}: trường points"),
            max=parse_decimal(_pick(row, "max"), f"{where}: trường max"),
            rate=parse_decimal(_pick(row, "rate"), f"{where}: trường rate"),
            numerator=parse_count(_pick(row, "numerator"), f"{where}: trường numerator"),
            denominator=parse_count(_pick(row, "denominator"), f"{where}: trường denominator"),
            unit_name=str(_pick(row, "unit_name") or ""),
            month=_month(_pick(row, "month"), f"{where}: trường month") or month,
            level=_text(_pick(row, "level")) or None,
            source=source,
        )
        where_of[key] = where
    return figures


# the portal's trees --------------------------------------------------------


def _from_json(
    document: Any,
    source: str,
    table: ScoringTable,
    on_unknown: Callable[[str], None] | None,
) -> PortalFigureMap:
    if isinstance(document, list):
        return _from_rows(document, None, source, table, on_unknown, "figures")
    if not isinstance(document, dict):
        raise PortalFigureError("JSON phải là một đối tượng hoặc một danh sách")
    if isinstance(document.get("figures"), list):
        month = _month(document.get("month"), "trường month")
        return _from_rows(document["figures"], month, source, table, on_unknown, "figures")
    data = document.get("data")
    if isinstance(data, dict) and ("parent" in data or "children" in data):
        return _from_tree(data, _month(document.get("month"), "trường month"), source)
    raise PortalFigureError(
        'không nhận ra dạng tệp: cần {"data": {"parent": …, "children": […]}} của Cổng, '
        'hoặc {"figures": […]} / một danh sách các dòng (unit_code, indicator, points, …)'
    )


def _tree_items(data: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    items = []
    parent = data.get("parent")
    if parent is not None:
        if not isinstance(parent, Mapping):
            raise PortalFigureError("data.parent không phải một đối tượng JSON")
        items.append(("data.parent", parent))
    children = data.get("children") or []
    if not isinstance(children, list):
        raise PortalFigureError("data.children không phải một danh sách")
    for i, child in enumerate(children):
        if not isinstance(child, Mapping):
            raise PortalFigureError(f"data.children[{i}] không phải một đối tượng JSON")
        items.append((f"data.children[{i}]", child))
    return items


def _from_tree(data: Mapping[str, Any], month: str | None, source: str) -> PortalFigureMap:
    items = _tree_items(data)
    fields = set().union(*(item.keys() for _, item in items)) if items else set()
    if fields & _PROGRESS_FIELDS:
        read = _progress
    elif fields & _ONLINE_FIELDS or "totalMaxScore" in fields:
        read = _online
    else:
        raise PortalFigureError(
            "data: không nhận ra thống kê nào của Cổng (không có totalReceived của "
            "«Tiến độ giải quyết», không có totalScore/channelTotalSum của «Cung cấp DVC "
            "trực tuyến»); với nhóm khác dùng dạng chung (unit_code, indicator, points, …)"
        )
    figures: PortalFigureMap = {}
    for where, item in items:
        code = item.get("departmentCode")
        if code in (None, ""):
            raise PortalFigureError(f"{where} thiếu trường departmentCode")
        level = PROVINCE_TOTAL if where == "data.parent" else _text(item.get("level"))
        common = {
            "unit_code": str(code),
            "unit_name": _text(item.get("departmentName")) or "",
            "month": month,
            "level": level,
            "source": source,
        }
        for figure in read(item, where, common):
            figures[(figure.unit_code, figure.indicator)] = figure
    return figures


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _first(item: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` the item has (a null value counts: it is what was published)."""
    for name in names:
        if name in item:
            return item[name]
    return None


def _progress(item: Mapping[str, Any], where: str, common: dict) -> list[PortalFigure]:
    """2.1 from a progress row: what the portal judged, as published."""
    return [
        PortalFigure(
            indicator="2.1",
            points=parse_decimal(_first(item, "score", "totalScore"), f"{where}.score"),
            max=parse_decimal(_first(item, "maxScore", "totalMaxScore"), f"{where}.maxScore"),
            rate=parse_decimal(item.get("ratio"), f"{where}.ratio"),
            numerator=parse_count(item.get("totalOnTime"), f"{where}.totalOnTime"),
            denominator=parse_count(item.get("totalReceived"), f"{where}.totalReceived"),
            **common,
        )
    ]


def _online(item: Mapping[str, Any], where: str, common: dict) -> list[PortalFigure]:
    """The online group's points (totalScore / totalMaxScore, ratio their share),
    and 3.3's rate from the channel sums where the row has them (the province's)."""
    figures = [
        PortalFigure(
            indicator=Group.ONLINE.value,
            points=parse_decimal(_first(item, "totalScore", "score"), f"{where}.totalScore"),
            max=parse_decimal(_first(item, "totalMaxScore", "maxScore"), f"{where}.totalMaxScore"),
            rate=parse_decimal(item.get("ratio"), f"{where}.ratio"),
            **common,
        )
    ]
    online = parse_count(item.get("channelOnlineSum"), f"{where}.channelOnlineSum")
    total = parse_count(item.get("channelTotalSum"), f"{where}.channelTotalSum")
    if online is not None or total is not None:
        rate = None
        if online is not None and total:
            rate = two_decimals(Fraction(100 * online, total))
        figures.append(
            PortalFigure(
                indicator="3.3",
                points=None,  # shown, not scored
                rate=rate,
                numerator=online,
                denominator=total,
                **common,
            )
        )
    return figures
