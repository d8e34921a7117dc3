"""A hostile Graph over real HTTPS on 127.0.0.1, for what the emulator will not do on purpose:
bodies dripped one byte at a time, 100 MB pages, invalid JSON on a 200, 401 on every token.

The token endpoint (and MSAL's OpenID discovery) answers like Entra's; every other path is
answered by a test-supplied function. The CA is the emulator's test helper (tests only).
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "66666666-7777-8888-9999-000000000000"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"value": []}'
    headers: dict[str, str] = field(default_factory=dict)
    drip_seconds: float = 0.0
    """Send the body one byte at a time, this long apart."""
    chunks: Iterator[bytes] | None = None
    """Send these chunks (chunked encoding) instead of ``body``."""


Route = Callable[[str, dict[str, str]], Reply]


def fake_token(roles: list[str], lifetime: int = 3600) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"roles": roles, "tid": TENANT, "appid": CLIENT_ID,
              "exp": int(time.time()) + lifetime}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


class HostileGraph:
    """``with HostileGraph(route) as graph: graph.connection()``."""

    def __init__(self, route: Route, roles: list[str] | None = None) -> None:
        self.route = route
        self.roles = roles or ["IdentityRiskyUser.ReadWrite.All", "IdentityRiskEvent.Read.All",
                               "AuditLog.Read.All"]
        self.token_requests = 0
        self.graph_requests: list[str] = []
        self.received: list[bytes] = []
        """Every request line, header block and body as sent (to look for leaks)."""
        self._dir = tempfile.TemporaryDirectory()

    def __enter__(self) -> HostileGraph:
        from emulator.tls import TestAuthority

        authority = TestAuthority(Path(self._dir.name), "127.0.0.1")
        self.ca_bundle = str(authority.ca_path)
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                graph.received.append(self.requestline.encode() + str(self.headers).encode())
                self._answer()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                graph.received.append(self.requestline.encode() + str(self.headers).encode()
                                      + self.rfile.read(length))
                self._answer()

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
                try:
                    reply = graph._reply(parts.path, query)
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    self.close_connection = True

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is not None:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for chunk in reply.chunks:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip_seconds:
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.drip_seconds)  # the hostile server's pace, not a test
                else:
                    self.wfile.write(reply.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = authority.server_context()
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base_url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._dir.cleanup()

    def _reply(self, path: str, query: dict[str, str]) -> Reply:
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            base = f"{self.base_url}/{TENANT}"
            return Reply(body=json.dumps({
                "token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"}).encode())
        if path.endswith("/oauth2/v2.0/token"):
            self.token_requests += 1
            return Reply(body=json.dumps({"token_type": "Bearer", "expires_in": 3600,
                                          "access_token": fake_token(self.roles)}).encode())
        self.graph_requests.append(path)
        return self.route(path, query)

    def connection(self, **overrides: Any) -> dict[str, Any]:
        return {"server_url": self.base_url,
                "auth_url": f"{self.base_url}/{TENANT}/oauth2/v2.0/token",
                "client_id": CLIENT_ID, "client_secret": "hostile-test-secret-value",
                "ca_bundle": self.ca_bundle, **overrides}
