"""Property (METRICS.md §6): the alerts of any span are a function of the events
alone. For random histories (tests/histories.py) and random split points, the
alerts listed from the complete histories (what `motcua alerts` prints) equal
the union of what a watch stepping through the events would have sent: each
step covers [position, clock) and sees only the events stored so far, its
clock the latest stored event's instant (the watcher's event clock)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import DossierEvent
from streams.rules.calendar import WorkingCalendar
from streams.rules.deadlines import AlertConfig
from streams.rules.hotspots import HotspotConfig, HotspotTracker
from streams.rules.lifecycle import ordered_events
from streams.rules.watch import WatchConfig, deadline_alerts, watch_step
from tests.conftest import facts_of
from tests.histories import TZ, clock_stop_history, random_history

CAL = WorkingCalendar()
START = datetime(2026, 1, 5, tzinfo=TZ)  # histories run into Tết 2026 (16-20 February)
# hotspots left out: no grid instant in any span
CONFIG = WatchConfig(
    hotspots=HotspotConfig(min_total=10**6), hotspot_every=timedelta(days=100 * 365)
)


def history(seed: int, dossiers: int) -> list[DossierEvent]:
    rnd = random.Random(seed)
    events: list[DossierEvent] = []
    for n in range(dossiers):
        make = clock_stop_history if rnd.random() < 0.7 else random_history
        events += make(rnd, f"H44-{seed}-{n:03d}", START)
    return events


def summary(alerts) -> list[tuple]:
    return [(a.key, a.kind, a.at, a.due, round(a.hours_late, 6)) for a in alerts]


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 10**9),
    dossiers=st.integers(1, 6),
    cuts=st.lists(st.floats(0, 1), min_size=1, max_size=12),
    due_soon=st.sampled_from([0, 2, 8, 16]),
)
def test_watch_steps_send_what_the_complete_history_lists(
    seed: int, dossiers: int, cuts: list[float], due_soon: int
) -> None:
    events = history(seed, dossiers)
    stream = sorted(ordered_events(events), key=lambda e: e.at)  # as a replay stores them
    config = WatchConfig(
        alerts=AlertConfig(due_soon=timedelta(hours=due_soon)),
        hotspots=CONFIG.hotspots,
        hotspot_every=CONFIG.hotspot_every,
    )
    stored_counts = sorted({max(1, round(c * len(stream))) for c in cuts} | {len(stream)})
    position = min(e.at for e in stream)  # the watcher's first position: the first receipt
    first = position
    sent = []
    for count in stored_counts:
        stored = stream[:count]
        clock = stored[-1].at
        if clock <= position:
            continue
        tracker = HotspotTracker(config=config.hotspots)
        step = watch_step(facts_of(stored, CAL), position, clock, tracker, CAL, config)
        sent += step.alerts
        position = clock
    listed = deadline_alerts(facts_of(events, CAL), first, position, CAL, config.alerts)
    assert summary(sent) == summary(listed)
    assert len({a.key for a in sent}) == len(sent)  # nothing sent twice


def test_the_histories_do_move_dues_and_raise_alerts_of_several() -> None:
    """The generator exercises the rule: many dossiers have dues that move,
    and alerts are raised for more than one due of a dossier."""
    events = history(7, 300)
    facts = facts_of(events, CAL)
    moved = [f for f in facts if len(f.dues) > 1]
    assert len(moved) > 100
    alerts = deadline_alerts(facts, START, START + timedelta(days=200), CAL, AlertConfig())
    dues_alerted: dict[str, set[datetime]] = {}
    for a in alerts:
        dues_alerted.setdefault(a.dossier_id, set()).add(a.due)
    assert sum(len(d) > 1 for d in dues_alerted.values()) > 50
