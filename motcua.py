"""The `motcua` command line: thin wiring around the pure rules and the services."""

from __future__ import annotations

import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from reports.offline import Rejected, report_from_files
from reports.period import UnitKind
from reports.render import rich_table, write_csv, write_xlsx
from schemas.settings import Settings

app = typer.Typer(
    help="motcua-monitor: giám sát hồ sơ TTHC — dossier monitor for one-stop centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


class ReportFormat(StrEnum):
    CSV = "csv"
    TABLE = "table"
    XLSX = "xlsx"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from None


@app.command()
def report(
    events: Annotated[
        list[Path],
        typer.Option("--events", exists=True, dir_okay=False, help="Canonical events, JSON lines."),
    ],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (00:00 local).")],
    to: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD (exclusive).")],
    by: Annotated[UnitKind, typer.Option(help="Unit of the rows.")] = UnitKind.AGENCY,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.CSV,
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Period report (Biểu II.06a) for [from, to) from event files, no server needed."""
    settings = Settings()
    cal = settings.calendar
    start, end = (datetime.combine(_day(d), datetime.min.time(), cal.tz) for d in (from_, to))
    if end <= start:
        raise typer.BadParameter("--to must be after --from")
    if fmt is ReportFormat.XLSX and output is None:
        raise typer.BadParameter("--format xlsx needs --output PATH")
    rejected = 0

    def on_reject(r: Rejected) -> None:
        nonlocal rejected
        rejected += 1
        print(f"{r.path}:{r.line}: invalid line skipped: {r.reason}", file=sys.stderr)

    rows = report_from_files(events, start, end, by, cal, settings.province, on_reject)
    title = f"Biểu II.06a — {from_} đến trước {to} — theo {by.value}"
    if fmt is ReportFormat.XLSX:
        assert output is not None
        write_xlsx(rows, output, title)
    elif fmt is ReportFormat.TABLE:
        console = Console(file=output.open("w", encoding="utf-8") if output else None)
        console.print(rich_table(rows, title))
    elif output is not None:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_csv(rows, out)
    else:
        write_csv(rows, sys.stdout)
    if rejected:
        print(f"{rejected} invalid line(s) skipped (dòng lỗi đã bỏ qua)", file=sys.stderr)


@app.command()
def run() -> None:
    """The live pipeline (broker → workers → ClickHouse)."""
    err.print("not yet: the streaming pipeline lands with the streaming issue (#3).")
    raise typer.Exit(2)


if __name__ == "__main__":
    app()
