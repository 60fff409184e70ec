"""Applying a stream of records: each record against the last one kept for its dossier."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from ingest.sync.events import advance
from ingest.sync.record import SyncRecord
from ingest.sync.units import UnitDirectory
from ingest.sync.values import DEFAULT_SOURCE, local_time
from schemas.events import (
    DossierEvent,
)


class RecordStore(Protocol):
    """Last record per dossier (with its history); a durable one stores `to_json()`."""

    def get(self, dossier_id: str) -> SyncRecord | None: ...

    def put(self, record: SyncRecord) -> None: ...


class LastRecords:
    """In-memory RecordStore."""

    def __init__(self) -> None:
        self._records: dict[str, SyncRecord] = {}

    def get(self, dossier_id: str) -> SyncRecord | None:
        return self._records.get(dossier_id)

    def put(self, record: SyncRecord) -> None:
        self._records[record.dossier_id] = record

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, dossier_id: object) -> bool:
        return dossier_id in self._records


def convert(
    records: Iterable[SyncRecord],
    store: RecordStore,
    directory: UnitDirectory,
    seen_at: datetime,
    source: str = DEFAULT_SOURCE,
) -> list[DossierEvent]:
    """Events of records observed at `seen_at`, in order, updating `store`.

    A record that says when it was synced (NgayDongBo) was observed then, if
    that is earlier: a replayed archive keeps each record's own time, and a
    source clock running ahead cannot place steps in the future.
    """
    seen_at = local_time(seen_at)  # a naive time is local: comparable with NgayDongBo
    events: list[DossierEvent] = []
    for record in records:
        observed = min(record.synced_at, seen_at) if record.synced_at else seen_at
        new, remembered = advance(
            store.get(record.dossier_id), record, directory, source, seen_at=observed
        )
        store.put(remembered)
        events += new
    return events
