"""The last sync record of each dossier, kept in a SQLite file.

Why SQLite: one ingest process owns it, it survives restarts, and its
transactions let a batch of records be marked done only after the broker has
confirmed their events (`pending()` ... `commit()`); a crash in between
replays the batch, and the events' deterministic ids make that harmless.

A polled source's cursor lives in the same file (`put_cursor`), in the same
transaction as the records of the page that moved it: a page is either fully
done (records and cursor committed) or not at all (re-fetched on restart).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.sync import SyncRecord

# Decoded last records kept in memory: a dossier's next record usually comes
# soon after (its states in one file), and reading it back from SQLite cost a
# query and a pydantic validation (~150 µs, a third of `ingest file`'s time).
CACHED_RECORDS = 50_000


class SqliteRecords:
    """One process owns the file, so what it wrote is what the cache holds;
    a rollback forgets the cache (the puts it held are gone)."""

    def __init__(self, path: Path) -> None:
        self._cached: dict[str, SyncRecord | None] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level="DEFERRED")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS last_record (dossier_id TEXT PRIMARY KEY, record BLOB)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS cursor (source TEXT PRIMARY KEY, cursor TEXT)")
        self.db.commit()

    def get(self, dossier_id: str) -> SyncRecord | None:
        if dossier_id in self._cached:
            return self._cached[dossier_id]
        row = self.db.execute(
            "SELECT record FROM last_record WHERE dossier_id = ?", (dossier_id,)
        ).fetchone()
        return None if row is None else SyncRecord.from_json(row[0])

    def put(self, record: SyncRecord) -> None:
        """Part of the open transaction: durable only after `commit()`."""
        self.db.execute(
            "INSERT OR REPLACE INTO last_record (dossier_id, record) VALUES (?, ?)",
            (record.dossier_id, record.to_json()),
        )
        if len(self._cached) >= CACHED_RECORDS:
            self._cached.clear()
        self._cached[record.dossier_id] = record

    def get_cursor(self, source: str) -> str | None:
        """Where polling `source` resumes; None before its first committed page."""
        row = self.db.execute("SELECT cursor FROM cursor WHERE source = ?", (source,)).fetchone()
        return None if row is None else row[0]

    def put_cursor(self, source: str, cursor: str) -> None:
        """Part of the open transaction, like `put`: durable only after `commit()`."""
        self.db.execute(
            "INSERT OR REPLACE INTO cursor (source, cursor) VALUES (?, ?)", (source, cursor)
        )

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()
        self._cached.clear()

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM last_record").fetchone()[0]

    def close(self) -> None:
        self.db.close()
