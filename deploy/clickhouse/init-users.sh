#!/bin/bash
# First start of the ClickHouse container: create the writer and reader users
# from deploy/clickhouse/users.sql with the passwords from the environment.
set -euo pipefail
sed -e "s/\${MOTCUA_CLICKHOUSE_WRITER_PASSWORD}/${MOTCUA_CLICKHOUSE_WRITER_PASSWORD}/" \
    -e "s/\${MOTCUA_CLICKHOUSE_READER_PASSWORD}/${MOTCUA_CLICKHOUSE_READER_PASSWORD}/" \
    /etc/motcua/users.sql \
  | clickhouse client --user "${CLICKHOUSE_USER}" --password "${CLICKHOUSE_PASSWORD}" --multiquery
