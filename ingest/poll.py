"""`motcua ingest poll`: sync records from a provincial REST source that lists
the dossiers changed since a cursor.

The contract we expect from the source
--------------------------------------
    GET {url}?since=<cursor>&limit=<n>
        parameter names configurable; no `since` before the first committed page;
        `url` may carry fixed query parameters of its own
        optional auth: `Authorization: Bearer <token>`, or the token in a named
        API-key header (e.g. `X-API-Key: <token>`)
    → 200, JSON:
        {"items": [sync records, EVENTS.md §2], "next_cursor": "<opaque>", "has_more": true}

- `items`: the dossiers changed after `since`, each as its current sync record,
  oldest change first; a list, possibly empty. A record repeated on a later
  page (at-least-once) is harmless.
- `next_cursor`: opaque text where the next request starts; null or absent
  means "stay where you are" (nothing new). It must move when `has_more` is true.
- `has_more`: true → ask again at once from `next_cursor`; false or absent → caught up.
- 429 and 503 may carry `Retry-After` in seconds.

How a page is consumed
- All items go through `RecordPublisher.submit` with seen_at = the poll time
  (when the page arrived); `next_cursor` is written into the SAME SQLite
  transaction as the page's last records; `confirm()` waits for the broker's
  acknowledgements, then commits both. A crash before that commit re-fetches
  the page (same event ids: harmless); after it, polling resumes at the next
  page. Nothing is skipped, because the cursor never runs ahead of the
  confirmed events.
- Connection errors, timeouts, 5xx and 429 are retried with exponential
  backoff and jitter; on 429/503 a `Retry-After` (seconds, at most
  MAX_RETRY_AFTER) replaces the computed wait. After `Backoff.attempts` tries
  the drain ends with `SourceUnavailable`.
- Any other non-2xx answer (400, 401, 403, 404...) is `SourceRefused`: the
  poller stops, since a wrong URL, token or cursor needs a person.
- A page that is not the JSON above goes to the dead-letter topic (the body's
  length, SHA-256 and contract fields, and why: schemas/redact.py), the
  cursor stays, and the drain ends with `MalformedPage`.
  Bad records inside a good page are dead letters like everywhere else
  (id `ingest poll:{source}:since={cursor}#{index}`) and the page proceeds.
- In the endless loop, `SourceUnavailable` and `MalformedPage` are reported and
  polling tries again after the interval; with `once` they stop it.

The publisher is synchronous (kafka-python, one SQLite connection that must
stay on this thread), so `submit`/`confirm` block the event loop briefly;
nothing else runs on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, SecretStr, StrictBool, StrictStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from ingest.publish import RecordPublisher
from schemas.events import LOCAL_TZ
from schemas.redact import described

MAX_RETRY_AFTER = 900.0  # seconds; a longer Retry-After is taken as this


class PollError(Exception):
    """Polling cannot go on; the message says what the source did."""


class SourceRefused(PollError):
    """A non-retryable answer (4xx other than 429): needs a person."""


class SourceUnavailable(PollError):
    """Still failing after every retry."""


class MalformedPage(PollError):
    """A 2xx answer that is not the page the contract describes."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


_RETRYABLE = (_Transient, aiohttp.ClientError, TimeoutError)


class PollSettings(BaseSettings):
    """The source's credentials, from the environment or .env (never a CLI argument)."""

    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_file=".env", extra="ignore")

    poll_token: SecretStr = SecretStr("")
    poll_token_header: str = ""  # e.g. X-API-Key; empty: Authorization: Bearer


@dataclass(frozen=True)
class PollSource:
    url: str  # base URL + path of the change list
    name: str = "poll"  # the cursor's key and the events' `source`
    since_param: str = "since"
    limit_param: str = "limit"
    page_size: int = 500
    token: str | None = None
    token_header: str | None = None  # None: `Authorization: Bearer <token>`
    timeout_s: float = 60.0

    def headers(self) -> dict[str, str]:
        if not self.token:
            return {}
        if self.token_header:
            return {self.token_header: self.token}
        return {"Authorization": f"Bearer {self.token}"}

    def params(self, cursor: str | None) -> dict[str, str]:
        params = {self.limit_param: str(self.page_size)}
        if cursor is not None:
            params[self.since_param] = cursor
        return params


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5  # seconds before the first retry, plus up to as much jitter
    maximum: float = 60.0
    attempts: int = 8  # tries per page, the first included


@dataclass(frozen=True)
class RetryNotice:
    attempt: int  # the attempt that failed, 1-based
    delay: float  # seconds until the next one
    reason: str


@dataclass(frozen=True)
class PageReport:
    number: int  # 1-based within one drain
    since: str | None
    next_cursor: str | None
    records: int
    events: int
    rejected: int


class Page(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[Any]
    next_cursor: StrictStr | None = None
    has_more: StrictBool = False


def parse_page(body: bytes, since: str | None) -> Page:
    """The page in `body`, or MalformedPage naming what is wrong."""
    try:
        page = Page.model_validate_json(body)
    except ValidationError as exc:
        parts = [
            ": ".join([*(str(p) for p in e["loc"][:1]), e["msg"]])
            for e in exc.errors(include_url=False)
        ]
        raise MalformedPage(f"malformed page: {'; '.join(parts)}") from None
    if page.has_more and page.next_cursor in (None, since):
        raise MalformedPage("malformed page: has_more is true but next_cursor does not move")
    return page


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is not honoured: None)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_RETRY_AFTER)


async def _get(session: aiohttp.ClientSession, source: PollSource, since: str | None) -> bytes:
    async with session.get(source.url, params=source.params(since)) as response:
        body = await response.read()
        status = response.status
    if status == 429 or status >= 500:
        wait = retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
        raise _Transient(f"HTTP {status}", wait)
    if not 200 <= status < 300:
        # the body is named, not shown: an error page may echo a record back
        raise SourceRefused(f"HTTP {status} {response.reason} from {source.url}: {described(body)}")
    return body


def _wait(backoff: Backoff) -> Callable[[RetryCallState], float]:
    # initial, 2×, 4×... up to maximum, plus up to `initial` of jitter
    exponential = wait_exponential(multiplier=backoff.initial, max=backoff.maximum) + wait_random(
        0, backoff.initial
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        return exponential(state)

    return wait


def _reason(error: BaseException | None) -> str:
    return str(error) or type(error).__name__


async def fetch_page(
    session: aiohttp.ClientSession,
    source: PollSource,
    since: str | None,
    backoff: Backoff,
    on_retry: Callable[[RetryNotice], None],
) -> bytes:
    def notify(state: RetryCallState) -> None:
        delay = state.next_action.sleep if state.next_action else 0.0
        error = state.outcome.exception() if state.outcome else None
        on_retry(RetryNotice(state.attempt_number, delay, _reason(error)))

    retrying = AsyncRetrying(
        stop=stop_after_attempt(backoff.attempts),
        wait=_wait(backoff),
        retry=retry_if_exception_type(_RETRYABLE),
        before_sleep=notify,
        reraise=True,
    )
    try:
        return await retrying(_get, session, source, since)
    except _RETRYABLE as exc:
        raise SourceUnavailable(
            f"{source.url}: {_reason(exc)} after {backoff.attempts} attempts"
        ) from exc


def _now() -> datetime:
    return datetime.now(LOCAL_TZ)


class Poller:
    def __init__(
        self,
        source: PollSource,
        publisher: RecordPublisher,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = _now,
        on_page: Callable[[PageReport], None] = lambda report: None,
        on_retry: Callable[[RetryNotice], None] = lambda notice: None,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.on_page = on_page
        self.on_retry = on_retry

    async def run(
        self,
        *,
        interval: float,
        once: bool = False,
        on_error: Callable[[PollError], None] = lambda error: None,
    ) -> None:
        """Drain, wait `interval`, drain again...; `once`: one drain, errors raised."""
        timeout = aiohttp.ClientTimeout(total=self.source.timeout_s)
        async with aiohttp.ClientSession(headers=self.source.headers(), timeout=timeout) as session:
            while True:
                try:
                    await self.drain(session)
                except (SourceUnavailable, MalformedPage) as error:
                    if once:
                        raise
                    on_error(error)
                if once:
                    return
                await asyncio.sleep(interval)

    async def drain(self, session: aiohttp.ClientSession) -> int:
        """Pages until the source has no more; returns how many were confirmed."""
        number = 0
        more = True
        while more:
            number += 1
            more = await self.page(session, number)
        return number

    async def page(self, session: aiohttp.ClientSession, number: int) -> bool:
        """One page fetched, published and confirmed with its cursor; True if more follow."""
        store = self.publisher.store
        since = store.get_cursor(self.source.name)
        body = await fetch_page(session, self.source, since, self.backoff, self.on_retry)
        seen_at = self.clock()
        where = f"{self.source.name}:since={since or ''}"
        try:
            page = parse_page(body, since)
        except MalformedPage as error:
            self.publisher.dead_letter(where, body, str(error), seen_at)
            self.publisher.confirm()
            raise
        try:
            submitted = self.publisher.submit(where, page.items, seen_at)
            if page.next_cursor is not None:
                store.put_cursor(self.source.name, page.next_cursor)
        except BaseException:
            self.publisher.rollback()
            raise
        self.publisher.confirm()
        rejected = len(submitted.rejected)
        cursor = since if page.next_cursor is None else page.next_cursor
        self.on_page(
            PageReport(number, since, cursor, submitted.records, submitted.events, rejected)
        )
        return page.has_more
