"""A rejected input and why: what every producer sends to the dead-letter topic.

It keeps what a person needs to fix the input and nothing personal: where it
came from, the reason (built from field names and error kinds, never the
input's values), and a summary of the input (schemas/redact.py: its length
and SHA-256, and for a JSON object only the contract's fields, bounded).
Every text is bounded too, so a hostile input cannot make a letter large.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict

from schemas.redact import digest, summary_text

MAX_ID = 300  # characters of a dead_letter_id
MAX_SOURCE = 100
MAX_REASON = 1000


def _bounded_id(value: object) -> object:
    """Ids must stay distinct (they deduplicate repeats): a long one keeps its
    head and a hash of the whole."""
    if isinstance(value, str) and len(value) > MAX_ID:
        return f"{value[: MAX_ID - 17]}~{digest(value.encode('utf-8', 'replace'))[:16]}"
    return value


def _cut(limit: int):
    def cut(value: object) -> object:
        return value[:limit] if isinstance(value, str) else value

    return cut


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    # stable per input (topic:partition:offset, file:line), so repeats dedup
    dead_letter_id: Annotated[str, BeforeValidator(_bounded_id)]
    rejected_at: AwareDatetime
    source: Annotated[str, BeforeValidator(_cut(MAX_SOURCE))]
    reason: Annotated[str, BeforeValidator(_cut(MAX_REASON))]
    original: str  # the summary of the input (schemas.redact), never its text

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def of(
        cls, dead_letter_id: str, at: datetime, source: str, reason: str, raw: bytes | None
    ) -> DeadLetter:
        return cls(
            dead_letter_id=dead_letter_id,
            rejected_at=at,
            source=source,
            reason=reason,
            original=summary_text(raw),
        )
