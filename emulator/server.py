"""HTTPS on loopback: ThreadingHTTPServer with TLS done per connection in the worker thread,
HTTP/1.1 keep-alive, chunked streaming, and connection drops on demand."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from emulator.messages import Request, Response

Handler = Callable[[Request], Response]
MAX_BODY = 64 * 1024 * 1024


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (the request log is the record)."""

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            try:
                size = int(length) if length else 0
            except ValueError:
                size = -1
            if size < 0 or size > MAX_BODY:
                self.send_error(400, "Bad Content-Length")
                return
            body = self.rfile.read(size) if size else b""
        raw_path, _, query = self.path.partition("?")
        request = Request(
            method=self.command,
            path=unquote(raw_path),
            raw_path=raw_path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = self.server.app(request)
        except Exception:  # a bug must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            response = Response.json(500, {"error": {
                "code": "InternalServerError", "message": "The emulator failed on this request.",
                "innerError": {}}})
        if response.drop:
            self._drop()
            return
        self._write(response)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = self.rfile.readline(65537)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def _write(self, response: Response) -> None:
        if response.trickle is not None:
            self._write_trickled(response, *response.trickle)
            return
        # send_response_only: the Date header comes from the emulator clock, not the host's.
        self.log_request(response.status)
        self.send_response_only(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None and self.command != "HEAD":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in response.stream:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        body = response.body or b""
        if response.status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _write_trickled(self, response: Response, part: str, interval: float) -> None:
        """The trickle fault: the head or the body sent one byte every ``interval`` seconds."""
        self.log_request(response.status)
        body = (b"".join(response.stream) if response.stream is not None
                else response.body or b"")
        phrase = self.responses.get(response.status, ("",))[0]
        lines = [f"HTTP/1.1 {response.status} {phrase}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        slow, rest = (head, body) if part == "headers" else (body, b"")
        try:
            if part == "body":
                self.wfile.write(head)
            for index in range(len(slow)):
                self.wfile.write(slow[index:index + 1])
                self.wfile.flush()
                time.sleep(interval)  # the hostile server's pace (real socket time)
            self.wfile.write(rest)
        except OSError:  # the client gave up (as it should): nothing left to answer
            self.close_connection = True

    def _drop(self) -> None:
        """Close the connection without answering (a reset, as a flaky network would)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, app: Handler,
                 ipv6: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.app = app
        self._context = context
        self._open: set[ssl.SSLSocket] = set()
        self._open_lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()
        self._stopping = threading.Event()
        super().__init__(address, _RequestHandler)

    def serve(self) -> None:
        """Accept until `stop`: a self-pipe wakes the loop at once, so stopping never waits
        out a poll interval (socketserver's serve_forever/shutdown would)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _events in selector.select():
                    if key.fileobj is self and not self._stopping.is_set():
                        self._handle_request_noblock()  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Wake and end `serve`, close open connections and the listening socket."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    def server_close(self) -> None:
        super().server_close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Do the TLS handshake here, in the connection's own thread, not in accept()."""
        request.settimeout(30)
        try:
            tls = self._context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._open_lock:
            self._open.add(tls)
        try:
            _RequestHandler(tls, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            pass
        finally:
            with self._open_lock:
                self._open.discard(tls)
            with contextlib.suppress(OSError):
                tls.close()

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
