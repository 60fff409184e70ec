"""What may be kept of an input that was rejected, and how a payload is named
in logs: never its text.

A rejected input becomes a *summary*, a small JSON object:

- always `bytes` (its length) and `sha256` (of those bytes), so a person can
  find the exact input at its source without the input travelling on;
- `kind`: object, array, string, number, boolean, null, "not JSON",
  "not UTF-8" or empty (`items` too for an array);
- for a JSON object only, `fields`: the keys of the input contracts
  (schemas/contract.py) with their values bounded: scalars as they are,
  strings cut at MAX_TEXT characters, a nested object or list replaced by
  its shape ("object of 3 keys"), never its text; and `omitted`, how many
  keys were dropped (their names are not kept either: a key can be a value).

Keys are those of a real JSON parser (orjson), so `"\\u0043huHoSo"` is
ChuHoSo; text that does not parse keeps nothing of its content, there is no
pattern-matching fallback. `resummarised` applies the rule again to a summary
(it is idempotent) or, to anything else, as to raw input: what the worker does
to every letter it reads from the dead-letter topic, whoever wrote it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson

from schemas.contract import KEPT_FIELDS

MAX_TEXT = 200  # characters of a kept string value
KINDS = frozenset(
    {"object", "array", "string", "number", "boolean", "null", "not JSON", "not UTF-8", "empty"}
)
_ENVELOPE = frozenset({"bytes", "sha256", "kind", "items", "fields", "omitted"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def described(raw: bytes) -> str:
    """How a log line or an error names a payload: its size and hash, not its text."""
    return f"{len(raw)} bytes, sha256 {digest(raw)}"


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null"


def kept_value(value: Any) -> Any:
    """A value under a kept key, bounded: never the text of anything nested."""
    if isinstance(value, Mapping):
        return f"object of {len(value)} keys"
    if isinstance(value, list):
        return f"list of {len(value)} items"
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    return f"a {type(value).__name__}"  # not from JSON: name the type only


def kept_fields(data: Mapping[Any, Any]) -> tuple[dict[str, Any], int]:
    """(the contract's keys with bounded values, how many keys were dropped)."""
    fields = {k: kept_value(v) for k, v in data.items() if isinstance(k, str) and k in KEPT_FIELDS}
    return dict(sorted(fields.items())), len(data) - len(fields)


def summary(raw: bytes | None) -> dict[str, Any]:
    """The summary of a rejected input's bytes (see the module's docstring)."""
    raw = raw or b""
    out: dict[str, Any] = {"bytes": len(raw), "sha256": digest(raw)}
    if not raw.strip():
        return out | {"kind": "empty"}
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return out | {"kind": "not UTF-8"}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return out | {"kind": "not JSON"}
    out["kind"] = _kind(data)
    if isinstance(data, list):
        out["items"] = len(data)
    if isinstance(data, dict):
        out["fields"], out["omitted"] = kept_fields(data)
    return out


def summary_text(raw: bytes | None) -> str:
    return orjson.dumps(summary(raw)).decode()


def _as_summary(text: str) -> dict[str, Any] | None:
    """`text` parsed as a summary this module wrote, or None."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not set(data) <= _ENVELOPE:
        return None
    size, sha = data.get("bytes"), data.get("sha256")
    if type(size) is not int or size < 0 or not isinstance(sha, str) or not _HEX64.fullmatch(sha):
        return None
    return data if data.get("kind") in KINDS else None


def resummarised(text: str) -> str:
    """A summary checked again (the same summary back), or, for any other
    text, the summary of that text as if it were the rejected input."""
    data = _as_summary(text)
    if data is None:
        return summary_text(text.encode("utf-8", "surrogatepass"))
    out: dict[str, Any] = {"bytes": data["bytes"], "sha256": data["sha256"]}
    out["kind"] = data["kind"]
    items = data.get("items")
    if out["kind"] == "array" and type(items) is int:
        out["items"] = items
    fields = data.get("fields")
    if out["kind"] == "object" and isinstance(fields, dict):
        out["fields"], dropped = kept_fields(fields)
        omitted = data.get("omitted")
        out["omitted"] = dropped + (omitted if type(omitted) is int and omitted >= 0 else 0)
    return orjson.dumps(out).decode()
