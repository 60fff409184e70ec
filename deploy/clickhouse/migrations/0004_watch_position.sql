-- How far the inspectors' watch has got (streams/rules/watch.py): every deadline
-- alert before `until` has been stored, sent to the alerts topic and pushed
-- to Alertmanager. A restarted watch resumes here instead of re-sending.
CREATE TABLE IF NOT EXISTS motcua.watch_position
(
    name String,
    until DateTime('UTC'),
    updated_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name;
