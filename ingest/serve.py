"""`motcua ingest serve`: the HTTP push endpoint for national-portal sync records.

`POST /v1/records` takes one DongBoHoSoMC record (EVENTS.md §2) or a list of
them, and answers only once the broker has acknowledged every event and dead
letter the request produced and the last records are committed
(`RecordPublisher.confirm`): a 200/422 means nothing is lost, and a retry
after any other answer is harmless (deterministic event ids).

Why it looks the way it does:
- The publisher blocks and is not thread-safe, and its SQLite connection only
  works in the thread that opened it; so every publisher call runs in ONE
  executor thread (open the store there: `publisher_thread`, `run`), under an
  asyncio.Lock so one request's submit+confirm is never interleaved with
  another's.
- Bad input is 4xx (400 the request as a whole, 413 too large, 422 some
  records rejected, the good ones of the batch still published); a broker
  failure (or the SQLite file locked by another ingest process) is 503 +
  Retry-After with the records rolled back; bad input never
  gets a 5xx. Rejected records (422) and refused bodies (400) of an
  authenticated sender go to the dead-letter topic with the reason, summarised
  (length, SHA-256 and the contract's fields only: schemas/redact.py);
  401 and 413 do not (no trusted sender, no whole body).
- Bodies are bounded twice: Content-Length is checked before reading, and the
  read stops at the limit (chunked bodies). Nesting depth and record count
  are bounded too, so no payload can exhaust the recursion limit or the
  producer's buffer. And in time: the whole body must arrive within
  `body_timeout` seconds (MOTCUA_INGEST_BODY_TIMEOUT, 30), else 408 and the
  connection is closed, so a client that sends headers and then trickles
  the body cannot hold a connection (and its buffer) open for long.
- The access log has method, path, status, size and time: never a body, a
  query string or a header (personal data, the token).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import logging.config
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime, tzinfo
from typing import Any

import orjson
from aiohttp import web
from kafka.errors import KafkaError
from pydantic import BaseModel, Field, SecretStr
from pydantic.json_schema import models_json_schema
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.publish import RecordPublisher, Submitted
from ingest.sync.record import SyncRecord
from schemas.settings import Settings
from streams.rules.calendar import working_calendar

RECORDS_PATH = "/v1/records"
STAGE = "ingest serve"  # names this way in on dead letters
MIN_TOKEN_LENGTH = 16
MAX_DEPTH = 16  # a batch → record → supplement list → round is depth 4
MAX_RECORDS = 5000  # per request; bounds the producer's buffer and the wait
BODY_TIMEOUT_S = 30.0  # the whole body, from the handler's start
RETRY_AFTER_S = 30
READ_CHUNK = 64 * 1024
TOO_DEEP = "nested deeper than"
# The client waits for the broker: fail within ~30 s instead of kafka-python's minutes.
PRODUCER_TIMEOUTS = {
    "max_block_ms": 10_000,
    "request_timeout_ms": 10_000,
    "delivery_timeout_ms": 20_000,
}

log = logging.getLogger("motcua.ingest.serve")
access_log = logging.getLogger("motcua.ingest.access")

PUBLISHER = web.AppKey("publisher", RecordPublisher)
CONFIG = web.AppKey("config", dict)


class ServeSettings(BaseSettings):
    """The push token (MOTCUA_INGEST_TOKEN) and the body-read timeout
    (MOTCUA_INGEST_BODY_TIMEOUT), from the environment or .env."""

    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_file=".env", extra="ignore")

    ingest_token: SecretStr = SecretStr("")
    ingest_body_timeout: float = Field(BODY_TIMEOUT_S, gt=0)


def token_problem(token: str) -> str | None:
    """Why `token` cannot guard the endpoint, or None."""
    if not token:
        return "MOTCUA_INGEST_TOKEN is not set"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"MOTCUA_INGEST_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters"
    if not token.isascii() or not token.isprintable() or " " in token:
        return "MOTCUA_INGEST_TOKEN must be printable ASCII without spaces"
    return None


class Unavailable(Exception):
    """The broker did not take the request's messages, or the state store was busy
    (another process holds its lock); nothing was committed."""


# --- responses ---------------------------------------------------------------------


class PushError(BaseModel):
    error: str = Field(description="What is wrong.")


class Rejection(BaseModel):
    index: int = Field(ge=0, description="Position in the list.")
    reason: str = Field(description="What is wrong, naming the field.")


class PushResult(BaseModel):
    accepted: int = Field(ge=0, description="Records accepted.")
    events: int = Field(ge=0, description="New events published.")
    rejected: list[Rejection] = Field(
        description="Records rejected (each also sent to the dead-letter topic)."
    )


def _error(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    body = PushError(error=reason).model_dump()
    return web.json_response(body, status=status, headers=headers)


def _too_slow(seconds: float) -> web.Response:
    """408: the body did not arrive in time; the connection is closed (the rest of
    a trickled body is not waited for)."""
    response = _error(408, f"request body not received within {seconds:g} s")
    response.force_close()
    return response


def _result(submitted: Submitted, request_id: str) -> web.Response:
    body = PushResult(
        accepted=submitted.records,
        events=submitted.events,
        rejected=[Rejection(index=r.index, reason=r.reason) for r in submitted.rejected],
    ).model_dump()
    status = 422 if submitted.rejected else 200
    return web.json_response(body, status=status, headers={"X-Request-Id": request_id})


# --- checks on the request ---------------------------------------------------------


def _authorized(request: web.Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    offered = given.strip().encode("utf-8", "replace")
    return scheme.lower() == "bearer" and hmac.compare_digest(offered, token)


def _content_type_problem(request: web.Request) -> str | None:
    if request.content_type != "application/json":
        return f"Content-Type must be application/json, got {request.content_type[:80]!r}"
    if request.charset and request.charset.lower() not in ("utf-8", "utf8"):
        return f"JSON must be UTF-8, got charset {request.charset[:40]!r}"
    return None


async def _read_bounded(request: web.Request, limit: int) -> bytes | None:
    """The body, or None once it grows past `limit` (no Content-Length needed)."""
    body = bytearray()
    async for chunk in request.content.iter_chunked(READ_CHUNK):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Nesting beyond `limit`; iterative, so a hostile payload cannot recurse us out."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False


def _payload_problem(payload: Any) -> str | None:
    if not isinstance(payload, dict | list):
        return f"expected a record (JSON object) or a list of records, got {type(payload).__name__}"
    if _too_deep(payload):
        return f"{TOO_DEEP} {MAX_DEPTH} levels: not a sync record"
    return None


# --- publishing (in the publisher's thread) ------------------------------------------


def _publish(publisher: RecordPublisher, where: str, payload: Any, at: datetime) -> Submitted:
    """submit + confirm; a broker or store failure rolls back and becomes Unavailable."""
    try:
        submitted = publisher.submit(where, payload, at)
    except (KafkaError, sqlite3.OperationalError) as exc:  # no metadata in time; db locked
        publisher.rollback()
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    except BaseException:
        publisher.rollback()
        raise
    try:
        publisher.confirm()  # rolls back by itself when it raises
    except Exception as exc:
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    return submitted


def _dead_letter(
    publisher: RecordPublisher, where: str, original: bytes, reason: str, at: datetime
) -> None:
    try:
        publisher.dead_letter(where, original, reason, at)
        publisher.confirm()
    except Exception as exc:  # confirm has rolled back; a sent-but-unconfirmed letter is harmless
        publisher.rollback()
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc


# --- handlers ----------------------------------------------------------------------


async def post_records(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    if not _authorized(request, config["token"]):
        given = "Authorization" in request.headers
        challenge = 'Bearer realm="motcua-ingest"' + (', error="invalid_token"' if given else "")
        return _error(401, "missing or invalid bearer token", {"WWW-Authenticate": challenge})
    limit = config["max_body_bytes"]
    too_large = f"body larger than {limit} bytes; split the batch"
    if request.content_length is not None and request.content_length > limit:
        return _error(413, too_large)
    try:
        async with asyncio.timeout(config["body_timeout"]):
            body = await _read_bounded(request, limit)
    except TimeoutError:
        return _too_slow(config["body_timeout"])
    if body is None:
        return _error(413, too_large)
    seen_at = datetime.now(config["tz"])  # arrival time, in the province's zone
    request_id = f"{seen_at:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    payload, problem = _decode(request, body)
    if problem:
        await _reject(request.app, request_id, body, problem, seen_at)
        return _error(400, problem, {"X-Request-Id": request_id})
    if isinstance(payload, list) and len(payload) > MAX_RECORDS:
        return _error(413, f"more than {MAX_RECORDS} records in one request; split the batch")
    return await _submit(request.app, request_id, payload, seen_at)


def _decode(request: web.Request, body: bytes) -> tuple[Any, str | None]:
    """The payload, or why the request as a whole is refused."""
    problem = _content_type_problem(request)
    if problem:
        return None, problem
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc}"
    return payload, _payload_problem(payload)


async def _in_publisher_thread(app: web.Application, fn: Callable[..., Any], *args: Any) -> Any:
    """One publisher call at a time, in its thread; a client hang-up does not cut it short."""
    config = app[CONFIG]
    async with config["lock"]:
        work = asyncio.get_running_loop().run_in_executor(config["executor"], fn, *args)
        return await asyncio.shield(work)


async def _submit(
    app: web.Application, request_id: str, payload: Any, seen_at: datetime
) -> web.Response:
    where = f"request {request_id}"
    try:
        submitted = await _in_publisher_thread(
            app, _publish, app[PUBLISHER], where, payload, seen_at
        )
    except Unavailable as exc:
        log.warning("request %s rolled back: %s", request_id, exc)
        return _error(
            503,
            "the broker did not confirm the events (or the state store is busy); "
            "nothing was stored, retry later",
            {"Retry-After": str(RETRY_AFTER_S), "X-Request-Id": request_id},
        )
    return _result(submitted, request_id)


async def _reject(
    app: web.Application, request_id: str, original: bytes, reason: str, at: datetime
) -> None:
    """A refused body goes to the dead-letter topic; if the broker is down the
    sender still gets its 400 (the input is wrong either way), and we log it."""
    try:
        await _in_publisher_thread(
            app, _dead_letter, app[PUBLISHER], f"request {request_id}", original, reason, at
        )
    except Unavailable as exc:
        log.warning("dead letter of request %s not stored: %s", request_id, exc)


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def get_health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


class AccessLogger(web.AbstractAccessLogger):
    """One line per request; never a body, query string or header."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s bytes %.1f ms",
            request.method,
            request.path[:200],
            response.status,
            response.body_length,
            time * 1000,
        )


# --- the application -----------------------------------------------------------------


def publisher_thread() -> ThreadPoolExecutor:
    """The one thread every publisher call runs in; open the SQLite store in it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-publisher")


def make_app(
    publisher: RecordPublisher,
    token: str,
    max_body_bytes: int,
    tz: tzinfo,
    *,
    executor: Executor | None = None,
    body_timeout: float = BODY_TIMEOUT_S,
) -> web.Application:
    """The push endpoint. `executor`: the publisher's one thread, where its SQLite
    store was opened (`publisher_thread`); by default a new thread of the app's own,
    which only suits a store usable from any thread (checked at startup).
    `body_timeout`: seconds for a request's whole body (408 after)."""
    problem = token_problem(token)
    if problem:
        raise ValueError(problem)
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    if not body_timeout > 0:
        raise ValueError("body_timeout must be positive")
    own = executor is None
    pool = publisher_thread() if executor is None else executor
    app = web.Application(client_max_size=max_body_bytes)
    app[PUBLISHER] = publisher
    app[CONFIG] = {
        "token": token.encode(),
        "max_body_bytes": max_body_bytes,
        "body_timeout": body_timeout,
        "tz": tz,
        "executor": pool,
        "lock": asyncio.Lock(),
    }
    app.router.add_post(RECORDS_PATH, post_records)
    app.router.add_get("/openapi.json", get_openapi)
    app.router.add_get("/healthz", get_health)
    app.on_startup.append(_check_thread)
    if own:
        app.on_cleanup.append(_shutdown(pool))
    return app


async def _check_thread(app: web.Application) -> None:
    """Fail at startup, not on the first push, if the store is bound to another thread."""
    probe = app[PUBLISHER].store.get
    try:
        await asyncio.get_running_loop().run_in_executor(app[CONFIG]["executor"], probe, "")
    except Exception as exc:
        raise RuntimeError(
            "the publisher's SQLite store must be opened in the app's executor thread "
            f"(see ingest.serve.publisher_thread): {exc}"
        ) from exc


def _shutdown(pool: Executor) -> Callable[[web.Application], Awaitable[None]]:
    async def stop(app: web.Application) -> None:
        pool.shutdown(wait=True)

    return stop


def run(
    settings: Settings,
    publisher: RecordPublisher,
    pool: Executor,
    host: str,
    port: int,
    max_body_bytes: int,
    token: str,
    body_timeout: float = BODY_TIMEOUT_S,
) -> None:
    """Serve until interrupted; `pool` is the publisher's one thread (its
    record store was opened there)."""
    from streams.logs import logging_config

    logging.config.dictConfig(logging_config(settings.log_level))
    logging.getLogger("motcua.ingest").setLevel(logging.INFO)  # access lines are the point
    app = make_app(
        publisher,
        token,
        max_body_bytes,
        working_calendar(settings).tz,
        executor=pool,
        body_timeout=body_timeout,
    )
    log.info("listening on http://%s:%s%s", host, port, RECORDS_PATH)
    web.run_app(
        app,
        host=host,
        port=port,
        access_log=access_log,
        access_log_class=AccessLogger,
        print=None,
    )


# --- OpenAPI -------------------------------------------------------------------------
# Generated from the models: the record as read (ingest.sync.record.SyncRecord,
# with what it accepts as input) and the answers (PushResult, PushError).

REF = "#/components/schemas/{model}"


def _plain(schema: Any) -> Any:
    """Without pydantic's generated titles and defaults (the descriptions say it)."""
    if isinstance(schema, dict):
        return {
            k: _plain(v)
            for k, v in schema.items()
            if k not in ("title", "default") or not isinstance(v, str | type(None))
        }
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


def _components() -> dict[str, Any]:
    _, top = models_json_schema(
        [(SyncRecord, "validation"), (PushResult, "serialization"), (PushError, "serialization")],
        ref_template=REF,
    )
    return _plain(top["$defs"])


def _json(schema_ref: str, description: str, **extra: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": REF.format(model=schema_ref)}}}
    return {"description": description, "content": content, **extra}


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "motcua-monitor ingest",
        "version": "1",
        "description": (
            "Push endpoint for national-portal sync records (DongBoHoSoMC). Each accepted "
            "record becomes canonical dossier events on the broker; re-sending a record is "
            "harmless (deterministic event ids). Personal data is dropped at ingest."
        ),
    },
    "paths": {
        RECORDS_PATH: {
            "post": {
                "operationId": "pushRecords",
                "summary": "Push one sync record or a list of them",
                "description": (
                    "Answers after the broker has acknowledged every event and dead letter of "
                    "the request. Rejected records are reported by index and sent to the "
                    "dead-letter topic; the good records of the same batch are still "
                    "published (422). Batches whose records were all seen before yield no "
                    f"new events. At most {MAX_RECORDS} records and the configured body size "
                    "per request."
                ),
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "anyOf": [
                                    {"$ref": "#/components/schemas/SyncRecord"},
                                    {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/SyncRecord"},
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        "PushResult",
                        "All records accepted (events = new events only).",
                        headers={"X-Request-Id": _header("Names the request's dead letters.")},
                    ),
                    "400": _json(
                        "PushError",
                        "Not JSON, not UTF-8, wrong content type, not a record or list, or "
                        "nested too deep; the body went to the dead-letter topic.",
                        headers={"X-Request-Id": _header("Names the request's dead letter.")},
                    ),
                    "401": _json(
                        "PushError",
                        "Missing or wrong bearer token.",
                        headers={"WWW-Authenticate": _header("Bearer challenge.")},
                    ),
                    "408": _json("PushError", "The body did not arrive in time; retry."),
                    "413": _json("PushError", "Body or record count over the limit."),
                    "422": _json(
                        "PushResult",
                        "Some records rejected; the accepted ones of the batch were published.",
                        headers={"X-Request-Id": _header("Names the request's dead letters.")},
                    ),
                    "503": _json(
                        "PushError",
                        "The broker did not confirm; nothing was stored. Retry later.",
                        headers={
                            "Retry-After": _header("Seconds to wait.", "integer"),
                            "X-Request-Id": _header("Identifies the request in the logs."),
                        },
                    ),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness",
                "responses": {"200": {"description": "The server is up."}},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "The OpenAPI document."}},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "The token in MOTCUA_INGEST_TOKEN.",
            }
        },
        "schemas": _components(),
    },
}
