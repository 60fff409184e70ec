"""The composition root: the one place the commands build the pipeline's
objects from settings (ClickHouse connections, report sources, the unit
directory, the record publisher with its store and producer)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motcua.console import say
from motcua.options import FROM_FILES, Source, UnitsAs, check_files, read_events
from reports.sources import ClickHouseSource, ReportSource
from schemas.settings import Settings
from streams.problems import USAGE, Problem, explain
from streams.rules.calendar import working_calendar

if TYPE_CHECKING:
    from ingest.publish import RecordPublisher
    from ingest.sync import UnitDirectory


def engine_for(settings: Settings, role: str):
    """A ClickHouse connection as the admin, writer or reader user."""
    from streams.clickhouse.engines import connect

    return connect(settings, role)


def unit_directory(path: Path):
    """The unit directory (JSON); a Problem naming the file if it cannot be read."""
    from ingest.sync import read_unit_directory

    check_files([path], "danh mục đơn vị")
    try:
        return read_unit_directory(path)
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise Problem(
            f"{path}: không đọc được danh mục đơn vị ({str(exc)[:300]})",
            "cần tệp JSON như deploy/ingest/units.example.json, hoặc tệp có hiệu lực "
            "và đơn vị kế thừa như deploy/ingest/units-history.example.json "
            "(hoặc tệp của `motcua simulate --units`)",
        ) from None


def unit_view(units: UnitsAs, directory: Path | None, end: datetime):
    """How a report names agency, commune and area: as recorded (with the
    directory, if given, for the area of two-tier dossiers), or as the units
    valid on the period's last day (`end` exclusive), through successors."""
    from streams.rules.units import UnitView

    loaded = None if directory is None else unit_directory(directory)
    if units is UnitsAs.RECORDED:
        return UnitView.as_recorded(loaded)
    if loaded is None:
        raise Problem(
            "--units today cần danh mục đơn vị có đơn vị kế thừa",
            "thêm --directory TỆP (ví dụ deploy/ingest/units-history.example.json, "
            "hoặc units-history.json của `motcua simulate --units`)",
            exit_code=USAGE,
        )
    return UnitView.as_units_at(loaded, end - timedelta(microseconds=1))


def wait_stored(settings: Settings, offsets: dict[int, int], timeout: float) -> None:
    """Block until the workers' stored progress covers the acknowledged `offsets`;
    a ClickHouse outage meanwhile is waited out until `timeout`."""
    from clickhouse_driver.errors import NetworkError, SocketTimeoutError

    from streams.progress import NotStoredInTime, wait_until_stored

    say(f"Đang chờ worker lưu vào ClickHouse (tối đa {timeout:g} giây)…")
    try:
        wait_until_stored(
            engine_for(settings, "reader"),
            settings,
            offsets,
            timeout,
            tolerate=(NetworkError, SocketTimeoutError),
        )
    except NotStoredInTime as exc:
        where = f"{settings.clickhouse_host}:{settings.clickhouse_port}"
        if exc.unreachable is not None:
            raise Problem(
                f"sau {timeout:g} giây vẫn không kết nối được ClickHouse tại {where}",
                "các sự kiện đã nằm trên broker và worker sẽ lưu khi ClickHouse chạy lại; "
                "kiểm tra dịch vụ rồi xem lại bằng `motcua report --from … --to …`",
            ) from None
        behind = "; ".join(
            f"phân vùng {p}: đã lưu đến {stored}, cần {wanted}"
            for p, (stored, wanted) in sorted(exc.behind.items())
        )
        raise Problem(
            f"sau {timeout:g} giây worker vẫn chưa lưu hết ({behind or 'tiến độ thuộc log khác'})",
            "worker có đang chạy không? (`motcua worker`, hoặc `motcua run`); "
            "tăng --timeout nếu khối lượng lớn",
        ) from None


def report_source(settings: Settings, source: Source, events: list[Path] | None) -> ReportSource:
    """Report rows from event files or from the pipeline's ClickHouse (checked reachable)."""
    if source is Source.FILES:
        return read_events(settings, events or [])
    engine = engine_for(settings, "reader")
    try:
        engine.rows("SELECT 1")
    except Exception as exc:
        problem = explain(exc, settings, alternative=FROM_FILES)
        if problem is None:
            raise
        raise problem from None
    return ClickHouseSource(engine, working_calendar(settings), settings.province)


@contextmanager
def record_publisher(
    settings: Settings,
    state: Path,
    directory: UnitDirectory,
    stage: str,
    source: str | None = None,
    in_thread: Callable[..., Any] | None = None,
    bulk: bool = False,
    **producer_options: object,
) -> Iterator[RecordPublisher]:
    """Sync records → events on the topic: the record history (SQLite at
    `state`), a sender and the publisher, closed together. `in_thread`
    runs the store's opening and closing (SQLite keeps to one thread).
    `bulk`: whole record batches (`BulkProducer`, for a file: ~1 µs a message
    against kafka-python's ~45), else kafka-python with `producer_options`."""
    from ingest.publish import DEFAULT_SOURCE, EventSender, KafkaSender, RecordPublisher
    from ingest.record_history import SqliteRecords
    from streams.kafka.bulk import BulkProducer
    from streams.kafka.clients import make_producer

    call = in_thread or (lambda fn, *args: fn(*args))
    store = call(SqliteRecords, state)
    sender: EventSender = (
        BulkProducer(settings) if bulk else KafkaSender(make_producer(settings, **producer_options))
    )
    try:
        yield RecordPublisher(
            settings, sender, store, directory, stage=stage, source=source or DEFAULT_SOURCE
        )
    finally:
        sender.close()
        call(store.close)
