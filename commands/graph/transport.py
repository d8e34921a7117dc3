"""One HTTP session for Graph and the token endpoint, configured only by the connection.

``trust_env`` is off: requests would otherwise let ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
replace the connection's CA bundle and pick proxies from ``HTTPS_PROXY``; here the CA bundle,
the proxy and TLS verification come from the connection alone, for Graph and token requests
alike (MSAL is handed this session through :class:`MsalHttpClient`).

Every request is bounded: ``timeout_seconds`` is the total for one exchange (connect, headers and
the whole body), not a per-read timeout a server can reset by sending one byte at a time (a
watchdog cuts the connection at the deadline, see :mod:`commands.graph.watchdog`), and a
body larger than :data:`MAX_BODY_BYTES` is refused while it is read, never buffered whole. Warnings
raised while sending (urllib3's ``InsecureRequestWarning`` with Verify TLS off) go to the logger,
never to stderr: the Python API promises not to print.

Every request carries a fresh ``client-request-id``; one DEBUG line per request names the method,
the redacted URL, the status, Graph's ``request-id`` and the elapsed time. Headers and bodies are
never logged. Redirects are not followed, so an ``Authorization`` header cannot travel elsewhere.
"""

from __future__ import annotations

import contextlib
import time
import uuid
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from urllib3.exceptions import NewConnectionError

from commands.graph.logs import logger
from commands.graph.settings import GraphSettings, request_timeouts
from commands.graph.watchdog import DeadlineAdapter, exchange
from executor.redaction import Redactor

USER_AGENT = "entra-id-protection-integration/0.1"
MAX_BODY_BYTES = 64 << 20
"""The largest response body taken (a page of 1,000 sign-ins is a few megabytes)."""
_CHUNK = 1 << 20
"""Read a body a megabyte at a time: one call through urllib3 and http.client fills it from the
TLS socket, record after record, where reading whatever one record held (``read1``) took every
Python layer for each 16 KB: about 130 trips for a page of 1,000 sign-ins)."""


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The whole exchange took longer than the connection's Timeout Seconds."""


class BodyTooLarge(Exception):
    """The response body passed :data:`MAX_BODY_BYTES`; the connection was dropped."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response body is larger than {limit // (1 << 20)} MB")
        self.limit = limit


class Transport:
    def __init__(self, settings: GraphSettings, redactor: Redactor, *,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.settings = settings
        self.redactor = redactor
        self.max_body = max_body
        session = requests.Session()
        session.trust_env = False
        session.verify = settings.verify
        if settings.proxy_url:
            session.proxies = {"http": settings.proxy_url, "https": settings.proxy_url}
        session.headers["User-Agent"] = USER_AGENT
        for prefix in ("https://", "http://"):
            session.mount(prefix, DeadlineAdapter())
        self.session = session
        if not settings.verify_tls:
            logger.warning("TLS certificate verification is OFF for this connection (Verify "
                           "TLS = false): anyone on the network path can read the token")

    def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                params: Any = None, json: Any = None, data: Any = None,
                within: float | None = None) -> requests.Response:
        """Send one request; raises ``requests.RequestException`` on a transport failure.

        ``within`` shortens Timeout Seconds for this request (what is left of a command)."""
        sent_headers = dict(headers or {})
        client_request_id = str(uuid.uuid4())
        sent_headers["client-request-id"] = client_request_id
        started = time.perf_counter()
        timeout = self.settings.timeout_seconds
        if within is not None:
            timeout = max(0.001, min(timeout, within))
        deadline = time.monotonic() + timeout
        try:
            with exchange(timeout) as watched:
                try:
                    response = self._exchange(method, url, sent_headers, params, json, data,
                                              timeout, deadline)
                except requests.RequestException as exc:
                    if watched.expired and not isinstance(exc, DeadlineExceeded):
                        # the watchdog cut the connection: whatever broke, the deadline did it
                        raise DeadlineExceeded(f"no complete response within {timeout:g} s",
                                               request=exc.request) from None
                    raise
        except requests.RequestException as exc:
            logger.debug("%s %s failed after %.3fs: %s (client-request-id %s)", method,
                         self.redactor.text(url), time.perf_counter() - started,
                         describe_failure(exc), client_request_id)
            raise
        logger.debug("%s %s -> %s in %.3fs (request-id %s, client-request-id %s)", method,
                     self.redactor.text(response.url or url), response.status_code,
                     time.perf_counter() - started, request_id(response), client_request_id)
        return response

    def _exchange(self, method: str, url: str, headers: dict[str, str], params: Any,
                  json: Any, data: Any, timeout: float, deadline: float) -> requests.Response:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            response = self.session.request(
                method, url, headers=headers, params=params, json=json, data=data,
                timeout=request_timeouts(timeout), allow_redirects=False,
                stream=True)
            try:
                if response._content is False:  # not yet read (by a response hook)
                    response._content = self._read_body(response, deadline)
            except BaseException:
                response.close()  # the connection may hold the rest: never reuse it
                raise
            response.raw.release_conn()
        for warning in caught:
            logger.debug("%s: %s", warning.category.__name__, warning.message)
        return response

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """The whole body, decoded, within the deadline and the size cap."""
        raw = response.raw
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeadlineExceeded(
                        "no complete response within the deadline",
                        request=response.request, response=response)
                _limit_next_read(raw, remaining)
                chunk = raw.read(_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_body:
                    raise BodyTooLarge(self.max_body)
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise DeadlineExceeded(str(exc), request=response.request) from None
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc, request=response.request) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
            raise requests.exceptions.ChunkedEncodingError(exc, request=response.request
                                                           ) from None
        except OSError as exc:
            raise requests.ConnectionError(exc, request=response.request) from None
        return b"".join(chunks)

    def close(self) -> None:
        self.session.close()


def _limit_next_read(raw: Any, seconds: float) -> None:
    """Let the next socket read wait at most ``seconds`` (the rest of the deadline)."""
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(0.001, seconds))


class MsalHttpClient:
    """The ``http_client`` MSAL calls for discovery and tokens, on our session.

    MSAL does not say which HTTP status a failed token request had; this keeps the last one.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.last_response: requests.Response | None = None

    def post(self, url: str, params: Any = None, data: Any = None,
             headers: Mapping[str, str] | None = None, **_: Any) -> requests.Response:
        return self._record(self.transport.request("POST", url, params=params, data=data,
                                                        headers=headers))

    def get(self, url: str, params: Any = None, headers: Mapping[str, str] | None = None,
            **_: Any) -> requests.Response:
        return self._record(self.transport.request("GET", url, params=params,
                                                        headers=headers))

    def close(self) -> None:
        """The session belongs to the Graph client, which closes it."""

    @property
    def last_status(self) -> int | None:
        return self.last_response.status_code if self.last_response is not None else None

    def _record(self, response: requests.Response) -> requests.Response:
        self.last_response = response
        return response


def request_id(response: requests.Response) -> str | None:
    headers = response.headers
    return headers.get("request-id") or headers.get("x-ms-request-id")


def request_sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached the server before ``exc`` happened.

    False only where it provably did not: connect timeout, refused connection or unresolvable
    host, TLS handshake failure, proxy failure.
    """
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError
                  | requests.exceptions.ProxyError):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, NewConnectionError)
    return True


def describe_failure(exc: requests.RequestException) -> str:
    """A short, secret-free description of a transport failure."""
    host = _host(exc)
    where = f" ({host})" if host else ""
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return f"TLS certificate verification failed{where}: check CA Bundle"
        return f"TLS handshake failed{where}"
    if isinstance(exc, requests.exceptions.ProxyError):
        return f"cannot connect through the proxy{where}"
    if isinstance(exc, requests.ConnectTimeout):
        return f"connection timed out{where}"
    if isinstance(exc, DeadlineExceeded):
        return f"no complete response within the timeout{where}"
    if isinstance(exc, requests.ReadTimeout):
        return f"no response within the read timeout{where}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"connection dropped while reading the response{where}"
    if isinstance(exc, requests.ConnectionError):
        if not request_sent(exc):
            if host_unresolvable(exc):
                return f"host name cannot be resolved{where}"
            return f"connection refused{where}"
        return f"connection dropped before a response{where}"
    return f"request failed{where}: {type(exc).__name__}"


def host_unresolvable(exc: requests.RequestException) -> bool:
    """Whether the failure is a host name that DNS cannot resolve."""
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.Timeout):
        return False
    text = str(exc)
    return any(sign in text for sign in ("NameResolution", "Name or service not known",
                                         "nodename nor servname", "getaddrinfo failed",
                                         "No address associated with hostname"))


def _host(exc: requests.RequestException) -> str | None:
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return urlsplit(url).netloc if url else None
