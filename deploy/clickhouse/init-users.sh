#!/bin/bash
# First start of the ClickHouse container: create the writer and reader users
# from deploy/clickhouse/users.sql with the passwords from the environment.
# The passwords are substituted as SQL string literals (quotes and backslashes
# escaped), never through sed, so any character is safe in them.
set -euo pipefail
users_sql=${MOTCUA_USERS_SQL:-/etc/motcua/users.sql}

sql_literal() {  # the inside of a '...' literal
    local value=${1//\\/\\\\}
    printf '%s' "${value//\'/\\\'}"
}

sql=$(<"$users_sql")
for name in MOTCUA_CLICKHOUSE_WRITER_PASSWORD MOTCUA_CLICKHOUSE_READER_PASSWORD; do
    if [ -z "${!name:-}" ]; then
        echo "init-users.sh: $name is not set" >&2
        exit 1
    fi
    placeholder="\${$name}"
    literal=$(sql_literal "${!name}")
    sql=${sql//"$placeholder"/"$literal"}
done
printf '%s\n' "$sql" \
  | clickhouse client --user "${CLICKHOUSE_USER}" --password "${CLICKHOUSE_PASSWORD}" --multiquery
