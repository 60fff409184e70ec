-- Integrity findings (streams.rules.integrity, METRICS.md §9) stored with the
-- dossier's facts: finding_kind[i] observed at finding_at[i], the value first
-- observed (finding_old) and the one reported then (finding_new), and the ids
-- of the events that show it (space-separated). Being part of the facts row,
-- a finding that a later (or late-arriving) event withdraws goes with the
-- row's next version, and nothing is counted twice. Rows stored before this
-- migration have none until the dossier's next event or `motcua recompute`.
-- One column per statement (see 0009: 18.16 has no ADD COLUMN IF NOT EXISTS).
ALTER TABLE motcua.dossier_facts ADD COLUMN finding_kind Array(String);
ALTER TABLE motcua.dossier_facts ADD COLUMN finding_at Array(DateTime('UTC'));
ALTER TABLE motcua.dossier_facts ADD COLUMN finding_old Array(String);
ALTER TABLE motcua.dossier_facts ADD COLUMN finding_new Array(String);
ALTER TABLE motcua.dossier_facts ADD COLUMN finding_evidence Array(String);
ALTER TABLE motcua.dossier_periods ADD COLUMN finding_kind Array(String);
ALTER TABLE motcua.dossier_periods ADD COLUMN finding_at Array(DateTime('UTC'));
ALTER TABLE motcua.dossier_periods ADD COLUMN finding_old Array(String);
ALTER TABLE motcua.dossier_periods ADD COLUMN finding_new Array(String);
ALTER TABLE motcua.dossier_periods ADD COLUMN finding_evidence Array(String);
ALTER TABLE motcua.open_dossiers ADD COLUMN finding_kind Array(String);
ALTER TABLE motcua.open_dossiers ADD COLUMN finding_at Array(DateTime('UTC'));
ALTER TABLE motcua.open_dossiers ADD COLUMN finding_old Array(String);
ALTER TABLE motcua.open_dossiers ADD COLUMN finding_new Array(String);
ALTER TABLE motcua.open_dossiers ADD COLUMN finding_evidence Array(String);
