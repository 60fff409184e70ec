-- Two-tier units in the inspectors' watch (METRICS.md §5, §8, issue #17):
-- a hotspot record says which cell kind it is (district, area or commune: the
-- place code stays in district_code) and an alert carries the dossier's commune
-- and area. Rows stored before this migration read as district cells and
-- alerts with no commune or area (their district_code is the area then).
-- One column per statement (see 0009: 18.16 has no ADD COLUMN IF NOT EXISTS,
-- the runner skips an ADD COLUMN whose column is already there).
ALTER TABLE motcua.hotspots ADD COLUMN cell_kind String DEFAULT 'district';
ALTER TABLE motcua.alerts ADD COLUMN commune_code String DEFAULT '';
ALTER TABLE motcua.alerts ADD COLUMN area_code String DEFAULT '';
