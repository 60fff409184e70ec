"""The collector's tuning: rare collections inside the block, the caller's
thresholds back after it (even when it raises); a consumer's tuning stays."""

from __future__ import annotations

import gc

import pytest

from streams.collector import GC_THRESHOLDS, fewer_collections, tune_collector


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's defaults, whatever ran before
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_fewer_collections_inside_and_put_back(thresholds) -> None:
    with fewer_collections():
        assert gc.get_threshold() == (50_000, 20, 100)
    assert gc.get_threshold() == (700, 10, 10)


def test_fewer_collections_put_back_after_an_error(thresholds) -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the import failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_tune_collector_stays_and_freezes_what_exists(thresholds) -> None:
    kept = [object()]  # a start-up object
    tune_collector()
    assert gc.get_threshold() == GC_THRESHOLDS == (50_000, 20, 100)
    assert gc.get_freeze_count() > 0
    assert kept
