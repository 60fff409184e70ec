-- Users for a current ClickHouse (production). Run once as an administrator,
-- with the passwords substituted from the deployment's secret store, e.g.
--   envsubst < deploy/clickhouse/users.sql | clickhouse-client --multiquery
-- Workers may only insert (and read what they resume from); boards may only read.
CREATE USER IF NOT EXISTS motcua_writer IDENTIFIED WITH sha256_password BY '${MOTCUA_CLICKHOUSE_WRITER_PASSWORD}';
CREATE USER IF NOT EXISTS motcua_reader IDENTIFIED WITH sha256_password BY '${MOTCUA_CLICKHOUSE_READER_PASSWORD}'
    SETTINGS readonly = 1;
GRANT INSERT ON motcua.* TO motcua_writer;
GRANT SELECT ON motcua.stream_progress TO motcua_writer;
GRANT SELECT ON motcua.partition_progress TO motcua_writer;
GRANT SELECT ON motcua.raw_events TO motcua_writer;
-- the rollup refresh and the inspectors' watch read facts and their own state
GRANT SELECT ON motcua.dossier_facts TO motcua_writer;
GRANT SELECT ON motcua.dossier_periods TO motcua_writer;
GRANT SELECT ON motcua.open_dossiers TO motcua_writer;
-- the leader drops finished dossiers from open_dossiers (streams.store.delete_finished_open)
GRANT ALTER DELETE ON motcua.open_dossiers TO motcua_writer;
GRANT SELECT ON motcua.hotspots TO motcua_writer;
GRANT SELECT ON motcua.watch_position TO motcua_writer;
GRANT SELECT ON motcua.* TO motcua_reader;
