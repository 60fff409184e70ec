"""Row shapes: the columns of each table the workers write and the encoders
that turn events, facts, dead letters and units into those rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import attrgetter, itemgetter

from schemas.deadletter import DeadLetter
from schemas.events import DossierEvent, Level, event_json
from streams.clickhouse.sql import NEVER
from streams.rules.facts import DossierFacts
from streams.rules.period import LEVEL_NAMES
from streams.rules.processor import ProcessedBatch


def stored_time(t: datetime | None) -> int:
    """Unix seconds: what a DateTime('UTC') column stores (None → NEVER).

    An int, not a datetime: the driver would localize every datetime cell
    with pytz, a fifth of a busy worker's time (bench/results/backfill).
    """
    return int((NEVER if t is None else t).timestamp())


NEVER_STORED = stored_time(None)


class StoredTimes(dict[datetime | None, int]):
    """`stored_time` as a lookup, each distinct datetime converted once: a fact
    row has ~20 time cells, mostly the same few instants (an event's `at` is
    its receipt, a change, a due's start, a flag...), and `timestamp()` costs
    ~0.6 µs against ~30 ns for a lookup. Use one per batch (memory)."""

    def __init__(self) -> None:
        super().__init__({None: NEVER_STORED})

    def __missing__(self, t: datetime) -> int:
        seconds = int(t.timestamp())
        tz = t.tzinfo
        # equal datetimes are one instant, hence one value, unless a fold can
        # tell them apart (same zone and fields, other offset) or they are naive
        if type(tz) is timezone or (
            tz is not None and t.utcoffset() == t.replace(fold=1 - t.fold).utcoffset()
        ):
            self[t] = seconds
        return seconds


RAW_EVENT_COLUMNS = ("event_id", "dossier_id", "type", "at", "payload", "stored_at")


def event_payload(event: DossierEvent) -> str:
    """The raw_events payload: the event's canonical JSON (`event_json`)."""
    return event_json(event).decode()


def raw_event_row(
    event: DossierEvent, stored_at: datetime, times: StoredTimes | None = None
) -> tuple:
    times = StoredTimes() if times is None else times
    payload = event_payload(event)
    return (
        event.event_id,
        event.dossier_id,
        event.type._value_,
        times[event.at],
        payload,
        times[stored_at],
    )


FACT_COLUMNS = (
    "dossier_id",
    "version",
    "agency_code",
    "agency_name",
    "level",
    "district_code",
    "district_name",
    "field_code",
    "field_name",
    "procedure_code",
    "procedure_name",
    "channel",
    "online_level",
    "received_at",
    "due",
    "end_at",
    "outcome",
    "judged_at",
    "final_standing",
    "supplement_count",
    "apology_at",
    "fee_due_at",
    "paid_online_at",
    "digitized_at",
    "processing_seconds",
    "change_at",
    "change_standing",
    "change_late",
    "updated_at",
    "last_event_at",
    "due_from",
    "due_history",
    "finding_kind",
    "finding_at",
    "finding_old",
    "finding_new",
    "finding_evidence",
    # the 766 scorecard (migration 0011)
    "electronic_result_at",
    "components_digitized_at",
    "reused_digitized_data_at",
    "from_personal_store_at",
    "vneid_verified_at",
    "complaint_at",
    "commune_code",
    "commune_name",
)

# the scorecard flags' "first reported true" columns, in FACT_COLUMNS order
SCORECARD_FLAG_COLUMNS = (
    "electronic_result_at",
    "components_digitized_at",
    "reused_digitized_data_at",
    "from_personal_store_at",
    "vneid_verified_at",
)


def fact_version(facts: DossierFacts, computed_at: int) -> int:
    """More events always win; for the same events, the later computation
    (`computed_at`: stored seconds) wins."""
    return (facts.event_count << 32) | computed_at


_FLAGS_AT = attrgetter(*SCORECARD_FLAG_COLUMNS)
# the list cells read through C-level maps and attrgetters: a list
# comprehension is a Python frame per cell, eight per row, and fact rows were
# a fifth of a backfill (bench/results/peers)
_CHANGE_AT, _CHANGE_STANDING, _CHANGE_LATE = (
    attrgetter("at"),
    attrgetter("standing._value_"),
    attrgetter("late"),
)
_DUE_SINCE, _DUE_DUE = attrgetter("since"), attrgetter("due")
# most dossiers have no finding: their five finding cells are these (never mutated)
_NO_FINDINGS: tuple[list, ...] = ([], [], [], [], [])


def _finding_cells(findings: tuple, t: StoredTimes) -> tuple[list, ...]:
    if not findings:
        return _NO_FINDINGS
    return (
        [f.kind._value_ for f in findings],
        [t[f.observed_at] for f in findings],
        [f.old for f in findings],
        [f.new for f in findings],
        [" ".join(f.evidence) for f in findings],
    )


def fact_row(facts: DossierFacts, computed_at: datetime, times: StoredTimes | None = None) -> tuple:
    """`times`: a batch's shared conversions (`stored_batch`)."""
    t = StoredTimes() if times is None else times
    stored = t.__getitem__
    r = facts.received
    processing = 0 if facts.processing_time is None else int(facts.processing_time.total_seconds())
    changes, dues = facts.changes, facts.dues
    # `_value_`, not `.value`: the same str without the enum property (~0.2 µs each)
    return (
        facts.dossier_id,
        fact_version(facts, stored(computed_at)),
        r.agency_code or "",
        r.agency_name or "",
        r.level._value_ if r.level else "",
        r.district_code or "",
        r.district_name or "",
        r.field_code or "",
        r.field_name or "",
        r.procedure_code or "",
        r.procedure_name or "",
        r.channel._value_ if r.channel else "",
        r.online_level._value_ if r.online_level else "",
        stored(r.at),
        stored(facts.due),
        stored(facts.end_at),
        facts.outcome._value_ if facts.outcome else "",
        stored(facts.judged_at),
        facts.final_standing._value_ if facts.final_standing else "",
        facts.supplement_count,
        stored(facts.apology_at),
        stored(facts.fee_due_at),
        stored(facts.paid_online_at),
        stored(facts.digitized_at),
        processing,
        list(map(stored, map(_CHANGE_AT, changes))),
        list(map(_CHANGE_STANDING, changes)),
        list(map(int, map(_CHANGE_LATE, changes))),
        stored(computed_at),
        stored(facts.last_event_at),
        list(map(stored, map(_DUE_SINCE, dues))),
        list(map(stored, map(_DUE_DUE, dues))),
        *_finding_cells(facts.findings, t),
        *map(stored, _FLAGS_AT(facts)),
        stored(facts.complaint_at),
        r.commune_code or "",
        r.commune_name or "",
    )


# Board filter kinds (dashboards.boards.VARIABLES) → the fact row's code and name.
UNIT_COLUMNS = ("kind", "code", "name", "seen_at")
UNIT_KINDS = {
    "district": ("district_code", "district_name"),
    "agency": ("agency_code", "agency_name"),
    "field": ("field_code", "field_name"),
    "level": ("level", "level"),
    # METRICS.md §8: the area is the district fields (the area ingest gives
    # from 1 July 2025); a commune is commune_code, else a commune-level agency
    "area": ("district_code", "district_name"),
    "commune": ("commune_code", "commune_name"),
}
# what `unit_rows` reads of a fact row, in this order (a projection: a batch's
# rows repeat a few hundred unit combinations, so each is judged once)
_UNIT_SOURCE = sorted(
    {FACT_COLUMNS.index(c) for pair in UNIT_KINDS.values() for c in pair}
    | {FACT_COLUMNS.index("level"), FACT_COLUMNS.index("updated_at")}
)
_UNIT_CELLS = itemgetter(*_UNIT_SOURCE)
_AT = {FACT_COLUMNS[i]: n for n, i in enumerate(_UNIT_SOURCE)}  # column → projected place
_UNIT_INDEX = {kind: (_AT[code], _AT[name]) for kind, (code, name) in UNIT_KINDS.items()}
_UPDATED_AT = _AT["updated_at"]
_LEVEL = _AT["level"]
_AGENCY = _UNIT_INDEX["agency"]


def _unit(cells: tuple, kind: str) -> tuple[str, str]:
    code_at, name_at = _UNIT_INDEX[kind]
    code = cells[code_at]
    if kind == "level":
        return code, LEVEL_NAMES[Level(code)] if code else ""
    if kind == "commune" and not code and cells[_LEVEL] == Level.COMMUNE.value:
        code_at, name_at = _AGENCY  # a commune's own dossier
        code = cells[code_at]
    return code, cells[name_at] or code


def unit_rows(fact_rows: Sequence[tuple]) -> list[tuple]:
    """One `units` row per (kind, code) named in fact rows; the latest name
    wins (on equal `updated_at`, the later row)."""
    # each distinct projection once, ordered by its last occurrence: the
    # later-row rule then picks what it would have picked over every row
    distinct = list(dict.fromkeys(map(_UNIT_CELLS, reversed(fact_rows))))
    latest: dict[tuple[str, str], tuple] = {}
    for cells in reversed(distinct):
        for kind in UNIT_KINDS:
            code, name = _unit(cells, kind)
            if not code:
                continue
            seen = latest.get((kind, code))
            if seen is None or cells[_UPDATED_AT] >= seen[3]:
                latest[(kind, code)] = (kind, code, name, cells[_UPDATED_AT])
    return list(latest.values())


DEAD_LETTER_COLUMNS = ("dead_letter_id", "rejected_at", "source", "reason", "original")


def dead_letter_row(letter: DeadLetter) -> tuple:
    return (
        letter.dead_letter_id,
        stored_time(letter.rejected_at),
        letter.source,
        letter.reason,
        letter.original,
    )


PROGRESS_COLUMNS = (
    "topic", "partition", "epoch", "offset", "fingerprint", "version", "stored_at",
)  # fmt: skip


@dataclass
class SinkBatch:
    facts: list[tuple] = field(default_factory=list)
    raw_events: list[tuple] = field(default_factory=list)
    dead_letters: list[tuple] = field(default_factory=list)
    progress: list[tuple] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.facts) + len(self.raw_events) + len(self.dead_letters)


def stored_batch(processed: ProcessedBatch) -> SinkBatch:
    """A processed batch as the rows the writer stores (facts and raw events
    with the batch's computing time; progress rows as the rules made them)."""
    now = processed.computed_at
    times = StoredTimes()  # the batch's events' times recur in its fact rows
    return SinkBatch(
        facts=[fact_row(f, now, times) for f in processed.facts],
        raw_events=[raw_event_row(e, now, times) for e in processed.events],
        dead_letters=[dead_letter_row(letter) for letter in processed.letters],
        progress=processed.progress,
    )
