-- The units seen in dossier facts (district, agency, field, level), one row
-- per (kind, code), so the boards' filter lists read a few hundred rows
-- instead of every fact. Written with the facts (streams.clickhouse.queries.insert_facts);
-- the latest name wins under FINAL or argMax(name, seen_at).
CREATE TABLE IF NOT EXISTS motcua.units
(
    kind String,
    code String,
    name String,
    seen_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(seen_at)
ORDER BY (kind, code);
