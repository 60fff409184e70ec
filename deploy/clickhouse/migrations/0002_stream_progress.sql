-- How far the workers have stored each partition of each topic: the highest
-- offset whose effects (facts, raw events, dead letters) are in ClickHouse.
-- `motcua replay --wait` compares it with the offsets it produced.
CREATE TABLE IF NOT EXISTS motcua.stream_progress
(
    topic String,
    partition UInt32,
    offset UInt64,
    stored_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(offset)
ORDER BY (topic, partition);
