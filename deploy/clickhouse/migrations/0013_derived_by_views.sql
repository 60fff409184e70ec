-- open_dossiers and dossier_periods filled by ClickHouse from each insert
-- into dossier_facts (issue #14): the workers used to send every fact row
-- three times, and encoding the copies was a tenth of a backfill's CPU. A
-- view sees only the block being inserted, so it writes what
-- streams.clickhouse.queries.insert_facts wrote before:
--   open_dossiers: every fact row (a finished one supersedes the open row);
--   dossier_periods: a finished dossier's row once per period
--     (streams.clickhouse.sql.period_of: months since January 1970, UTC+7)
--     from its receipt to its latest event (not its end: a reordered earlier
--     end can move end_at back, but the latest event only moves on, so each
--     version covers every period an earlier one did; no stale row is left).
-- The column lists are FACT_COLUMNS (tests/unit/clickhouse/test_derived_views.py
-- holds them equal): a migration that adds a fact column must drop and
-- re-create both views with it.
CREATE MATERIALIZED VIEW IF NOT EXISTS motcua.open_dossiers_from_facts
TO motcua.open_dossiers
AS SELECT
    dossier_id, version, agency_code, agency_name, level, district_code, district_name,
    field_code, field_name, procedure_code, procedure_name, channel, online_level,
    received_at, due, end_at, outcome, judged_at, final_standing, supplement_count,
    apology_at, fee_due_at, paid_online_at, digitized_at, processing_seconds, change_at,
    change_standing, change_late, updated_at, last_event_at, due_from, due_history,
    finding_kind, finding_at, finding_old, finding_new, finding_evidence,
    electronic_result_at, components_digitized_at, reused_digitized_data_at,
    from_personal_store_at, vneid_verified_at, complaint_at, commune_code, commune_name
FROM motcua.dossier_facts;

-- toRelativeMonthNum counts months from year 0: January 1970 is 23641
CREATE MATERIALIZED VIEW IF NOT EXISTS motcua.dossier_periods_from_facts
TO motcua.dossier_periods
AS SELECT
    toUInt32(arrayJoin(arrayMap(
        i -> toRelativeMonthNum(toDateTime(toUInt32(received_at) + 25200, 'UTC')) - 23641 + i,
        range(toUInt32(
            toRelativeMonthNum(toDateTime(toUInt32(last_event_at) + 25200, 'UTC'))
            - toRelativeMonthNum(toDateTime(toUInt32(received_at) + 25200, 'UTC')) + 1
        ))
    ))) AS period,
    dossier_id, version, agency_code, agency_name, level, district_code, district_name,
    field_code, field_name, procedure_code, procedure_name, channel, online_level,
    received_at, due, end_at, outcome, judged_at, final_standing, supplement_count,
    apology_at, fee_due_at, paid_online_at, digitized_at, processing_seconds, change_at,
    change_standing, change_late, updated_at, last_event_at, due_from, due_history,
    finding_kind, finding_at, finding_old, finding_new, finding_evidence,
    electronic_result_at, components_digitized_at, reused_digitized_data_at,
    from_personal_store_at, vneid_verified_at, complaint_at, commune_code, commune_name
FROM motcua.dossier_facts
WHERE end_at != toDateTime('2105-12-31 00:00:00', 'UTC');
