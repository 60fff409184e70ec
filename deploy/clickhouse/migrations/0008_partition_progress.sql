-- Stored progress per topic partition, tied to the log it belongs to
-- (replaces stream_progress, which only knew the highest offset).
-- `epoch` counts the logs a partition has had: a broker or topic that lost
-- its messages (a fresh local broker, a recreated topic, a cluster restored
-- from nothing) starts a new epoch at its log's first offset, so the new
-- log's low offsets are not taken for stored. `fingerprint` identifies the
-- message at `offset` (streams/rules/positions.py), which is how a worker tells
-- the log it resumes on is the one the progress belongs to. `offset` = -1:
-- nothing stored in this epoch. version = epoch * 2^40 + offset + 1, so a
-- later epoch always supersedes, then a higher offset.
CREATE TABLE IF NOT EXISTS motcua.partition_progress
(
    topic String,
    partition UInt32,
    epoch UInt32,
    offset Int64,
    fingerprint String,
    version UInt64,
    stored_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (topic, partition);
INSERT INTO motcua.partition_progress
SELECT topic, partition, 0, toInt64(offset), '', toUInt64(offset + 1), stored_at
FROM motcua.stream_progress;
