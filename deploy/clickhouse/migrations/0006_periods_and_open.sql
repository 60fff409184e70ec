-- What boards and reports read, so that a time range reads only what it needs
-- (streams.clickhouse.queries.insert_facts writes both with the facts):
--   dossier_periods: a finished dossier's latest facts once per period, a
--     calendar month of UTC+7 numbered from January 1970
--     (streams.clickhouse.sql.period_of), from its receipt to its latest event; a range
--     [s, e) reads each dossier once, from the period of max(received_at, s).
--   open_dossiers: every dossier's latest facts; finished ones are deleted
--     from it now and then (streams.clickhouse.queries.delete_finished_open), so it stays
--     about the size of the open set.
-- Both hold versions like dossier_facts: read with FINAL.
CREATE TABLE IF NOT EXISTS motcua.dossier_periods
(
    period UInt32,
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
    updated_at DateTime('UTC'),
    last_event_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (period, dossier_id);

CREATE TABLE IF NOT EXISTS motcua.open_dossiers
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
    updated_at DateTime('UTC'),
    last_event_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY dossier_id;

-- Facts stored before this migration: a finished dossier's periods run to its
-- end (the worker's next version, with the latest event, covers at least as many).
INSERT INTO motcua.dossier_periods
SELECT
    arrayJoin(arrayMap(i -> first + i, range(toUInt32(last - first + 1)))) AS period,
    dossier_id, version, agency_code, agency_name, level, district_code, district_name, field_code, field_name, procedure_code, procedure_name, channel, online_level, received_at, due, end_at, outcome, judged_at, final_standing, supplement_count, apology_at, fee_due_at, paid_online_at, digitized_at, processing_seconds, change_at, change_standing, change_late, updated_at,
    end_at AS last_event_at
FROM
(
    SELECT *,
        toDateTime(toUInt32(received_at) + 25200, 'UTC') AS first_local,
        toDateTime(toUInt32(end_at) + 25200, 'UTC') AS last_local,
        (toYear(first_local) - 1970) * 12 + toMonth(first_local) - 1 AS first,
        (toYear(last_local) - 1970) * 12 + toMonth(last_local) - 1 AS last
    FROM motcua.dossier_facts FINAL
    WHERE end_at != toDateTime('2105-12-31 00:00:00', 'UTC')
);

INSERT INTO motcua.open_dossiers
SELECT dossier_id, version, agency_code, agency_name, level, district_code, district_name, field_code, field_name, procedure_code, procedure_name, channel, online_level, received_at, due, end_at, outcome, judged_at, final_standing, supplement_count, apology_at, fee_due_at, paid_online_at, digitized_at, processing_seconds, change_at, change_standing, change_late, updated_at, received_at AS last_event_at
FROM motcua.dossier_facts FINAL
WHERE end_at = toDateTime('2105-12-31 00:00:00', 'UTC');

-- Last: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, so a failed run of
-- this migration can be repeated only if it failed before this statement.
ALTER TABLE motcua.dossier_facts ADD COLUMN last_event_at DateTime('UTC') DEFAULT received_at;
