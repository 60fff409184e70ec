"""The worker's dossier histories: a cache in front of ClickHouse's raw_events.

`raw_events` holds every accepted event, so it is the one durable copy of a
dossier's history: nothing the worker keeps can be lost with the broker, a
changelog, or a kill -9 (the state used to live in a faust table whose
changelog died with a fresh broker). The worker keeps the open dossiers'
histories in memory and reads the others from `raw_events` when an event
arrives for them.

Asking ClickHouse about every dossier in a batch would read `raw_events`
for each new one too, so the cache also holds which dossiers have stored
events at all (`known`): a dossier not known has no history to read.
`known` is reloaded from `raw_events` whenever the worker's partitions
change (another worker may have stored events for them) and grows with
every batch. It keeps 64-bit hashes, not ids: a collision only costs a
needless read.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.events import DossierEvent
from streams.rules.processor import encode_history


class DossierHistories:
    """Encoded histories by dossier_id (streams.rules.processor's DossierStore)."""

    def __init__(self, max_cached: int = 500_000) -> None:
        self.max_cached = max_cached
        self._cached: dict[str, bytes] = {}
        self._known: set[int] = set()
        self.known_loaded = False

    def __len__(self) -> int:
        return len(self._cached)

    # -- DossierStore ----------------------------------------------------------
    def get(self, dossier_id: str) -> bytes | None:
        return self._cached.get(dossier_id)

    def put(self, dossier_id: str, history: bytes, message: object = None) -> None:
        self._cached.pop(dossier_id, None)  # re-insert: the dict's order is recency
        self._cached[dossier_id] = history
        self._known.add(hash(dossier_id))

    # -- loading from raw_events ---------------------------------------------------
    def load_known(self, dossier_ids: Iterable[str]) -> None:
        self._known = {hash(d) for d in dossier_ids}
        self.known_loaded = True

    def to_read(self, dossier_ids: Iterable[str]) -> list[str]:
        """The dossiers whose stored history must be read before judging them."""
        return sorted({d for d in dossier_ids if d not in self._cached and hash(d) in self._known})

    def fill(self, dossier_ids: Iterable[str], payloads: Iterable[tuple[str, str]]) -> None:
        """Cache the histories read for `dossier_ids` ((dossier_id, payload) rows)."""
        events: dict[str, list[DossierEvent]] = {d: [] for d in dossier_ids}
        for dossier_id, payload in payloads:
            events.setdefault(dossier_id, []).append(DossierEvent.model_validate_json(payload))
        for dossier_id, history in events.items():
            if history:
                self.put(dossier_id, encode_history(history))

    # -- keeping memory to the open dossiers -------------------------------------
    def drop(self, dossier_ids: Iterable[str]) -> None:
        """Forget cached histories (finished dossiers); they stay `known`."""
        for dossier_id in dossier_ids:
            self._cached.pop(dossier_id, None)
        excess = len(self._cached) - self.max_cached
        for dossier_id in list(self._cached)[: max(0, excess)]:
            del self._cached[dossier_id]  # least recently judged first

    def clear(self) -> None:
        """After a revocation: what other workers store next is not seen here."""
        self._cached.clear()
        self._known.clear()
        self.known_loaded = False
