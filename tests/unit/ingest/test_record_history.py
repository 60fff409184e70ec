"""The record history's in-memory cache gives back what SQLite would: a whole
simulated import through a store with its cache, then the same file read by
a fresh store (no cache) and through the cache, every dossier compared; and a
rollback forgets what the cache held of the rolled-back puts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from ingest.record_history import SqliteRecords
from ingest.simulator.knobs import Knobs
from ingest.simulator.simulation import Format, Simulation
from ingest.sync import UnitDirectory, convert, parse_record
from schemas.events import LOCAL_TZ
from streams.rules.calendar import WorkingCalendar

SEEN = datetime(2026, 2, 1, 12, 0, 30, 123456, tzinfo=LOCAL_TZ)


def _records(count: int) -> list:
    sim = Simulation(date(2026, 1, 5), date(2026, 3, 5), Knobs(seed=3), WorkingCalendar())
    records = []
    for item in sim.stream(Format.SYNC):
        records.append(parse_record(item.payload))
        if len(records) >= count:
            break
    return records


def test_the_cache_gives_back_what_sqlite_holds(tmp_path: Path) -> None:
    records = _records(3000)
    cached = SqliteRecords(tmp_path / "records.sqlite")
    convert(records, cached, UnitDirectory(), SEEN)
    cached.commit()
    fresh = SqliteRecords(tmp_path / "records.sqlite")
    dossiers = {r.dossier_id for r in records}
    assert len(dossiers) > 300  # the import repeats dossiers: the cache was used
    for dossier_id in dossiers:
        assert cached.get(dossier_id) == fresh.get(dossier_id)


def test_a_rollback_forgets_the_cached_puts(tmp_path: Path) -> None:
    records = _records(200)
    store = SqliteRecords(tmp_path / "records.sqlite")
    convert(records, store, UnitDirectory(), SEEN)
    store.rollback()
    assert all(store.get(r.dossier_id) is None for r in records)
