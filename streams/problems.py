"""Expected failures, in words a user can act on.

A command that cannot do its job because a service is down, a file is
missing or an input is not what it should be ends with one line (in
Vietnamese, like all output) naming what is wrong and the way out, and a
non-zero exit code; never a traceback. `explain` turns the client
libraries' exceptions into such a `Problem`; anything it does not know is
a bug and keeps its traceback.

Exit codes (README, "Exit codes"): 0 done; 1 the job failed or produced
nothing (a service unreachable, no data, an unreadable input); 2 the
command line is wrong (an unknown option, a bad date, a missing file,
options that contradict each other); 3 done, but some input was rejected
(the rest was published; each rejected line is listed).
"""

from __future__ import annotations

import re
import socket
import time

from schemas.settings import Settings

FAILED = 1
USAGE = 2
REJECTED = 3

SERVICES_UP = 'eval "$(motcua services up)"'


class Problem(Exception):
    """An expected failure: what is wrong, and the way out."""

    def __init__(self, what: str, way_out: str = "", exit_code: int = FAILED) -> None:
        super().__init__(what)
        self.what, self.way_out, self.exit_code = what, way_out, exit_code

    def line(self) -> str:
        return f"Lỗi: {self.what}" + (f" — {self.way_out}" if self.way_out else "")


def clickhouse_unreachable(settings: Settings, detail: str = "", alternative: str = "") -> Problem:
    where = f"{settings.clickhouse_host}:{settings.clickhouse_port}"
    detail = detail.replace(f" ({where})", "")
    return Problem(
        f"không kết nối được ClickHouse tại {where}" + (f" ({detail})" if detail else ""),
        f"khởi động dịch vụ cục bộ bằng `{SERVICES_UP}` (README, mục “Local services”) "
        "hoặc đặt MOTCUA_CLICKHOUSE_HOST và MOTCUA_CLICKHOUSE_PORT trỏ tới máy chủ ClickHouse"
        + (f"; {alternative}" if alternative else ""),
    )


def broker_unreachable(settings: Settings, detail: str = "") -> Problem:
    return Problem(
        f"không kết nối được broker Kafka tại {settings.bootstrap_servers}"
        + (f" ({detail})" if detail else ""),
        f"khởi động dịch vụ cục bộ bằng `{SERVICES_UP}` (README, mục “Local services”) "
        "hoặc đặt MOTCUA_BOOTSTRAP_SERVERS trỏ tới broker",
    )


def check_broker(settings: Settings, timeout: float = 3.0) -> None:
    """Raise a Problem at once if no bootstrap server accepts a connection.

    kafka-python waits 30 s to bootstrap before it gives up; nothing
    listening at all is known in milliseconds (or `timeout` seconds for an
    address that drops packets).
    """
    deadline = time.monotonic() + timeout
    for address in settings.bootstrap_servers.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            left = max(0.2, deadline - time.monotonic())
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), left):
                return
        except (OSError, ValueError):
            continue
    raise broker_unreachable(settings)


_FILE_ERRORS = {
    FileNotFoundError: "không có tệp hoặc thư mục này",
    PermissionError: "không có quyền",
    IsADirectoryError: "đây là một thư mục",
    NotADirectoryError: "một phần của đường dẫn không phải thư mục",
}

# ClickHouse server error codes (src/Common/ErrorCodes.cpp)
_UNKNOWN_TABLE, _UNKNOWN_DATABASE = 60, 81
_AUTHENTICATION = {192, 193, 194, 516}  # unknown user, wrong/required password, failed


def explain(exc: BaseException, settings: Settings, alternative: str = "") -> Problem | None:
    """The Problem behind a client library's exception, or None (a bug);
    `alternative`: another way out when ClickHouse is unreachable."""
    if isinstance(exc, Problem):
        return exc
    from pydantic import ValidationError

    from streams.services import ServiceFailed, ServiceMissing

    if isinstance(exc, ServiceMissing):
        return Problem(f"chưa cài {exc.binary}", f"cài bằng `{exc.install}` (hoặc `make services`)")
    if isinstance(exc, ServiceFailed):
        logs = re.findall(r"--- tail of (\S+?):", str(exc))
        return Problem(
            f"dịch vụ không khởi động được: {_short(exc)}",
            f"xem nhật ký {', '.join(logs) or 'trong thư mục dữ liệu'}",
        )
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        wrong = "; ".join(
            f"MOTCUA_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        return Problem(
            f"cấu hình không hợp lệ ({wrong})", "sửa biến môi trường hoặc tệp .env", USAGE
        )
    try:
        from clickhouse_driver import errors as ch
    except ImportError:  # pragma: no cover - the stream extra is not installed
        ch = None
    if ch is not None:
        if isinstance(exc, ch.NetworkError | ch.SocketTimeoutError):
            return clickhouse_unreachable(settings, _short(exc), alternative)
        if isinstance(exc, ch.ServerException):
            if exc.code in (_UNKNOWN_TABLE, _UNKNOWN_DATABASE):
                return Problem(
                    "ClickHouse chưa có các bảng của motcua",
                    "chạy `motcua migrate` (hoặc khởi động một worker: nó tạo bảng khi bắt đầu)",
                )
            if exc.code in _AUTHENTICATION:
                return Problem(
                    "ClickHouse từ chối người dùng hoặc mật khẩu",
                    "kiểm tra MOTCUA_CLICKHOUSE_{ADMIN,WRITER,READER}_{USER,PASSWORD} "
                    "(`motcua services up` in ra các giá trị của dịch vụ cục bộ)",
                )
    try:
        from kafka import errors as kafka
    except ImportError:  # pragma: no cover
        kafka = None
    if kafka is not None and isinstance(exc, kafka.KafkaTimeoutError | kafka.KafkaConnectionError):
        return broker_unreachable(settings, _short(exc))
    if type(exc) in _FILE_ERRORS:
        why = _FILE_ERRORS[type(exc)]
        return Problem(
            f"không mở được {exc.filename or 'tệp'} ({why})",
            "kiểm tra đường dẫn (thư mục chứa tệp phải có sẵn) và quyền đọc/ghi",
        )
    if isinstance(exc, ConnectionRefusedError):
        return Problem(f"không kết nối được: {_short(exc)}", "dịch vụ cần dùng chưa chạy")
    return None


def _short(exc: BaseException) -> str:
    """The first line of an exception's message, without the library's code prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if text.startswith("Code: ") and ". " in text:
        text = text.split(". ", 1)[1]
    return text
