-- The dues a dossier had over time (streams.rules.facts.DueInForce; METRICS.md §6
-- "The due in force"): due_history[i] is the effective due from due_from[i]
-- on (the instant of the events that set it), until the next one; the last
-- equals `due`. The deadline alerts judge each instant with the due in force
-- then. Rows stored before this migration have empty arrays and are read as
-- their final due from the receipt (streams.clickhouse.alerts.facts_from_row) until
-- a dossier's next event or `motcua recompute` rewrites them.
-- One column per statement: ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS,
-- so the runner (streams.clickhouse.migrations.migrate) skips an ADD COLUMN whose column is
-- already there, and a run that failed halfway can be repeated.
ALTER TABLE motcua.dossier_facts ADD COLUMN due_from Array(DateTime('UTC'));
ALTER TABLE motcua.dossier_facts ADD COLUMN due_history Array(DateTime('UTC'));
ALTER TABLE motcua.dossier_periods ADD COLUMN due_from Array(DateTime('UTC'));
ALTER TABLE motcua.dossier_periods ADD COLUMN due_history Array(DateTime('UTC'));
ALTER TABLE motcua.open_dossiers ADD COLUMN due_from Array(DateTime('UTC'));
ALTER TABLE motcua.open_dossiers ADD COLUMN due_history Array(DateTime('UTC'));
