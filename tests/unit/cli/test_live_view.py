"""`motcua run`'s terminal view fits the terminal: the caption (simulated time,
events sent, Ctrl-C hint) is always on screen, units that do not fit are
counted, the columns fit the width. Rendered by rich as a terminal would."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from motcua.live import _view
from schemas.settings import Settings
from streams.rules.period import PeriodRow

NOW = datetime(2026, 11, 14, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def _units(n: int) -> list[PeriodRow]:
    """n units; unit i finished 5 + i dossiers, i % 3 of them late."""
    return [
        PeriodRow(
            f"H44.{100 + i}",
            f"UBND xã Thử Nghiệm Số {i:02d}",
            received_total=10 + i,
            finished_total=5 + i,
            finished_early=1,
            finished_on_time=4 + i - i % 3,
            finished_late=i % 3,
        )
        for i in range(n)
    ]


def _render(rows: list[PeriodRow], width: int, height: int) -> list[str]:
    console = Console(width=width, height=height, record=True, color_system=None)
    view = _view(rows, NOW, 12345, Settings(), width, height, stored=12000)
    console.print(view)
    return console.export_text().splitlines()


def test_sixty_units_on_an_80_by_24_terminal() -> None:
    lines = _render(_units(60), 80, 24)
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    # the caption ends the screen (two lines at 80 columns)
    caption = " ".join(line.strip() for line in lines[-2:])
    assert caption == (
        "Giờ mô phỏng: 14/11/2026 09:00 · đã gửi 12345 sự kiện · đã lưu 12000 · Ctrl-C để dừng"
    )
    assert lines[0].strip() == "Tình hình giải quyết hồ sơ tháng 11/2026 (theo cơ quan)"
    # 24 lines: title 1, headers wrapped on 4, rule 1, units, "… và" 1, total 1,
    # caption 2 → 14 units shown, 46 counted
    assert any(line.strip() == "… và 46 đơn vị khác" for line in lines)
    units = [line for line in lines if line.startswith(" UBND")]
    assert len(units) == 14
    # worst on-time rate first: unit 02 (7 finished, 2 late: 5/7 = 71.43%)
    assert units[0].split()[5:8] == ["02", "12", "7"] and "71.43%" in units[0]
    total = next(line for line in lines if line.startswith(" Tổng"))
    # Σ received 10..69 = 2370; Σ finished 5..64 = 2070; late 0+1+2 … = 20·3 = 60;
    # on time (2070 − 60) / 2070 = 97.10%
    assert total.split()[1:5] == ["2370", "2070", "60", "0"] and "97.10%" in total


def test_every_unit_on_a_tall_terminal_and_columns_by_width() -> None:
    lines = _render(_units(10), 120, 50)
    assert not any("đơn vị khác" in line for line in lines)
    assert len([line for line in lines if line.startswith(" UBND")]) == 10
    assert "Tỷ lệ trực" in "\n".join(lines)  # room for every column at 120
    narrow = _render(_units(10), 60, 50)
    assert all(len(line) <= 60 for line in narrow)
    assert "Tỷ lệ trực" not in "\n".join(narrow)  # the least read column left out


def test_a_terminal_too_short_for_any_unit_still_shows_the_caption() -> None:
    lines = _render(_units(30), 100, 9)
    assert len(lines) <= 9
    assert lines[-1].endswith("Ctrl-C để dừng")
    # 9 lines: title 1, headers on 3, rule 1, one unit, "… và" 1, total 1, caption 1
    assert any(line.strip() == "… và 29 đơn vị khác" for line in lines)
