"""Who may do what in ClickHouse.

- The local server (Debian's 18.16, streams/services.py): every user has a
  generated password, the administrator too; the reader (readonly=1) can
  read the report tables and nothing else: no table function (url, remote,
  file...), no SET, no SETTINGS readonly=0, no temporary table.
- deploy/clickhouse/users.sql, for a current ClickHouse: 18.16 has no SQL
  users and chdb (the current engine in-process) runs as one fixed user
  without access storage, so neither can execute it as another user. What
  can run here does: every statement goes through the current engine's own
  parser (chdb 26.x, `formatQuerySingleLine`), whose normalised text shows
  what each statement means (the reader's profile pins readonly = 1 CONST,
  the reader gets SELECT on motcua.* after REVOKE ALL, nothing grants
  CREATE TEMPORARY TABLE or a table-function source), and init-users.sh's
  password substitution is run and read back as SQL literals.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clickhouse_driver.errors import ServerException

from reports.render import write_csv
from schemas.events import parse_event
from streams.clickhouse.migrations import load_migrations, migrate, pending_migrations
from streams.clickhouse.queries import report_rows
from streams.clickhouse.sql import DATABASE
from streams.rules.calendar import WorkingCalendar
from streams.rules.period import CSV_COLUMNS, UnitKind
from streams.services import ClickHouseServer
from tests.conftest import load_facts
from tests.histories import TZ
from tests.unit.cli.test_report_command import EXPECTED, LINES

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse"
READONLY = 164  # ClickHouse's error code: "Cannot execute query in readonly mode"
CAL = WorkingCalendar()


@pytest.fixture
def report_tables(clickhouse: ClickHouseServer):
    """The hand-worked history's facts in a freshly migrated motcua database."""
    admin = clickhouse.engine()
    admin.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    migrate(admin)
    events = [parse_event(x) for x in LINES if isinstance(x, dict) and "agency_code" in x]
    events += [parse_event(x) for x in LINES if isinstance(x, dict) and x["type"] == "resolved"]
    load_facts(admin, events, datetime(2026, 6, 2, tzinfo=UTC), CAL)
    yield clickhouse
    admin.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    admin.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')",
        "SELECT * FROM remote('127.0.0.1', system.one)",
        "SELECT * FROM file('users.xml', CSV, 'a String')",
        "SELECT * FROM numbers(3)",
        "SET max_threads = 1",
        "SELECT 1 SETTINGS readonly = 0",
        "SELECT 1 SETTINGS max_threads = 1",
        "CREATE TEMPORARY TABLE t (a UInt8)",
        f"INSERT INTO {DATABASE}.units (kind, code, name) VALUES ('x', 'y', 'z')",
    ],
)
def test_the_local_reader_can_do_nothing_but_read(report_tables, sql: str) -> None:
    reader = report_tables.client(*report_tables.credentials("reader"))
    with pytest.raises(ServerException) as caught:
        reader.execute(sql)
    assert caught.value.code == READONLY, caught.value
    reader.disconnect()


def test_the_local_reader_still_reads_the_report_tables(report_tables) -> None:
    reader = report_tables.engine("reader")
    start, end = datetime(2026, 5, 1, tzinfo=TZ), datetime(2026, 6, 1, tzinfo=TZ)
    out = io.StringIO()
    write_csv(report_rows(reader, start, end, UnitKind.AGENCY, CAL), out)
    assert out.getvalue().splitlines() == [",".join(CSV_COLUMNS), *EXPECTED]
    [(count,)] = reader.rows(f"SELECT count() FROM {DATABASE}.partition_progress")
    assert count == 0
    reader.close()


def test_the_writer_keeps_its_rights(report_tables) -> None:
    writer = report_tables.client(*report_tables.credentials("writer"))
    writer.execute(
        f"INSERT INTO {DATABASE}.units (kind, code, name, seen_at) VALUES",
        [("agency", "H44.1", "Sở A", datetime(2026, 6, 1, tzinfo=UTC))],
    )
    assert writer.execute(f"SELECT count() FROM {DATABASE}.partition_progress") == [(0,)]
    with pytest.raises(ServerException):
        writer.execute(f"DROP TABLE {DATABASE}.units")
    writer.disconnect()


def test_every_local_user_needs_its_password(clickhouse: ClickHouseServer) -> None:
    for role in ("admin", "writer", "reader"):
        user, password = clickhouse.credentials(role)
        assert len(password) == 32
        with pytest.raises(ServerException):
            clickhouse.client(user, "").execute("SELECT 1")
    assert clickhouse.client().execute("SELECT 1") == [(1,)]  # the admin, with its password
    env = clickhouse.env()
    assert "MOTCUA_CLICKHOUSE_ADMIN_PASSWORD" not in env  # a worker's env: writer and reader
    assert env["MOTCUA_CLICKHOUSE_WRITER_PASSWORD"] == clickhouse.writer_password


# -- deploy/clickhouse/users.sql on the current engine's parser ----------------------


def _current_engine():
    from chdb import session

    return session.Session()


def _normalised(engine, statement: str) -> str:
    literal = statement.replace("\\", "\\\\").replace("'", "\\'")
    return str(engine.query(f"SELECT formatQuerySingleLine('{literal}')", "TSVRaw")).strip()


def _statements(text: str) -> list[str]:
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    # a statement ends with ";" at the end of a line (a password may hold ";")
    return [s.strip().removesuffix(";") for s in re.split(r";[ \t]*\n", body + "\n") if s.strip()]


def _substituted(writer: str, reader: str, tmp_path: Path) -> str:
    """users.sql as init-users.sh sends it (a stand-in `clickhouse` records stdin)."""
    fake = tmp_path / "bin" / "clickhouse"
    fake.parent.mkdir()
    fake.write_text('#!/bin/bash\ncat > "$FAKE_OUT"\n')
    fake.chmod(0o755)
    out = tmp_path / "sent.sql"
    env = {
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "FAKE_OUT": str(out),
        "MOTCUA_USERS_SQL": str(DEPLOY / "users.sql"),
        "CLICKHOUSE_USER": "admin",
        "CLICKHOUSE_PASSWORD": "admin-secret",
        "MOTCUA_CLICKHOUSE_WRITER_PASSWORD": writer,
        "MOTCUA_CLICKHOUSE_READER_PASSWORD": reader,
    }
    subprocess.run(["bash", str(DEPLOY / "init-users.sh")], env=env, check=True)
    return out.read_text()


def test_users_sql_pins_the_reader_on_the_current_engine(tmp_path: Path) -> None:
    engine = _current_engine()
    sent = _substituted("w-secret", "r-secret", tmp_path)
    normalised = [_normalised(engine, s) for s in _statements(sent)]
    assert engine.query("SELECT version()", "TSVRaw").bytes().startswith(b"2")  # current
    assert (
        "ALTER SETTINGS PROFILE `motcua_reader_profile` DROP ALL SETTINGS, DROP ALL PROFILES, "
        "ADD SETTINGS readonly = 1 CONST, "
        "max_execution_time = 60 MIN 1 MAX 600 CHANGEABLE_IN_READONLY"
    ) in normalised
    assert (
        "ALTER USER motcua_reader DROP ALL SETTINGS, DROP ALL PROFILES, "
        "ADD PROFILE `motcua_reader_profile`"
    ) in normalised
    reader = [s for s in normalised if re.search(r"\bmotcua_reader\b", s)]
    grants = [s for s in reader if s.startswith(("GRANT", "REVOKE"))]
    assert grants == [
        "REVOKE ALL ON *.* FROM motcua_reader",
        "GRANT SELECT ON motcua.* TO motcua_reader",
    ]
    # nothing in the file grants what table functions need, to anyone
    for statement in normalised:
        if statement.startswith("GRANT"):
            assert not re.search(r"TEMPORARY|SOURCES|URL|REMOTE|FILE|READ ON|ALL ON \*", statement)
    # the writer's grants stand, partition_progress among them
    assert "GRANT SELECT ON motcua.partition_progress TO motcua_writer" in normalised
    assert "GRANT ALTER DELETE ON motcua.open_dossiers TO motcua_writer" in normalised
    assert "GRANT SELECT ON motcua.schema_migrations TO motcua_writer" in normalised


def test_init_users_takes_any_password_as_a_literal(tmp_path: Path) -> None:
    writer, reader = "a'b\\c&d/e;DROP", 'r$x{}`q` "z"'
    sent = _substituted(writer, reader, tmp_path)
    engine = _current_engine()
    found = {}
    for statement in _statements(sent):
        match = re.match(r"CREATE USER IF NOT EXISTS (\w+) .* BY ('.*')$", statement)
        if match:
            [[value]] = json.loads(engine.query(f"SELECT {match[2]}", "JSONCompact").bytes())[
                "data"
            ]
            found[match[1]] = value
    assert found == {"motcua_writer": writer, "motcua_reader": reader}
    assert len(_statements(sent)) == len(_statements((DEPLOY / "users.sql").read_text()))
    assert "${" not in sent


# -- workers never migrate unless told to ---------------------------------------------


def test_a_worker_refuses_a_schema_not_migrated(clickhouse: ClickHouseServer) -> None:
    """`motcua worker` holds the writer's credentials only: on a database that
    `motcua migrate` has not brought up to date it says so and stops, before
    touching the broker."""
    admin = clickhouse.engine()
    admin.command(f"DROP DATABASE IF EXISTS {DATABASE}")
    writer = clickhouse.engine("writer")
    versions = [m.version for m in load_migrations()]
    assert pending_migrations(writer) == versions
    env = {"PATH": "/usr/bin:/bin", **clickhouse.env("writer")}
    env["MOTCUA_BOOTSTRAP_SERVERS"] = "127.0.0.1:9"  # never reached
    result = subprocess.run(
        [sys.executable, "-m", "motcua", "worker"],
        cwd=DEPLOY.parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "motcua migrate" in " ".join(result.stderr.split())
    migrate(admin)
    assert pending_migrations(writer) == []
    admin.command(f"DROP DATABASE IF EXISTS {DATABASE}")
