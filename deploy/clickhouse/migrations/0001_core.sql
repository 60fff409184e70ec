-- Core tables. Runs unchanged on ClickHouse 18.16 (Debian) and on current
-- releases (chdb): no LowCardinality, no DateTime64, no Nullable in sort keys.
-- "Never" is the sentinel 2105-12-31 00:00:00 UTC rather than NULL, so every
-- comparison stays a plain boolean on both engines.

CREATE DATABASE IF NOT EXISTS motcua;

-- Every accepted canonical event (personal data already scrubbed), for audit
-- and recompute. A re-sent event has the same (dossier_id, event_id) and the
-- same `at`, hence the same partition: merges and FINAL keep one.
CREATE TABLE IF NOT EXISTS motcua.raw_events
(
    event_id String,
    dossier_id String,
    type String,
    at DateTime('UTC'),
    payload String,
    stored_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (dossier_id, event_id);

-- Latest facts per dossier (streams/rules/facts.py). `version` grows with every new
-- event of the dossier, so a re-sent row never wins over a newer one; read
-- with FINAL. change_* arrays: how the dossier stood while unfinished, each
-- entry applying to every instant after change_at.
CREATE TABLE IF NOT EXISTS motcua.dossier_facts
(
    dossier_id String,
    version UInt64,
    agency_code String,
    agency_name String,
    level String,
    district_code String,
    district_name String,
    field_code String,
    field_name String,
    procedure_code String,
    procedure_name String,
    channel String,
    online_level String,
    received_at DateTime('UTC'),
    due DateTime('UTC'),
    end_at DateTime('UTC'),
    outcome String,
    judged_at DateTime('UTC'),
    final_standing String,
    supplement_count UInt16,
    apology_at DateTime('UTC'),
    fee_due_at DateTime('UTC'),
    paid_online_at DateTime('UTC'),
    digitized_at DateTime('UTC'),
    processing_seconds UInt64,
    change_at Array(DateTime('UTC')),
    change_standing Array(String),
    change_late Array(UInt8),
    updated_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY dossier_id;

-- Rejected input: where it came from, why, and the original (scrubbed).
CREATE TABLE IF NOT EXISTS motcua.dead_letters
(
    dead_letter_id String,
    rejected_at DateTime('UTC'),
    source String,
    reason String,
    original String
)
ENGINE = ReplacingMergeTree()
ORDER BY dead_letter_id;

-- Inspector alerts (METRICS.md §6); one row per alert key.
CREATE TABLE IF NOT EXISTS motcua.alerts
(
    alert_id String,
    kind String,
    severity String,
    raised_at DateTime('UTC'),
    dossier_id String,
    agency_code String,
    district_code String,
    field_code String,
    procedure_code String,
    due DateTime('UTC'),
    hours_late Float64,
    summary String
)
ENGINE = ReplacingMergeTree()
ORDER BY (raised_at, alert_id);

-- Late-dossier hotspots (METRICS.md §5): opened / closed records.
CREATE TABLE IF NOT EXISTS motcua.hotspots
(
    hotspot_id String,
    state String,
    at DateTime('UTC'),
    field_code String,
    district_code String,
    cell_total UInt32,
    cell_late UInt32,
    wilson_lower Float64,
    baseline Float64
)
ENGINE = ReplacingMergeTree()
ORDER BY (field_code, district_code, at, hotspot_id);
