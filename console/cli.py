"""``connector.py console``: serve the web console on 127.0.0.1 and print its URL first."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"connector.py console: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="connector.py console",
                     description="Serve the web console (Test Command window, field-mapping "
                                 "playground, job dashboard) on 127.0.0.1.")
    parser.add_argument("--connection", action="append", default=[], metavar="FILE",
                        help="a YAML connection file (repeatable); its file name is its label")
    parser.add_argument("--emulator", action="store_true",
                        help="also start the embedded emulator tenant and offer it")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--state", metavar="FILE", help="a fetch job's state file to show")
    return parser


def main(argv: Sequence[str], load_connector: Callable[[], Any],
         start_emulator: Callable[[], contextlib.AbstractContextManager[dict[str, Any]]]
         ) -> int:
    args = build_parser().parse_args(list(argv))
    if not 0 <= args.port <= 65535:
        sys.stderr.write("connector.py console: --port must be between 0 and 65535\n")
        return EXIT_USAGE
    from console.app import ConsoleConfig
    from console.connections import Connections
    from console.server import bind, console_url, serve
    from executor.connection import read_connection_file
    from executor.errors import IntegrationError

    connector = load_connector()
    connections = Connections(connector.plugin.manifest)
    try:
        for name in args.connection:
            connections.add(Path(name).stem, read_connection_file(Path(name)))
    except IntegrationError as exc:
        sys.stderr.write(f"connector.py console: {exc.message}\n")
        return EXIT_USAGE
    try:
        sock = bind(args.port)
    except OSError as exc:
        sys.stderr.write(f"connector.py console: cannot listen on 127.0.0.1:{args.port}: "
                         f"{exc.strerror}\n")
        return EXIT_USAGE
    state = Path(args.state) if args.state else None
    config = ConsoleConfig(connector, connections, state_path=state,
                           port=sock.getsockname()[1])
    with contextlib.ExitStack() as stack:
        if args.emulator:
            connections.add("emulator", stack.enter_context(start_emulator()))
        sys.stdout.write(console_url(config) + "\n")
        sys.stdout.flush()
        sys.stderr.write("Open the URL above in a browser on this machine; Ctrl-C stops.\n")
        with contextlib.suppress(KeyboardInterrupt):
            serve(config, sock)
    return 0
