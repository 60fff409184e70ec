-- Monthly II.06a counts per unit, computed from dossier_facts FINAL by
-- `motcua rollup` / `motcua recompute` (never by a materialized view, which
-- would count a re-sent fact row twice). A refresh replaces the month's rows:
-- the newest computed_at wins under FINAL.
CREATE TABLE IF NOT EXISTS motcua.period_rollups
(
    period_start DateTime('UTC'),
    period_end DateTime('UTC'),
    unit_kind String,
    unit_code String,
    unit_name String,
    carried_over UInt32,
    received_total UInt32,
    received_online UInt32,
    received_direct_postal UInt32,
    finished_total UInt32,
    finished_early UInt32,
    finished_on_time UInt32,
    finished_late UInt32,
    in_progress_total UInt32,
    in_progress_within_due UInt32,
    in_progress_overdue UInt32,
    waiting_supplement UInt32,
    stopped_or_withdrawn UInt32,
    apologies UInt32,
    waiting_supplement_on_time UInt32,
    received_full_service UInt32,
    received_full_service_online UInt32,
    received_with_fee UInt32,
    received_paid_online UInt32,
    received_digitized UInt32,
    processing_seconds UInt64,
    computed_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (period_start, period_end, unit_kind, unit_code);
