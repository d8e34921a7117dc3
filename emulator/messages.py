"""The request and response values passed between the HTTP layer and the handlers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

# Raw UTF-8 as Graph sends it; no circularity check (records are trees), which is faster.
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


@dataclass
class Request:
    method: str
    path: str  # percent-decoded path, without the query
    raw_path: str  # as sent (path only)
    query: str  # raw query string as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    now: int = 0
    request_id: str = ""
    client_request_id: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def params(self) -> list[tuple[str, str]]:
        """Query parameters in order, decoded as ASP.NET does (`+` is a space)."""
        out = []
        for part in self.query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            out.append((unquote_plus(key), unquote_plus(value)))
        return out

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    stream: Iterable[bytes] | None = None
    drop: bool = False
    trickle: tuple[str, float] | None = None
    """("headers" or "body", seconds between bytes): that part is sent one byte at a time."""

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None,
             content_type: str = "application/json; charset=utf-8") -> Response:
        body = ENCODER.encode(payload).encode()
        return cls(status, {"Content-Type": content_type, **(headers or {})}, body)
