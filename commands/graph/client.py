"""The Graph client every handler uses: tokens, pacing, retries, paging and errors in one place.

Handlers pass paths relative to ``{server_url}/{api_version}/`` with path segments they have
validated (a GUID, a fixed name); the client still refuses any path that could climb out of its
place (``..``, ``%2e``, ``//``, ``?``, ``#``, ``\\``). Query parameters go in ``params`` and are
percent-encoded here (spaces as ``%20``, never ``+``), never concatenated by callers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from commands.graph import COMMAND_TIMEOUT
from commands.graph.auth import TokenInfo, TokenProvider, token_info
from commands.graph.errors import error_from_response, unexpected_response
from commands.graph.logs import LogRedaction, logger
from commands.graph.pacing import Pacer, workload
from commands.graph.paging import PageIterator, check_next_link
from commands.graph.retry import (
    SHARED_SLOTS,
    Backoff,
    RequestKind,
    RetryPolicy,
    parse_retry_after,
    retries_failure,
    retries_status,
)
from commands.graph.settings import GraphSettings
from commands.graph.transport import (
    BodyTooLarge,
    DeadlineExceeded,
    Transport,
    describe_failure,
    request_id,
    request_sent,
)
from executor.errors import ConfigurationError, InvalidInput, RetriableError
from executor.jsonfast import loads
from executor.redaction import Redactor

_FORBIDDEN_IN_PATH = ("..", "//", "?", "#", "\\")
_FORBIDDEN_ENCODED = ("%2e", "%2f", "%5c")
_QUERY_SAFE = "$'(),:/@"
REFRESH_PAUSE = (60.0, 900.0)
"""After a fresh token was rejected too (401 twice in a row), 401s are not answered with a new
token for this long (doubling from the first value to the second), then tried again: a consent
granted or a clock fixed later is picked up without a restart."""
MIN_SECONDS_TO_SEND = 1.0
"""A request is not started with less than this left of Command Timeout Seconds."""
PREFER = "include-unknown-enum-members"
"""Enum members added after ``unknownFutureValue`` (riskDetail adminConfirmedAccountSafe,
microsoftRevokedSessions, ...) are real values to a SOC; without this header Graph sends
``unknownFutureValue`` in their place and refuses them in ``$filter``."""


class GraphClient:
    """HTTP to Microsoft Graph for one connection. Not thread-safe; close it when done."""

    def __init__(self, settings: GraphSettings, *, redactor: Redactor,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 retry: RetryPolicy | None = None, pace: bool | Pacer = True,
                 rng: random.Random | None = None,
                 command_timeout: float | None = None) -> None:
        """``command_timeout``: seconds from now after which no request is sent, no retry
        waited for and a request in flight is cut (one command run's total; None: none)."""
        self.settings = settings
        self.redactor = redactor
        for secret in settings.secrets():
            redactor.add(secret)
        self._log_redaction = LogRedaction(redactor)
        self.sleep = sleep
        self.monotonic = monotonic
        self.retry = retry or RetryPolicy()
        if isinstance(pace, Pacer):
            self.pacer: Pacer | None = pace
        else:
            self.pacer = Pacer(sleep=self._pace, monotonic=monotonic) if pace else None
        self._rng = rng or random.Random()
        self.command_timeout = command_timeout
        self._sending = ("GET", "")
        """The request being sent (what a pacing wait that would pass the total names)."""
        self._command_ends = None if command_timeout is None else monotonic() + command_timeout
        self.transport = Transport(settings, redactor)
        self.auth = TokenProvider(settings, self.transport, redactor, self._log_redaction,
                                  monotonic)
        self._no_refresh_until = float("-inf")
        self._refresh_pause = REFRESH_PAUSE[0]
        self.server_date: datetime | None = None
        """The ``Date`` of the last answer (Graph's or the token endpoint's), parsed, aware."""
        self.server_date_at: float | None = None
        """``monotonic()`` when that answer arrived: the server's time now is
        ``server_date + (monotonic() - server_date_at)``."""
        self._dated: requests.Response | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def url(self, path: str) -> str:
        """The absolute URL of a path relative to ``{server_url}/{api_version}/``."""
        if not isinstance(path, str):
            raise InvalidInput("Request path", "must be a string")
        relative = path[1:] if path.startswith("/") else path
        lowered = relative.lower()
        if (not relative or any(bad in relative for bad in _FORBIDDEN_IN_PATH)
                or any(bad in lowered for bad in _FORBIDDEN_ENCODED)
                or any(ch.isspace() or ord(ch) < 32 for ch in relative)):
            raise InvalidInput("Request path", f"'{relative}' is not a safe Graph path")
        return f"{self.base_url}/{relative}"

    def token_info(self) -> TokenInfo:
        """Acquire a token (or reuse the cached one) and say what it grants."""
        token = self.auth.token()
        self._note_date(self.auth.http.last_response)
        return token_info(token)

    def get(self, path: str, params: Mapping[str, Any] | None = None,
            permissions: Sequence[str] = ()) -> dict[str, Any]:
        return self._get_json(self.url(path), params, permissions)

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None,
                   permissions: Sequence[str] = (), max_items: int | None = None, *,
                   objects_only: bool = True, unique_key: str | None = None) -> PageIterator:
        """Every page of a collection, following ``@odata.nextLink`` (see :class:`PageIterator`;
        ``objects_only=False`` hands items that are not objects to the caller; ``unique_key``
        drops the repeats offset paging makes)."""
        return PageIterator(lambda url, query: self._get_json(url, query, permissions),
                            self.url(path), params, base_url=self.settings.server_url,
                            max_items=max_items, objects_only=objects_only,
                            unique_key=unique_key)

    def iter_link(self, link: str, permissions: Sequence[str] = (),
                  max_items: int | None = None, *, unique_key: str | None = None
                  ) -> PageIterator:
        """Continue a collection from a previous ``@odata.nextLink``: followed only on this
        connection's Graph host (the same check as every nextLink)."""
        url = check_next_link(link, self.settings.server_url, set())
        return PageIterator(lambda url, query: self._get_json(url, query, permissions),
                            url, None, base_url=self.settings.server_url,
                            max_items=max_items, unique_key=unique_key)

    def post_action(self, path: str, body: Any, permissions: Sequence[str] = ()) -> int:
        """POST an action; the HTTP status (204 for the risky-user actions)."""
        url = self.url(path)
        response = self._send("POST", url, None, body, permissions,
                              RequestKind.of("POST", path))
        response.close()
        return response.status_code

    def close(self) -> None:
        self.transport.close()
        self._log_redaction.remove()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the request loop -------------------------------------------------------------------

    def _get_json(self, url: str, params: Mapping[str, Any] | None,
                  permissions: Sequence[str]) -> dict[str, Any]:
        return self._send("GET", url, params, None, permissions, RequestKind.READ).json_body

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, body: Any,
              permissions: Sequence[str], kind: RequestKind) -> _Answer:
        query = urlencode(params, quote_via=quote, safe=_QUERY_SAFE) if params else None
        backoff = Backoff(self.retry, self._rng)
        workload_name = _workload_of(url, self.settings.api_version)
        refreshed = False
        self._sending = (method, url)
        while True:
            self._left(method, url)
            if self.pacer is not None:
                self.pacer.wait(self.settings.tenant, workload_name, self.settings.client_id)
            headers = {"Authorization": f"Bearer {self.auth.token()}",
                       "Accept": "application/json", "Prefer": PREFER}
            left = self._left(method, url)
            if left is not None and left < MIN_SECONDS_TO_SEND:
                # A request sure to be cut by the total would only leave an action's outcome
                # unknown: end here, before sending it.
                raise self._out_of_time(method, url, f"only {left:.3g} s were left to send it")
            try:
                response = self.transport.request(method, url, headers=headers, params=query,
                                                  json=body, within=left)
                self._note_date(response)
            except requests.exceptions.SSLError as exc:
                raise ConfigurationError(None, "Cannot reach Microsoft Graph: "
                                         + describe_failure(exc)) from None
            except BodyTooLarge as exc:
                raise unexpected_response(None, str(exc)) from None
            except requests.RequestException as exc:
                if (left is not None and left < self.settings.timeout_seconds
                        and isinstance(exc, DeadlineExceeded)):
                    raise self._cut_by_total(method, url, kind) from None
                self._wait_after_failure(method, url, kind, backoff, exc)
                continue
            status = response.status_code
            if self.pacer is not None:
                self.pacer.answered()
            if 200 <= status < 300:
                if status == 200 and refreshed:
                    self._refresh_pause = REFRESH_PAUSE[0]
                return _Answer(response, kind is RequestKind.READ)
            if status == 401 and not refreshed and self.monotonic() >= self._no_refresh_until:
                logger.info("Graph rejected the access token (401, request-id %s); fetching a "
                            "new one and retrying once", request_id(response))
                self.auth.invalidate()
                refreshed = True
                continue
            if status == 401 and refreshed:
                # A fresh token did not help either: do not fetch one on every 401 from now,
                # but try again after a pause (doubling while it keeps failing).
                self._no_refresh_until = self.monotonic() + self._refresh_pause
                logger.warning("Graph rejected a fresh access token too; next renewal on a 401 "
                               "in %.0f s", self._refresh_pause)
                self._refresh_pause = min(REFRESH_PAUSE[1], self._refresh_pause * 2)
            if not retries_status(kind, status):
                raise error_from_response(response, redactor=self.redactor,
                                          permissions=permissions)
            self._wait_after_status(method, url, response, backoff, workload_name)

    def _left(self, method: str, url: str) -> float | None:
        """Seconds left of the command's total (None: no limit); past it, the command ends."""
        if self._command_ends is None:
            return None
        left = self._command_ends - self.monotonic()
        if left <= 0:
            raise self._out_of_time(method, url)
        return left

    def _pace(self, seconds: float) -> None:
        """The pacer's sleep (before a request to a rate-limited workload), within the total."""
        self._wait(seconds, *self._sending, why="its pacing wait")

    def _wait(self, seconds: float, method: str, url: str, why: str = "a retry") -> None:
        """Sleep before a retry, unless the command's total would pass first."""
        left = self._left(method, url)
        if left is not None and seconds >= left:
            raise self._out_of_time(method, url, f"{why} of {seconds:.3g} s would pass it")
        self.sleep(seconds)

    def _out_of_time(self, method: str, url: str, why: str = "") -> RetriableError:
        detail = f"; {why}" if why else ""
        return RetriableError(None, f"The command ran out of time: Command Timeout Seconds "
                              f"({self.command_timeout:g} s) passed before {method} "
                              f"{_short(url)} could complete{detail}", code=COMMAND_TIMEOUT)

    def _cut_by_total(self, method: str, url: str, kind: RequestKind) -> RetriableError:
        """The error for a request the command's total cut in flight: a read simply ran out
        of time; an action may or may not have been applied."""
        if kind is RequestKind.READ:
            return self._out_of_time(method, url, "it was cut in flight")
        return RetriableError(None, f"The outcome of {method} {_short(url)} is unknown: Command "
                              f"Timeout Seconds ({self.command_timeout:g} s) passed while it was "
                              "in flight; it may or may not have been applied, so it was not "
                              "repeated", code="outcomeUnknown")

    def _note_date(self, response: requests.Response | None) -> None:
        """Keep the ``Date`` header of an answer not seen before (see :attr:`server_date`)."""
        if response is None or response is self._dated:
            return
        self._dated = response
        headers = getattr(response, "headers", None)
        moment = _http_date(headers.get("Date") if headers is not None else None)
        if moment is not None:
            self.server_date, self.server_date_at = moment, self.monotonic()

    def _wait_after_status(self, method: str, url: str, response: requests.Response,
                           backoff: Backoff, workload_name: str) -> None:
        header = response.headers.get("Retry-After")
        retry_after = parse_retry_after(header, server_date=response.headers.get("Date"))
        slot = SHARED_SLOTS.get(workload_name) if response.status_code == 429 else None
        wait = backoff.next_wait(retry_after, slot)
        rid = request_id(response)
        if wait is None and backoff.shared_throttled:
            raise RetriableError(429, tenant_throttled(workload_name, slot or 1.0,
                                                       _note(backoff.given_up_because, rid)),
                                 request_id=rid, code="tenantThrottled")
        if wait is None:
            raise error_from_response(response, redactor=self.redactor, cls=RetriableError,
                                      note=_note(backoff.given_up_because, rid))
        how = ("Retry-After " + str(header) if retry_after is not None
               else "next slot of the tenant's shared limit" if slot else "backoff")
        cause = "throttled" if response.status_code == 429 else "service error"
        logger.warning("%s %s answered %s, %s (request-id %s); waiting %.3fs (%s) before "
                       "attempt %d of %d", method, _short(url), response.status_code, cause,
                       rid, wait, how, backoff.failures + 1, self.retry.max_attempts)
        self._wait(wait, method, url)

    def _wait_after_failure(self, method: str, url: str, kind: RequestKind, backoff: Backoff,
                            exc: requests.RequestException) -> None:
        what = describe_failure(exc)
        if not retries_failure(kind, exc):
            if request_sent(exc):
                raise RetriableError(None, f"The outcome of {method} {_short(url)} is unknown: "
                                     f"{what}; it may or may not have been applied, so it was "
                                     "not repeated", code="outcomeUnknown") from None
            raise RetriableError(None, f"Cannot reach Microsoft Graph: {what}") from None
        wait = backoff.next_wait(None)
        if wait is None:
            raise RetriableError(None, f"Cannot reach Microsoft Graph: {what} "
                                 f"({backoff.given_up_because})") from None
        logger.warning("%s %s failed: %s; waiting %.3fs before attempt %d of %d", method,
                       _short(url), what, wait, backoff.failures + 1, self.retry.max_attempts)
        self._wait(wait, method, url)


class _Answer:
    """A response, with its JSON body parsed for reads (a body that is not a JSON object is an
    unexpected response: reported, not retried)."""

    __slots__ = ("json_body", "response")

    def __init__(self, response: requests.Response, parse: bool) -> None:
        self.response = response
        self.json_body: dict[str, Any] = {}
        if parse and 200 <= response.status_code < 300:
            rid = request_id(response)
            try:
                body = loads(response.content) if response.content else {}
            except RecursionError:
                raise unexpected_response(response.status_code, "the JSON body is nested too "
                                          "deeply", request_id=rid) from None
            except ValueError:
                raise unexpected_response(response.status_code, "the body is not JSON",
                                          request_id=rid) from None
            if not isinstance(body, dict):
                raise unexpected_response(response.status_code, "the body is a JSON "
                                          f"{_json_type(body)}, not an object",
                                          request_id=rid)
            self.json_body = body

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def close(self) -> None:
        self.response.close()


def _json_type(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _http_date(header: str | None) -> datetime | None:
    if not header:
        return None
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _workload_of(url: str, api_version: str) -> str:
    """The Graph workload of an absolute URL (``auditLogs`` for ``.../v1.0/auditLogs/signIns``)."""
    segments = urlsplit(url).path.lstrip("/").split("/")
    if len(segments) > 1 and segments[0] in (api_version, "v1.0", "beta"):
        return workload(segments[1])
    return workload(segments[0]) if segments else ""


def _short(url: str) -> str:
    """A URL without its query, for log lines and messages."""
    return url.split("?", 1)[0]


def tenant_throttled(workload_name: str, slot: float, note: str) -> str:
    return (f"Microsoft Graph is throttling this tenant's {workload_name} requests: its limit of "
            f"one request per {slot:g} s is shared by every app on the tenant and other apps are "
            f"using it ({note}). Try again later, or lower the other apps' {workload_name} "
            "load.")


def _note(reason: str, rid: str | None) -> str:
    return f"{reason}; request-id {rid}" if rid else reason

