"""The scrubber's shortcuts (a cache of clean key shapes, a plain copy) give
what the plain recursive definition gives, for every shape seen again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.personal import is_personal_key, scrub_personal_data


def reference(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: reference(v) for k, v in value.items() if not is_personal_key(str(k))}
    if isinstance(value, list):
        return [reference(v) for v in value]
    return value


KEYS = st.sampled_from(["event_id", "at", "time_limit", "HoTen", "phone", "DiaChi", "value", "x"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(KEYS, VALUES, max_size=6), min_size=1, max_size=4))
def test_scrub_equals_the_recursive_definition(messages: list[dict]) -> None:
    for data in messages + messages:  # each shape twice: the cached answer too
        scrubbed = scrub_personal_data(data)
        assert scrubbed == reference(data)
        assert list(scrubbed) == list(reference(data))  # same key order
