-- Users for a current ClickHouse (production). Run as an administrator, with the
-- passwords substituted from the deployment's secret store (init-users.sh does
-- it in the compose stack); every statement can run again (an upgrade re-applies
-- the reader's profile and grants).
-- Workers may only insert (and read what they resume from); boards and reports
-- may only read the motcua tables.

-- The reader runs whatever SQL a board or a person types, so its rights are its
-- whole defence: readonly = 1, pinned (CONST), refuses every settings change,
-- SET and SETTINGS alike (so also readonly = 0), and every write. The one
-- exception is max_execution_time, which the Grafana ClickHouse plugin sets on
-- each query to enforce its timeout, bounded here.
CREATE SETTINGS PROFILE IF NOT EXISTS motcua_reader_profile;
ALTER SETTINGS PROFILE motcua_reader_profile SETTINGS
    readonly = 1 CONST,
    max_execution_time = 60 MIN 1 MAX 600 CHANGEABLE_IN_READONLY;

CREATE USER IF NOT EXISTS motcua_writer IDENTIFIED WITH sha256_password BY '${MOTCUA_CLICKHOUSE_WRITER_PASSWORD}';
CREATE USER IF NOT EXISTS motcua_reader IDENTIFIED WITH sha256_password BY '${MOTCUA_CLICKHOUSE_READER_PASSWORD}';
ALTER USER motcua_reader SETTINGS PROFILE 'motcua_reader_profile';

GRANT INSERT ON motcua.* TO motcua_writer;
GRANT SELECT ON motcua.stream_progress TO motcua_writer;
GRANT SELECT ON motcua.partition_progress TO motcua_writer;
GRANT SELECT ON motcua.raw_events TO motcua_writer;
-- a worker checks the schema is up to date before it starts (it never migrates)
GRANT SELECT ON motcua.schema_migrations TO motcua_writer;
-- the rollup refresh and the inspectors' watch read facts and their own state
GRANT SELECT ON motcua.dossier_facts TO motcua_writer;
GRANT SELECT ON motcua.dossier_periods TO motcua_writer;
GRANT SELECT ON motcua.open_dossiers TO motcua_writer;
-- the leader drops finished dossiers from open_dossiers (streams.clickhouse.queries.delete_finished_open)
GRANT ALTER DELETE ON motcua.open_dossiers TO motcua_writer;
GRANT SELECT ON motcua.hotspots TO motcua_writer;
GRANT SELECT ON motcua.watch_position TO motcua_writer;

-- The reader: SELECT on the motcua tables and nothing else. Table functions
-- (url, remote, file, s3...) need CREATE TEMPORARY TABLE and a source grant,
-- so revoking everything first also clears any right an earlier setup gave.
REVOKE ALL ON *.* FROM motcua_reader;
GRANT SELECT ON motcua.* TO motcua_reader;
