"""A rejected input and why: what every producer sends to the dead-letter topic."""

from __future__ import annotations

import re
from datetime import datetime

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.personal import is_personal_key, scrub_personal_data

MAX_ORIGINAL = 64_000  # characters of a rejected input kept for the record

# "key": value pairs in text that is not valid JSON, to scrub by key name
_PAIR = re.compile(rb'"([^"\\]{1,80})"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)')


def scrubbed_original(value: bytes | None) -> str:
    """A rejected input as text, without personal data, bounded in size."""
    if value is None:
        return ""
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        data = None

    def redact(match: re.Match[bytes]) -> bytes:
        key = match[1].decode("utf-8", "replace")
        return match[0] if not is_personal_key(key) else b'"' + match[1] + b'": "[removed]"'

    text = (
        orjson.dumps(scrub_personal_data(data))
        if isinstance(data, dict)
        else (_PAIR.sub(redact, value))
    )
    return text.decode("utf-8", "replace")[:MAX_ORIGINAL]


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    dead_letter_id: str  # stable per input (topic:partition:offset, file:line), so repeats dedup
    rejected_at: AwareDatetime
    source: str
    reason: str
    original: str  # scrubbed

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
            original=scrubbed_original(raw),
        )
