"""Serving the console with uvicorn on a loopback socket, in the foreground or a thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn

from console.app import ConsoleConfig, build_app

HOST = "127.0.0.1"


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (loopback only, whatever the caller asks for)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def console_url(config: ConsoleConfig) -> str:
    return f"http://{HOST}:{config.port}/?token={config.keys.token}"


def make_server(config: ConsoleConfig) -> uvicorn.Server:
    settings = uvicorn.Config(build_app(config), log_level="warning", access_log=False,
                              lifespan="off", server_header=False, date_header=False)
    return uvicorn.Server(settings)


def serve(config: ConsoleConfig, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C)."""
    make_server(config).run(sockets=[sock])


@contextlib.contextmanager
def running(config: ConsoleConfig, port: int = 0) -> Iterator[str]:
    """The console served from a thread for the length of the block; yields its URL."""
    sock = bind(port)
    config.port = sock.getsockname()[1]
    server = make_server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                              name="console", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.01)
    try:
        yield console_url(config)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
