-- The 766 scorecard (METRICS.md §7, streams.clickhouse.scorecard): when each of
-- the dossier's scorecard flags was first reported true, its first complaint
-- (all "never" = 2105-12-31 00:00:00 UTC until then, like digitized_at), and
-- the commune it belongs to (METRICS.md §8). Rows stored before this migration
-- read as never flagged and no commune until the dossier's next event or
-- `motcua recompute` rewrites them.
-- One column per statement (see 0009: 18.16 has no ADD COLUMN IF NOT EXISTS,
-- the runner skips an ADD COLUMN whose column is already there).
ALTER TABLE motcua.dossier_facts ADD COLUMN electronic_result_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_facts ADD COLUMN components_digitized_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_facts ADD COLUMN reused_digitized_data_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_facts ADD COLUMN from_personal_store_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_facts ADD COLUMN vneid_verified_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_facts ADD COLUMN complaint_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_facts ADD COLUMN commune_code String DEFAULT '';
ALTER TABLE motcua.dossier_facts ADD COLUMN commune_name String DEFAULT '';
ALTER TABLE motcua.dossier_periods ADD COLUMN electronic_result_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_periods ADD COLUMN components_digitized_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_periods ADD COLUMN reused_digitized_data_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_periods ADD COLUMN from_personal_store_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_periods ADD COLUMN vneid_verified_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_periods ADD COLUMN complaint_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.dossier_periods ADD COLUMN commune_code String DEFAULT '';
ALTER TABLE motcua.dossier_periods ADD COLUMN commune_name String DEFAULT '';
ALTER TABLE motcua.open_dossiers ADD COLUMN electronic_result_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.open_dossiers ADD COLUMN components_digitized_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.open_dossiers ADD COLUMN reused_digitized_data_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.open_dossiers ADD COLUMN from_personal_store_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.open_dossiers ADD COLUMN vneid_verified_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.open_dossiers ADD COLUMN complaint_at DateTime('UTC') DEFAULT toDateTime('2105-12-31 00:00:00', 'UTC');
ALTER TABLE motcua.open_dossiers ADD COLUMN commune_code String DEFAULT '';
ALTER TABLE motcua.open_dossiers ADD COLUMN commune_name String DEFAULT '';

-- The procedure catalogue (EVENTS.md §4, schemas.catalogue), stored by
-- streams.clickhouse.scorecard.store_catalogue so boards can join dossiers
-- to it (paper_result, full_online_eligible: the scorecard's denominators).
-- A procedure stored again supersedes its row (the latest updated_at wins);
-- flags are 0/1. Read with FINAL.
CREATE TABLE IF NOT EXISTS motcua.procedures
(
    code String,
    name String,
    field String,
    full_online_eligible UInt8,
    paper_result UInt8,
    fee UInt8,
    updated_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY code;
