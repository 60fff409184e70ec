"""The province simulator: determinism, realism within the stated ranges, valid
histories, and its ground truth checked against the pipeline's two ways in
(canonical events, sync records) and the period report."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ingest.simulator.arrivals import DayKind, day_kind
from ingest.simulator.catalogue import COMMUNE, Procedure
from ingest.simulator.dossiers import Arrival, Dossier, Finish, Refused, Stop, StopKind
from ingest.simulator.emit import SEEN_AT_KEY, personal_fields
from ingest.simulator.knobs import Knobs
from ingest.simulator.outputs import line_of
from ingest.simulator.pacing import paced
from ingest.simulator.province import ON_TIME_RANGE, build_units
from ingest.simulator.simulation import Emitted, Format, Simulation
from ingest.simulator.truth import (
    COUNT_COLUMNS,
    CSV_COLUMNS,
    judge,
    period_totals,
    write_totals_csv,
)
from ingest.sync import LastRecords, attribute, convert, parse_record, read_unit_directory
from motcua import app
from reports.render import write_records_csv
from schemas.events import Channel, DossierEvent, EventType, Level, parse_event
from schemas.personal import is_personal_key
from streams.rules import period
from streams.rules.calendar import WorkingCalendar
from streams.rules.lifecycle import dossier_state
from streams.rules.period import UnitKind, period_report
from tests.unit.helpers import t

CAL = WorkingCalendar()
FAR = t(2030, 1, 1)  # every plan has finished by then: its final outcome
SEED7 = Knobs(seed=7)
QUARTER = Knobs(seed=7, scale=0.25)  # a quarter of realistic volume


@dataclass
class Run:
    sim: Simulation
    plans: dict[str, Dossier]
    refused: list[Refused]
    outputs: list[Emitted]


@cache
def simulated(start: date, end: date, fmt: Format, knobs: Knobs = SEED7) -> Run:
    sim = Simulation(start, end, knobs, CAL)
    plans: dict[str, Dossier] = {}
    refused: list[Refused] = []

    def keep(item: Dossier | Refused) -> None:
        if isinstance(item, Refused):
            refused.append(item)
        else:
            plans[item.dossier_id] = item

    outputs = list(sim.stream(fmt, on_item=keep))
    return Run(sim, plans, refused, outputs)


@cache
def plans(start: date, end: date, knobs: Knobs = SEED7) -> tuple[Simulation, list[Dossier]]:
    """Only the plans (no outputs built): cheap enough for larger scales."""
    sim = Simulation(start, end, knobs, CAL)
    return sim, [d for d in sim.dossiers() if isinstance(d, Dossier)]


def may(fmt: Format = Format.EVENTS) -> Run:
    return simulated(date(2026, 5, 1), date(2026, 6, 1), fmt)


def lines(start: date, end: date, fmt: Format, seed: int) -> list[bytes]:
    sim = Simulation(start, end, Knobs(seed=seed), CAL)
    return [line_of(item) for item in sim.stream(fmt)]


def histories(run: Run) -> dict[str, list[DossierEvent]]:
    by_dossier: dict[str, list[DossierEvent]] = defaultdict(list)
    for item in run.outputs:
        assert isinstance(item.payload, DossierEvent)
        by_dossier[item.dossier_id].append(item.payload)
    return by_dossier


# --- determinism -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(Format))
def test_same_seed_same_output_other_seed_differs(fmt: Format) -> None:
    week = (date(2026, 5, 4), date(2026, 5, 11))
    first = lines(*week, fmt, seed=3)
    assert len(first) > 500
    assert lines(*week, fmt, seed=3) == first
    assert lines(*week, fmt, seed=4) != first


def test_a_day_is_the_same_in_any_window() -> None:
    """A day's dossiers depend on (seed, unit, day) only, not on the window around it."""
    alone = Simulation(date(2026, 5, 12), date(2026, 5, 13), Knobs(seed=7), CAL)
    in_month = [d for d in may().plans.values() if d.received_at.date() == date(2026, 5, 12)]
    assert [d for d in alone.dossiers() if isinstance(d, Dossier)] == in_month


# --- realism -----------------------------------------------------------------------


def test_units_look_like_the_province_sample() -> None:
    units = build_units()
    levels = Counter(u.level for u in units)
    assert 5 <= levels[Level.PROVINCE] <= 12
    assert levels[Level.DISTRICT] >= 5
    assert levels[Level.COMMUNE] >= 40
    assert all(re.fullmatch(r"H44\.\d{2,3}", u.code) for u in units)
    assert len({u.code for u in units}) == len(units)
    # every district has its People's Committee and communes
    for district in {u.district_code for u in units if u.level is not Level.PROVINCE}:
        kinds = Counter(u.level for u in units if u.district_code == district)
        assert kinds[Level.DISTRICT] == 1 and kinds[Level.COMMUNE] >= 5
    assert any(re.search(r"[ăâđêôơưạảãáàệếềộớờủũ]", u.name) for u in units)


def test_volumes_range_from_a_handful_to_about_3000_a_month_skewed() -> None:
    scale = QUARTER.scale
    sim, dossiers = plans(date(2026, 5, 1), date(2026, 6, 1), QUARTER)
    counts = Counter(d.arrival.unit.code for d in dossiers)
    monthly = sorted(counts[u.code] / scale for u in sim.province.units)
    assert monthly[0] <= 20  # Sở Ngoại vụ: a handful
    assert 2000 <= monthly[-1] <= 3300  # the biggest ward
    top = sum(monthly[-len(monthly) // 10 :])  # a few big units take a large share
    assert top / sum(monthly) > 0.2
    assert monthly[-1] / monthly[len(monthly) // 2] > 3


def test_about_99_percent_online_and_the_knob_moves_it() -> None:
    channels = Counter(d.arrival.channel for d in may().plans.values())
    assert 0.975 <= channels["online"] / channels.total() <= 0.995
    assert channels["direct"] > 0 and channels["postal"] > 0
    _, half = plans(date(2026, 5, 1), date(2026, 5, 15), Knobs(seed=7, online_share=0.6))
    online = Counter(d.arrival.channel for d in half)
    assert 0.55 <= online["online"] / online.total() <= 0.65


def test_on_time_shares_between_63_and_94_percent_by_unit() -> None:
    sim, dossiers = plans(date(2026, 5, 1), date(2026, 6, 1), QUARTER)
    low, high = ON_TIME_RANGE
    targets = {code: p.on_time_target for code, p in sim.province.profiles.items()}
    assert all(low <= target <= high for target in targets.values())
    final: dict[str, list[bool]] = defaultdict(list)
    for d in dossiers:
        truth = judge(d, FAR)
        assert truth is not None and truth.finished
        final[d.arrival.unit.code].append(not truth.late)
    big = {code: outcomes for code, outcomes in final.items() if len(outcomes) >= 100}
    assert len(big) >= 30
    for code, outcomes in big.items():
        share = sum(outcomes) / len(outcomes)
        assert abs(share - targets[code]) <= 0.1, code
        assert low - 0.05 <= share <= high + 0.05, code


def test_final_lateness_is_the_one_decided_before_building() -> None:
    """Finish offsets stay a margin away from the due: no outcome hangs on a second."""
    _, dossiers = plans(date(2026, 5, 1), date(2026, 6, 1), QUARTER)
    assert len(dossiers) > 10_000
    for d in dossiers:
        truth = judge(d, FAR)
        assert truth is not None and truth.late == d.late, d.dossier_id


def _land_late_by_district(dossiers: list[Dossier]) -> dict[str, float]:
    late: dict[str, list[bool]] = defaultdict(list)
    for d in dossiers:
        if d.arrival.procedure.land and d.arrival.unit.level is not Level.PROVINCE:
            truth = judge(d, FAR)
            assert truth is not None
            late[d.arrival.unit.district_code].append(truth.late)
    return {district: sum(v) / len(v) for district, v in late.items()}


@pytest.mark.parametrize("hotspot", ["H44.D04", "H44.D02"])
def test_land_is_later_in_the_hotspot_district(hotspot: str) -> None:
    knobs = Knobs(seed=7, scale=0.1, land_hotspots=(hotspot,))
    shares = _land_late_by_district(plans(date(2026, 5, 1), date(2026, 6, 1), knobs)[1])
    others = [share for district, share in shares.items() if district != hotspot]
    assert len(others) >= 4
    assert shares[hotspot] > 1.4 * max(others)


def test_land_is_the_slowest_field() -> None:
    days: dict[bool, list[float]] = defaultdict(list)
    for d in may().plans.values():
        truth = judge(d, FAR)
        assert truth is not None and truth.processing is not None
        days[d.arrival.procedure.land].append(truth.processing / CAL.day_length)
    assert sum(days[True]) / len(days[True]) > 2 * sum(days[False]) / len(days[False])


def test_receipts_peak_in_working_hours_and_skip_tet_and_holidays() -> None:
    # Feb 2026: Tết from Sat 02-14 to Sun 02-22; Apr-May: Hùng Kings (Sun 04-26, Mon 04-27),
    # 30/4 (Thu) and 1/5 (Fri) with the weekend after.
    closed = [date(2026, 2, 14) + timedelta(days=i) for i in range(9)]
    closed += [date(2026, 4, d) for d in (26, 27, 30)] + [date(2026, 5, d) for d in (1, 2, 3)]
    days: Counter[date] = Counter()
    hours: Counter[int] = Counter()
    for start, end in ((date(2026, 2, 1), date(2026, 3, 1)), (date(2026, 4, 20), date(2026, 5, 8))):
        for d in plans(start, end)[1]:
            days[d.received_at.date()] += 1
            hours[d.received_at.hour] += CAL.is_working_day(d.received_at.date())
    assert all(days[day] == 0 for day in closed)
    assert all(day_kind(CAL, day) is DayKind.CLOSED for day in closed)
    working = [n for day, n in days.items() if CAL.is_working_day(day)]
    # ordinary weekends: quiet (a few online receipts), not closed
    weekend = [days[date(2026, 2, d)] for d in (1, 7, 8, 28)]
    assert sum(weekend) > 0 and max(weekend) < 0.1 * min(working)
    in_hours = sum(n for hour, n in hours.items() if 7 <= hour < 17 and hour != 12)
    assert in_hours / hours.total() > 0.9
    assert hours[9] > 1.5 * hours[7] and hours[9] > 1.5 * hours[16] and hours[12] == 0


# --- histories ---------------------------------------------------------------------


def test_events_parse_are_time_ordered_and_every_type_occurs() -> None:
    run = may()
    ats = [item.at for item in run.outputs]
    assert ats == sorted(ats)
    assert ats[-1] < run.sim.end_at
    for item in run.outputs:
        assert parse_event(line_of(item)) == item.payload
    # rewrites (corrected) come from comparing sync records at ingest, not from here
    assert {item.payload.type for item in run.outputs} == set(EventType) - {
        EventType.CORRECTED,
    }


def test_each_dossier_history_is_a_valid_lifecycle() -> None:
    run = may()
    finishing = {EventType.RESOLVED, EventType.REJECTED, EventType.WITHDRAWN}
    for dossier_id, events in histories(run).items():
        kinds = [e.type for e in events]
        if EventType.COMPLAINT in kinds:  # once, after the return
            assert kinds[-2:] == [EventType.RETURNED, EventType.COMPLAINT]
            kinds = kinds[:-1]
        assert kinds[0] is EventType.RECEIVED and kinds.count(EventType.RECEIVED) == 1
        assert len({e.at for e in events}) == len(events)  # never two steps at one instant
        assert sum(k in finishing for k in kinds) <= 1
        if EventType.RETURNED in kinds:
            assert kinds[-2:] == [EventType.RESOLVED, EventType.RETURNED]
        elif any(k in finishing for k in kinds):
            assert kinds[-1] in finishing
        pending: set[str] = set()
        for e in events:
            round_no = e.event_id.rsplit("/", 1)[1]
            if e.type in (EventType.SUPPLEMENT_REQUESTED, EventType.PAYMENT_REQUESTED):
                assert not pending  # stops never overlap
                pending.add(f"{e.type}:{round_no}")
            elif e.type is EventType.SUPPLEMENT_RECEIVED:
                pending.remove(f"{EventType.SUPPLEMENT_REQUESTED}:{round_no}")
            elif e.type is EventType.PAYMENT_RECEIVED:
                pending.remove(f"{EventType.PAYMENT_REQUESTED}:{round_no}")
        assert dossier_state(events, run.sim.end_at, CAL) is not None, dossier_id


def test_outcomes_of_every_kind_at_the_window_end() -> None:
    run = may()
    standings = Counter(judge(d, run.sim.end_at).standing for d in run.plans.values())  # type: ignore[union-attr]
    assert set(standings) == {
        "early",
        "on_time",
        "late",
        "waiting_supplement",
        "within_due",
        "overdue",
    }
    assert {d.finish for d in run.plans.values()} == set(Finish)


# --- the truth against the pipeline ------------------------------------------------


def _compare(truth, state, *, apology: bool = True) -> None:
    assert state is not None
    assert state.standing.value == truth.standing
    assert state.late == truth.late
    assert state.due == truth.effective_due
    assert state.supplement_count == truth.supplement_count
    assert state.end_at == truth.end_at
    assert state.judged_at == truth.judged_at
    assert (state.fee_due, state.paid_online, state.digitized) == (
        truth.fee_due,
        truth.paid_online,
        truth.digitized,
    )
    r = state.received
    assert (r.agency_code, r.district_code, r.field_code, r.procedure_code, r.channel.value) == (
        truth.agency_code,
        truth.district_code,
        truth.field_code,
        truth.procedure_code,
        truth.channel,
    )
    if apology:
        assert state.apology == truth.apology


@pytest.mark.parametrize("as_of", [t(2026, 5, 20), t(2026, 6, 1)])
def test_canonical_events_reproduce_the_truth(as_of: datetime) -> None:
    run = may()
    for dossier_id, events in histories(run).items():
        truth = judge(run.plans[dossier_id], as_of)
        if truth is None:
            continue
        _compare(truth, dossier_state(events, as_of, CAL))


def test_sync_records_reproduce_the_truth() -> None:
    run = may(Format.SYNC)
    directory = run.sim.province.unit_history()
    store = LastRecords()
    events: dict[str, list[DossierEvent]] = defaultdict(list)
    for item in run.outputs:
        assert isinstance(item.payload, dict)
        seen_at = datetime.strptime(item.payload[SEEN_AT_KEY], "%Y%m%d%H%M%S")
        assert seen_at.replace(tzinfo=CAL.tz) == item.at
        for event in convert([parse_record(item.payload)], store, directory, item.at):
            events[event.dossier_id].append(event)
    assert set(events) == set(run.plans)  # refused at the counter: never a dossier
    assert run.refused and not any(r.arrival.dossier_id in events for r in run.refused)
    end = run.sim.end_at
    for dossier_id, plan in run.plans.items():
        # sync records carry no apology (no DongBoHoSoMC field for it)
        _compare(judge(plan, end), dossier_state(events[dossier_id], end, CAL), apology=False)


SCORECARD_FLAGS = (
    "electronic_result", "components_digitized", "reused_digitized_data",
    "from_personal_store", "vneid_verified",
)  # fmt: skip


def test_scorecard_flags_and_complaints_at_their_shares_on_both_routes() -> None:
    """The 766 flags come at about their knobs' shares, and the sync records say the
    same as the canonical events (complaints excepted: no DongBoHoSoMC field)."""
    canonical, sync = may(), may(Format.SYNC)
    end = canonical.sim.end_at
    states = {d: dossier_state(h, end, CAL) for d, h in histories(canonical).items()}
    knobs = canonical.sim.knobs
    online = [s for s in states.values() if s and s.received.channel.value == "online"]
    resolved = [s for s in states.values() if s and s.outcome and s.outcome.value == "resolved"]

    def share(flag: str, of: list) -> float:
        return sum(getattr(s, flag) for s in of) / len(of)

    assert abs(share("vneid_verified", online) - knobs.vneid_share) < 0.05
    assert abs(share("from_personal_store", online) - knobs.personal_store_share) < 0.05
    assert abs(share("electronic_result", resolved) - knobs.electronic_result_share) < 0.05
    assert 0 < sum(s.complaint for s in states.values() if s) < 0.02 * len(states)
    directory = sync.sim.province.unit_history()
    store = LastRecords()
    events: dict[str, list[DossierEvent]] = defaultdict(list)
    for item in sync.outputs:
        assert isinstance(item.payload, dict)
        for event in convert([parse_record(item.payload)], store, directory, item.at):
            events[event.dossier_id].append(event)
    for dossier_id, state in states.items():
        other = dossier_state(events[dossier_id], end, CAL)
        assert state is not None and other is not None
        assert [getattr(other, f) for f in SCORECARD_FLAGS] == [
            getattr(state, f) for f in SCORECARD_FLAGS
        ], dossier_id


def test_truth_columns_are_the_report_columns() -> None:
    assert CSV_COLUMNS == period.CSV_COLUMNS
    assert COUNT_COLUMNS == period.COUNT_COLUMNS


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (t(2026, 5, 1), t(2026, 6, 1)),
        (t(2026, 5, 16), t(2026, 6, 1)),
        (t(2026, 5, 1), t(2026, 5, 20)),
    ],
)
def test_period_totals_equal_the_period_report(start: datetime, end: datetime) -> None:
    run = may()
    truth_rows = period_totals(run.plans.values(), start, end, CAL.day_length)
    for row in truth_rows:  # the II.06a identities hold on the truth itself
        c = row.counts
        assert c["carried_over"] + c["received_total"] == (
            c["finished_total"] + c["in_progress_total"] + c["waiting_supplement"]
        )
    totals = Counter()
    for row in truth_rows:
        totals.update(row.counts)
    assert all(totals[name] > 0 for name in COUNT_COLUMNS if name != "carried_over")
    assert (totals["carried_over"] > 0) == (start > t(2026, 5, 1))
    mine = io.StringIO()
    write_totals_csv(truth_rows, mine)
    states = [dossier_state(h, end, CAL) for h in histories(run).values()]
    rows = period_report([s for s in states if s], start, end, UnitKind.AGENCY, CAL)
    theirs = io.StringIO()
    write_records_csv(period.CSV_COLUMNS, [r.as_record() for r in rows], theirs)
    assert mine.getvalue() == theirs.getvalue()


def test_truth_of_a_hand_worked_plan() -> None:
    """Received Mon 05-04 09:00, 3 working days → due Thu 05-07 09:00. Supplement asked
    Tue 05-05 09:00, supplied Wed 05-06 09:00 (8 working hours stopped) → due Fri 05-08
    09:00. Resolved Fri 05-08 10:00: late. Worked 05-04 09:00 → 05-08 10:00: 6 + 8 + 8
    + 8 + 3 = 33 h."""
    proc: Procedure = COMMUNE[3][0]  # 3 working days
    unit = build_units()[-1]
    arrival = Arrival("H44.157-260504-0001", unit, proc, Channel.ONLINE, t(2026, 5, 4, 9), None)
    stop = Stop(
        StopKind.SUPPLEMENT,
        1,
        t(2026, 5, 5, 9),
        t(2026, 5, 6, 9),
        t(2026, 5, 7, 9),
        t(2026, 5, 8, 9),
    )
    plan = Dossier(
        arrival=arrival,
        due=t(2026, 5, 7, 9),
        fee_due=True,
        digitized=False,
        paid_online_at=None,
        transfers=(),
        stops=(stop,),
        extended=None,
        finish=Finish.RESOLVED,
        end_at=t(2026, 5, 8, 10),
        returned_at=None,
        processing=timedelta(hours=33),
        late=True,
    )
    expected = {
        t(2026, 5, 5, 12): ("waiting_supplement", False, t(2026, 5, 7, 9)),
        t(2026, 5, 7, 12): ("within_due", False, t(2026, 5, 8, 9)),
        t(2026, 5, 8, 9, 30): ("overdue", True, t(2026, 5, 8, 9)),
        t(2026, 5, 9): ("late", True, t(2026, 5, 8, 9)),
    }
    for as_of, (standing, late, due) in expected.items():
        truth = judge(plan, as_of)
        assert truth is not None
        assert (truth.standing, truth.late, truth.effective_due) == (standing, late, due), as_of
    rows = period_totals([plan], t(2026, 5, 1), t(2026, 6, 1), CAL.day_length)
    record = rows[0].record()
    assert (record["finished_late"], record["avg_processing_days"]) == (1, Decimal("4.13"))


# --- personal data -----------------------------------------------------------------


def test_no_personal_data_in_canonical_events() -> None:
    planted = set(personal_fields("H44.100-260504-0001"))
    for item in may().outputs:
        data = orjson.loads(line_of(item))
        assert not any(is_personal_key(key) for key in data)
        assert not planted & set(data)


def test_sync_records_plant_fake_personal_data_that_parsing_drops() -> None:
    run = may(Format.SYNC)
    record = run.outputs[0].payload
    assert isinstance(record, dict)
    fake = personal_fields(record["MaHoSo"])
    assert fake.items() <= record.items()
    kept = parse_record(record).to_json().decode()
    assert not any(value in kept for value in fake.values())
    off = Simulation(date(2026, 5, 4), date(2026, 5, 5), Knobs(seed=7, personal_data=False), CAL)
    for item in off.stream(Format.SYNC):
        assert not set(fake) & set(item.payload)  # type: ignore[arg-type]


# --- pacing and the command --------------------------------------------------------


class FakeClock:
    def __init__(self, start: datetime, speed: float) -> None:
        self.simulated, self.speed, self.naps = start, speed, []

    def now(self) -> datetime:
        return self.simulated

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.simulated += timedelta(seconds=seconds * self.speed)


def test_live_pacing_releases_the_backfill_sequence_on_the_clock() -> None:
    sim = Simulation(date(2026, 5, 4), date(2026, 5, 5), Knobs(seed=7), CAL)
    backfill = list(sim.stream(Format.EVENTS))
    clock = FakeClock(sim.start_at, speed=60)
    released = []
    for item in paced(sim.stream(Format.EVENTS), lambda i: i.at, clock, clock.sleep):
        assert clock.now() >= item.at  # never before its time
        released.append(item)
    assert released == backfill
    # the day's first receipt after 07:00 took about 7 simulated hours = 420 s at 60×
    assert 400 < sum(clock.naps) < 24 * 60
    assert max(clock.naps) <= 0.5


def test_simulate_command_writes_outputs_the_report_agrees_with(tmp_path: Path) -> None:
    runner = CliRunner()
    window = ["--from", "2026-05-04", "--to", "2026-05-16"]
    out = {
        name: tmp_path / name for name in ("ev.jsonl", "truth.jsonl", "totals.csv", "units.json")
    }
    result = runner.invoke(
        app,
        ["simulate", "--seed", "7", *window, "--output", str(out["ev.jsonl"]),
         "--truth", str(out["truth.jsonl"]), "--totals", str(out["totals.csv"]),
         "--units", str(out["units.json"])],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sim = Simulation(date(2026, 5, 4), date(2026, 5, 16), Knobs(seed=7), CAL)
    expected = [line_of(item) for item in sim.stream(Format.EVENTS)]
    assert out["ev.jsonl"].read_bytes().splitlines() == expected
    directory = read_unit_directory(out["units.json"])
    # every unit of either shape (METRICS.md §8): the old units and the two-tier ones
    assert len(directory) == len(sim.province.units) > len(build_units())
    assert all(attribute(directory, u.code, None, sim.start_at).mapped for u in sim.province.units)
    truths = [orjson.loads(line) for line in out["truth.jsonl"].read_bytes().splitlines()]
    assert {x["dossier_id"] for x in truths} == {
        e.dossier_id for e in map(parse_event, expected) if e.type is EventType.RECEIVED
    }
    report = runner.invoke(
        app, ["report", "--events", str(out["ev.jsonl"]), *window, "--by", "agency"]
    )
    assert report.exit_code == 0, report.output
    assert report.stdout == out["totals.csv"].read_text(encoding="utf-8")
    assert next(csv.reader(io.StringIO(report.stdout))) == list(CSV_COLUMNS)
