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

_UPSERT = "INSERT OR REPLACE INTO last_record (dossier_id, record) VALUES (?, ?)"


class SqliteRecords:
    """One process owns the file, so what it wrote is what the cache holds;
    a rollback forgets the cache (the puts it held are gone).

    A put is written when the transaction needs it (`commit`, `__len__`, a
    full cache), not at once: a file's records repeat their dossiers (a
    dossier's states in a row), so only the last put of each is serialised
    and written, in one executemany (one execute and `to_json` per record
    were a third of `ingest file`'s CPU). Nothing is durable before
    `commit()` either way, and a rollback forgets the unwritten puts too."""

    def __init__(self, path: Path) -> None:
        self._cached: dict[str, SyncRecord | None] = {}
        # puts not yet written into the open transaction; always also cached
        self._unwritten: dict[str, SyncRecord] = {}
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
        if not self.db.in_transaction:
            # the write lock now, as the first write would take it: a store
            # another process holds fails here, before any event is sent
            self.db.execute("BEGIN IMMEDIATE")
        if len(self._cached) >= CACHED_RECORDS:
            self._write()  # what the cache forgets must be readable from the file
            self._cached.clear()
        self._cached[record.dossier_id] = record
        self._unwritten[record.dossier_id] = record

    def _write(self) -> None:
        """The unwritten puts into the open transaction (not committed)."""
        if self._unwritten:
            rows = [(key, record.to_json()) for key, record in self._unwritten.items()]
            self.db.executemany(_UPSERT, rows)
            self._unwritten.clear()

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
        try:
            self._write()
        except BaseException:
            self.rollback()  # all of the transaction or nothing: not half of its puts
            raise
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()
        self._unwritten.clear()
        self._cached.clear()

    def __len__(self) -> int:
        self._write()
        return self.db.execute("SELECT count(*) FROM last_record").fetchone()[0]

    def close(self) -> None:
        self.db.close()
