"""Stored positions: gap-checked progress and the log each belongs to (no broker)."""

from __future__ import annotations

from streams.rules.positions import (
    ContiguousProgress,
    Position,
    Verdict,
    fingerprint,
    judge_log,
    position_row,
)
from streams.rules.processor import Message


def batch(*offsets: int, partition: int = 0) -> list[Message]:
    return [Message("t", partition, o, b"k%d" % o, b"v%d" % o) for o in offsets]


def test_progress_stops_at_a_gap_and_reports_it() -> None:
    progress = ContiguousProgress()
    progress.set(("t", 0), Position(0, 4, ""))  # 0..4 stored
    assert progress.advance(batch(5, 6, 7)) == {}
    assert progress.advance(batch(10, 11)) == {("t", 0): 8}  # 8 and 9 were skipped
    assert progress.positions[("t", 0)].offset == 7  # not past the gap
    assert progress.advance(batch(8, 9, 10, 11)) == {}  # re-read
    assert progress.advance(batch(3, 4)) == {}  # a re-delivery of stored ones
    position = progress.positions[("t", 0)]
    assert position.offset == 11
    assert position.fingerprint == fingerprint(b"k11", b"v11")  # the message at the offset


def test_stored_messages_are_left_out_of_a_batch_and_other_partitions_kept() -> None:
    progress = ContiguousProgress()
    progress.set(("t", 0), Position(2, 6, "x"))
    messages = batch(5, 6, 7, 8) + batch(0, 1, partition=1)
    assert [(m.partition, m.offset) for m in progress.unstored(messages)] == [
        (0, 7), (0, 8), (1, 0), (1, 1),
    ]  # fmt: skip


def test_a_partition_never_stored_starts_at_its_first_offset_with_a_gap_check() -> None:
    progress = ContiguousProgress()
    assert progress.advance(batch(0, 1)) == {}
    assert progress.advance(batch(5)) == {("t", 0): 2}


def test_the_version_orders_epochs_before_offsets() -> None:
    old_log_far = Position(epoch=0, offset=920)
    new_log_start = Position(epoch=1, offset=-1)
    assert new_log_start.version > old_log_far.version
    assert Position(1, 5).version > Position(1, 4).version
    # the row's columns as streams.clickhouse.queries.PROGRESS_COLUMNS lists them
    assert position_row(("t", 3), Position(1, 5, "ab"), 99) == (
        "t", 3, 1, 5, "ab", (1 << 40) + 6, 99,
    )  # fmt: skip


def test_fingerprints_tell_messages_apart() -> None:
    assert fingerprint(b"a", b"b") == fingerprint(b"a", b"b")
    assert fingerprint(b"a", b"b") != fingerprint(b"ab", b"")  # not the concatenation
    assert fingerprint(None, b"") != fingerprint(b"", b"")
    assert len(fingerprint(b"a", b"b")) == 16


# -- is it the same log? ----------------------------------------------------------------

STORED = Position(epoch=3, offset=920, fingerprint="f920")


def test_the_stored_message_found_again_means_the_same_log() -> None:
    judged = judge_log(STORED, log_start=0, found=(920, "f920"))
    assert judged.verdict is Verdict.SAME_LOG and judged.position == STORED
    assert judged.position.next == 921


def test_a_fresh_broker_with_an_empty_log_is_another_log() -> None:
    judged = judge_log(STORED, log_start=0, found=None)
    assert judged.verdict is Verdict.OTHER_LOG and judged.rebased
    assert judged.position == Position(epoch=4, offset=-1)  # new epoch, from offset 0


def test_a_shorter_new_log_is_another_log() -> None:
    # a fresh broker already holding 50 new messages: reading from 920 falls
    # back to the log's start (auto reset), or finds nothing
    assert judge_log(STORED, 0, (0, "new0")).verdict is Verdict.OTHER_LOG


def test_a_different_message_at_the_stored_offset_is_another_log() -> None:
    judged = judge_log(STORED, log_start=0, found=(920, "other"))
    assert judged.verdict is Verdict.OTHER_LOG and judged.position.next == 0


def test_a_log_trimmed_past_the_stored_offset_resumes_at_its_start() -> None:
    judged = judge_log(STORED, log_start=1000, found=(1000, "f1000"))
    assert judged.verdict is Verdict.TRIMMED and not judged.rebased
    assert judged.position == Position(epoch=3, offset=999)
    assert judged.position.version > STORED.version


def test_a_new_epoch_starts_at_the_new_logs_first_offset() -> None:
    judged = judge_log(STORED, log_start=7, found=(7, "x"))
    assert judged.verdict is Verdict.OTHER_LOG and judged.position.next == 7


def test_nothing_stored_needs_no_check() -> None:
    judged = judge_log(Position(), log_start=0, found=None)
    assert judged.verdict is Verdict.NOTHING_STORED and judged.position.next == 0


def test_progress_migrated_without_a_fingerprint_trusts_a_message_at_its_offset() -> None:
    legacy = Position(epoch=0, offset=920, fingerprint="")
    assert judge_log(legacy, 0, (920, "anything")).verdict is Verdict.SAME_LOG
    assert judge_log(legacy, 0, None).verdict is Verdict.OTHER_LOG
