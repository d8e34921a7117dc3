"""``connector.py job ...``: the scheduled fetch job's command line (SPEC §8).

    job run   --connection FILE [--connection FILE]... [--event-type TYPE]... --state PATH
              --sink PATH|- [--backfill-days N] [--mappings FILE]
    job start --every SECONDS (the same options) [--health-check-every SECONDS]
    job status --state PATH

``run`` prints a summary (JSON) on stdout, or on stderr when the sink is stdout; logs go to
stderr. Exit codes: 0 every source succeeded, 3 some failed, 1 all failed (or the job could not
go on), 2 usage (options, files, paths), 130 a second SIGINT/SIGTERM. A failure is one
``error:`` line on stderr, never a traceback.

The plugin (manifest, schemas, field mappings, connection rules) is the executor's
:class:`~executor.plugin.Plugin`; the job adds only its schedule, state and sink.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from commands.job_sources import EventTypes, GraphConnection, job_source
from executor.errors import IntegrationError, InvalidInput, UsageError
from executor.job.progress import Progress
from executor.job.runner import CycleReport, Job
from executor.job.schedule import run_forever, stop_on_signals
from executor.job.sink import FileSink, StreamSink
from executor.job.state import StateStore
from executor.redaction import Redactor
from executor.result import EXIT_FAILED, EXIT_INVALID_INPUT, EXIT_PARTIAL, EXIT_SUCCESSFUL

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("commands.job")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="connector.py job", description="the scheduled fetch job")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for name, text in (("run", "one fetch cycle for every source and connection"),
                       ("start", "a fetch cycle every --every seconds until SIGINT/SIGTERM")):
        sub = verbs.add_parser(name, help=text)
        sub.add_argument("--connection", action="append", required=True, metavar="FILE",
                         help="YAML connection parameters; repeat for several tenants")
        sub.add_argument("--event-type", action="append", metavar="TYPE",
                         help="signIn, riskDetection or riskUser (or the reference's names); "
                              "repeatable; default: all three")
        sub.add_argument("--state", required=True, metavar="PATH", help="SQLite state file")
        sub.add_argument("--sink", required=True, metavar="PATH|-",
                         help="NDJSON file to append events to, or - for stdout")
        sub.add_argument("--backfill-days", type=_seconds, default=1.0, metavar="N",
                         help="how far back the first run of a source reads (default 1)")
        sub.add_argument("--mappings", metavar="FILE", help="field-mapping overrides (YAML)")
        sub.add_argument("--overlap", action="append", default=[], metavar="TYPE=SECONDS",
                         help="re-read window for late records, per event type (defaults: "
                              "signIn 900, riskDetection 172800, riskUser 10800)")
        sub.add_argument("--lag", type=_seconds, metavar="SECONDS",
                         help="windows end this long before now (default 60)")
        sub.add_argument("--health-check-every", type=_seconds, default=300.0,
                         metavar="SECONDS", help="Test Connection at most this often "
                         "(default 300; 0: never)")
        sub.add_argument("--page-size", type=_positive, metavar="N",
                         help="records per request (default: each resource's maximum)")
        sub.add_argument("--no-pace", action="store_true",
                         help="do not pace requests under Graph's per-tenant limits")
        sub.add_argument("--retry-attempts", type=_positive, default=6, metavar="N",
                         help="attempts per request (default 6)")
        sub.add_argument("--retry-base-delay", type=_seconds, default=1.0, metavar="SECONDS",
                         help="first backoff step when Graph gives no Retry-After (default 1)")
        sub.add_argument("--retry-max-wait", type=_seconds, default=120.0, metavar="SECONDS",
                         help="all waits of one request together (default 120)")
        if name == "start":
            sub.add_argument("--every", type=_seconds, required=True, metavar="SECONDS",
                             help="seconds from the start of one cycle to the next")
    status = verbs.add_parser("status", help="per source and connection: cursor, last run, "
                              "events delivered, last error; health checks")
    status.add_argument("--state", required=True, metavar="PATH")
    return parser


def main(argv: Sequence[str]) -> int:
    redactor = Redactor()
    try:
        args = build_parser().parse_args(list(argv))
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INVALID_INPUT
    from executor.cli import configure_logging

    configure_logging(args.log_level, redactor)
    try:
        if args.verb == "status":
            return _status(args)
        return _run(args, redactor)
    except (UsageError, InvalidInput) as exc:
        return _fail(redactor, exc.message, EXIT_INVALID_INPUT)
    except IntegrationError as exc:
        return _fail(redactor, exc.message, EXIT_FAILED)
    except sqlite3.Error as exc:
        return _fail(redactor, f"job state: {exc}", EXIT_FAILED)
    except OSError as exc:
        return _fail(redactor, _os_error(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail(redactor, "interrupted", 130)
    except Exception as exc:  # the boundary: one line, never a traceback
        log.debug("unexpected error", exc_info=True)
        return _fail(redactor, f"internal error ({type(exc).__name__}): {exc}", EXIT_FAILED)


def _fail(redactor: Redactor, message: str, code: int) -> int:
    text = " ".join(redactor.text(message or "failed").split())
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()
    return code


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def load_plugin() -> Any:
    """The executor's plugin for this directory: manifest, schemas, connection rules and
    field mappings, as every command run uses them."""
    from commands import registry
    from executor.plugin import Plugin

    return Plugin(ROOT, registry)


def _open_state(path: str) -> StateStore:
    try:
        return StateStore(path)
    except (OSError, sqlite3.Error) as exc:
        detail = _os_error(exc) if isinstance(exc, OSError) else str(exc)
        raise UsageError(f"--state {path}: cannot open the job state ({detail})") from None


def _open_sink(target: str) -> FileSink | StreamSink:
    if target == "-":
        return StreamSink()
    try:
        return FileSink(target)
    except OSError as exc:
        raise UsageError(f"--sink {target}: cannot open ({_os_error(exc)})") from None


def _overlaps(pairs: Sequence[str], types: EventTypes) -> dict[str, timedelta]:
    found: dict[str, timedelta] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--overlap {pair}: expected TYPE=SECONDS")
        try:
            seconds = _seconds(value)
        except (ValueError, argparse.ArgumentTypeError):
            raise UsageError(f"--overlap {pair}: SECONDS must be a number, not negative"
                             ) from None
        found[types.resolve(name)] = timedelta(seconds=seconds)
    return found


def _connections(args: argparse.Namespace, redactor: Redactor, plugin: Any,
                 types: EventTypes, event_types: Sequence[str]) -> list[GraphConnection]:
    from commands.graph.client import GraphClient
    from commands.graph.pacing import Pacer
    from commands.graph.retry import RetryPolicy
    from commands.graph.settings import GraphSettings
    from executor.connection import read_connection_file, resolve_connection, secret_values

    retry = RetryPolicy(max_attempts=args.retry_attempts, base_delay=args.retry_base_delay,
                        max_total_wait=args.retry_max_wait)
    connections: list[GraphConnection] = []
    seen: set[str] = set()
    pacers: dict[str, Pacer] = {}  # identity protection's limit is per tenant, for all apps
    for path in args.connection:
        raw = read_connection_file(Path(path))
        for secret in secret_values(plugin.manifest, raw):
            redactor.add(secret)  # before anything can echo them
        resolved = resolve_connection(plugin.manifest, plugin.store, raw)
        for secret in secret_values(plugin.manifest, resolved):
            redactor.add(secret)
        settings = GraphSettings.from_connection(resolved)
        pace: bool | Pacer = False
        if not args.no_pace:
            pace = pacers.setdefault(settings.tenant.lower(), Pacer(sleep=time.sleep,
                                                                    monotonic=time.monotonic))
        client = GraphClient(settings, redactor=redactor, retry=retry, pace=pace)
        connection = GraphConnection(client, types, name=settings.tenant,
                                     page_size=args.page_size, event_types=event_types)
        if connection.id in seen:
            raise UsageError(f"{path}: the same tenant and client as an earlier --connection")
        seen.add(connection.id)
        connections.append(connection)
    return connections


def _mapper(plugin: Any, path: str | None) -> Any:
    from executor.mapping.errors import MappingError

    try:
        return plugin.mapping_set(path).map_event
    except MappingError as exc:
        raise UsageError("field mappings: " + "; ".join(str(p) for p in exc.problems)
                         ) from None


def _run(args: argparse.Namespace, redactor: Redactor) -> int:
    plugin = load_plugin()
    types = EventTypes.of(plugin.manifest)
    names = [types.resolve(n) for n in args.event_type] if args.event_type else list(types.names)
    names = list(dict.fromkeys(names))
    overlaps = _overlaps(args.overlap, types)
    lag = None if args.lag is None else timedelta(seconds=args.lag)
    sources = [job_source(n, overlap=overlaps.get(n), lag=lag) for n in names]
    mapper = _mapper(plugin, args.mappings)
    state = _open_state(args.state)
    connections: list[GraphConnection] = []
    sink = None
    try:
        sink = _open_sink(args.sink)
        connections = _connections(args, redactor, plugin, types, names)
        stop = threading.Event()
        job = Job(sources, connections, state, sink, mapper,
                  backfill=timedelta(days=args.backfill_days),
                  health_every=args.health_check_every or None, stop=stop,
                  progress=Progress(), redact=redactor.text)
        summary_out = sys.stderr if args.sink == "-" else sys.stdout
        with stop_on_signals(stop):
            if args.verb == "run":
                report = job.run_cycle()
                _print(summary_out, report.to_dict())
                return _exit_code(report)
            run_forever(job, args.every, on_cycle=lambda r: _log_cycle(r))
            return EXIT_SUCCESSFUL
    finally:
        for connection in connections:
            connection.close()
        if sink is not None:
            sink.close()
        state.close()


def _log_cycle(report: CycleReport) -> None:
    failed = report.failed
    log.info("cycle done: %d new events; %d of %d sources failed", report.delivered,
             len(failed), len(report.runs))


def _exit_code(report: CycleReport) -> int:
    failed = len(report.failed)
    if failed == 0:
        return EXIT_SUCCESSFUL
    return EXIT_FAILED if failed == len(report.runs) else EXIT_PARTIAL


def _status(args: argparse.Namespace) -> int:
    try:
        state = StateStore(args.state, readonly=True)
        try:
            sources = [asdict(s) for s in state.sources()]
            health, sinks = state.health(), state.sinks()
        finally:
            state.close()
    except sqlite3.Error as exc:
        raise UsageError(f"--state {args.state}: not a job state ({exc})") from None
    for entry in sources:
        entry["event_type"] = entry.pop("source")
    _print(sys.stdout, {"state": str(Path(args.state).resolve()), "sources": sources,
                        "health": health, "sinks": sinks})
    return EXIT_SUCCESSFUL


def _print(stream: Any, data: Any) -> None:
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    stream.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
