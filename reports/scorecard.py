"""The 766 scorecard as files and tables (`motcua scorecard`): the CSV exactly
as METRICS.md §7 lays it out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from reports.render import write_records_csv
from streams.rules.scorecard import SCORECARD_COLUMNS, UnitScorecard, scorecard_records


def write_scorecard_csv(cards: Sequence[UnitScorecard], out: IO[str]) -> None:
    """`motcua scorecard --format csv`: decimals with two places, empty where undefined."""
    write_records_csv(SCORECARD_COLUMNS, scorecard_records(cards), out)
