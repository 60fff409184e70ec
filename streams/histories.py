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
from streams.rules.processor import decode_history, encode_history

# How many of the cached histories are kept decoded (the most recently judged):
# a dossier judged again soon is then neither decoded nor re-encoded. A decoded
# receipt takes ~2 KB against ~330 B packed, so this bounds the extra memory
# (~40 MB at most; bench/memory.py); older ones are packed as they fall out.
DECODED_HISTORIES = 20_000


class DossierHistories:
    """Histories by dossier_id (streams.rules.processor's DossierStore): the
    most recently judged `max_decoded` as event lists, the others packed
    (`encode_history`), `max_cached` in all."""

    def __init__(self, max_cached: int = 500_000, max_decoded: int = DECODED_HISTORIES) -> None:
        self.max_cached = max_cached
        self.max_decoded = max_decoded
        self._cached: dict[str, bytes | list[DossierEvent]] = {}
        self._decoded: dict[str, None] = {}  # which of _cached are lists, oldest first
        self._known: set[int] = set()
        self.known_loaded = False

    def __len__(self) -> int:
        return len(self._cached)

    # -- DossierStore ----------------------------------------------------------
    def get(self, dossier_id: str) -> bytes | None:
        history = self._cached.get(dossier_id)
        return encode_history(history) if isinstance(history, list) else history

    def put(self, dossier_id: str, history: bytes, message: object = None) -> None:
        self._cached.pop(dossier_id, None)  # re-insert: the dict's order is recency
        self._decoded.pop(dossier_id, None)
        self._cached[dossier_id] = history
        self._known.add(hash(dossier_id))

    def events(self, dossier_id: str) -> list[DossierEvent]:
        """The dossier's cached history, decoded ([] when none is cached)."""
        history = self._cached.get(dossier_id)
        if isinstance(history, list):
            return history
        return decode_history(history)

    def keep(self, dossier_id: str, events: list[DossierEvent], message: object = None) -> None:
        """`put` for a decoded history: kept as it is while among the recent ones."""
        self._cached.pop(dossier_id, None)
        self._decoded.pop(dossier_id, None)
        self._cached[dossier_id] = events
        self._decoded[dossier_id] = None
        self._known.add(hash(dossier_id))
        decoded = self._decoded
        while len(decoded) > self.max_decoded:
            # the oldest first (dict order is recency): not a list of them all per call
            old = next(iter(decoded))
            del decoded[old]
            history = self._cached.get(old)
            if isinstance(history, list):
                self._cached[old] = encode_history(history)  # keeps its place

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
            self._decoded.pop(dossier_id, None)
        excess = len(self._cached) - self.max_cached
        for dossier_id in list(self._cached)[:excess] if excess > 0 else ():
            del self._cached[dossier_id]  # least recently judged first
            self._decoded.pop(dossier_id, None)

    def clear(self) -> None:
        """After a revocation: what other workers store next is not seen here."""
        self._cached.clear()
        self._decoded.clear()
        self._known.clear()
        self.known_loaded = False
