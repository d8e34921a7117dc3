"""Safe by construction: loopback hosts only, an access token on every request (a cookie after
the first visit), a CSRF token on every POST, and strict security headers on every response."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "console_token"
CSRF_HEADER = "x-csrf-token"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class AccessKeys:
    """The access token the URL carries and the CSRF token derived from it."""

    token: str

    @classmethod
    def generate(cls) -> AccessKeys:
        return cls(secrets.token_urlsafe(32))

    @property
    def csrf(self) -> str:
        return hmac.new(self.token.encode(), b"console csrf", hashlib.sha256).hexdigest()

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookie(headers: dict[str, str]) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


class ConsoleGuard:
    """ASGI middleware in front of the whole console."""

    def __init__(self, app: ASGIApp, keys: AccessKeys, port: int | None = None) -> None:
        self.app = app
        self.keys = keys
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not self._host_ok(headers.get("host", "")):
            await _plain(send, 403, "Forbidden: the console answers on 127.0.0.1 only.")
            return
        client = scope.get("client")
        if client and client[0] not in ("127.0.0.1", "::1"):
            await _plain(send, 403, "Forbidden: loopback clients only.")
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query:
            if not self.keys.token_ok(query["token"]) or scope["method"] != "GET":
                await _plain(send, 403, "Forbidden: wrong access token.")
                return
            await self._enter(scope, query, send)
            return
        cookie = _cookie(headers)
        if cookie is None:
            await _plain(send, 401, "Unauthorized: open the URL with the token that "
                                    "`connector.py console` printed.")
            return
        if not self.keys.token_ok(cookie):
            await _plain(send, 403, "Forbidden: wrong access token.")
            return
        if scope["method"] not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if origin is not None and not self._origin_ok(origin):
                await _plain(send, 403, "Forbidden: cross-origin request.")
                return
            if not self.keys.csrf_ok(headers.get(CSRF_HEADER)):
                await _plain(send, 403, "Forbidden: missing or wrong CSRF token.")
                return
        await self.app(scope, receive, _with_headers(send))

    def _host_ok(self, host: str) -> bool:
        name, _, port = host.rpartition(":")
        if not name:
            name, port = host, ""
        if name not in LOOPBACK_NAMES:
            return False
        return self.port is None or port == str(self.port)

    def _origin_ok(self, origin: str) -> bool:
        return any(origin == f"http://{name}:{self.port}" for name in LOOPBACK_NAMES) \
            if self.port is not None else origin.startswith(("http://127.0.0.1:",
                                                             "http://localhost:"))

    async def _enter(self, scope: Scope, query: dict[str, str], send: Send) -> None:
        """First visit: the token becomes an HttpOnly, SameSite=Strict cookie, and the browser
        is sent to the same page without the token in its address."""
        rest = urlencode({k: v for k, v in query.items() if k != "token"})
        location = scope.get("path", "/") + (f"?{rest}" if rest else "")
        cookie = f"{COOKIE}={self.keys.token}; HttpOnly; SameSite=Strict; Path=/"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode()),
                                (b"set-cookie", cookie.encode()),
                                (b"content-length", b"0"), *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": b""})


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    headers: list[Any] = [(b"content-type", b"text/plain; charset=utf-8"),
                          (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
