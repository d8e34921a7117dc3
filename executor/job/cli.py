"""``connector.py job ...``: the scheduled fetch job's command line (SPEC §8), API-neutral.

    job run   --connection FILE [--connection FILE]... [--event-type TYPE]... --state PATH
              --sink PATH|- [--backfill-days N] [--mappings FILE]
    job start --every SECONDS (the same options) [--health-check-every SECONDS]
    job status --state PATH [--output table|json]
    job reset --state PATH --source TYPE [--since TIME]

Everything about one particular API (its event types, its connections, its own options) comes
through :class:`JobHooks`; this module knows none. ``run`` prints a summary (JSON) on stdout, or
on stderr when the sink is stdout; logs go to stderr. Exit codes: 0 every source succeeded, 3 some
failed, 1 all failed (or the job could not go on), 2 usage (options, files, paths), 130 a second
SIGINT/SIGTERM. A failure is one ``error:`` line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, Protocol

from executor.errors import IntegrationError, InvalidInput, UsageError
from executor.job.collector import collected_per_growth
from executor.job.instants import instant_key
from executor.job.model import Connection, Source
from executor.job.progress import Progress
from executor.job.runner import MAX_CONCURRENCY, CycleReport, Job
from executor.job.schedule import run_forever, stop_on_signals
from executor.job.sink import FileSink, SinkInUse, StreamSink
from executor.job.state import StateStore
from executor.redaction import Redactor
from executor.result import EXIT_FAILED, EXIT_INVALID_INPUT, EXIT_PARTIAL, EXIT_SUCCESSFUL

log = logging.getLogger("executor.job")

DAY = 86_400.0
DEFAULT_CYCLE_SECONDS = 3600.0
"""A cycle's default budget (or one --every period, when longer): a day's window of the
unordered sources takes minutes at their one request per second, so only a cycle stuck on a
service that answers slowly forever reaches it; the job then resumes next cycle instead."""
MAX_BACKFILL_DAYS = 3650.0
MAX_OVERLAP = 90 * DAY


class JobHooks(Protocol):
    """What one API adds to the generic job: its event types and its connections."""

    prog: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Options of this API's connections (page size, pacing, retries...)."""

    def load_plugin(self) -> Any:
        """The executor's plugin (manifest, schemas, field mappings)."""

    def event_type_names(self, plugin: Any) -> tuple[str, ...]:
        """The event types the job fetches when none is named, in order."""

    def resolve_event_type(self, plugin: Any, name: str) -> str:
        """An event type's value from its value or display name; UsageError when unknown."""

    def source(self, name: str, *, overlap: timedelta | None,
               lag: timedelta | None) -> Source: ...

    def connections(self, args: argparse.Namespace, redactor: Redactor, plugin: Any,
                    names: Sequence[str]) -> list[Connection]:
        """One connection per ``--connection`` file (secrets registered with ``redactor``)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def number(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high] (``(low, high]`` with ``low_open``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or value > high:
            bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"'{text}' must be a finite number, {bound} and "
                                             f"at most {high:g}")
        return value
    return parse


def integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"'{text}' must be between {low} and {high}")
        return value
    return parse


def build_parser(hooks: JobHooks) -> argparse.ArgumentParser:
    parser = _Parser(prog=hooks.prog, description="the scheduled fetch job")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for name, text in (("run", "one fetch cycle for every source and connection"),
                       ("start", "a fetch cycle every --every seconds until SIGINT/SIGTERM")):
        sub = verbs.add_parser(name, help=text)
        sub.add_argument("--connection", action="append", required=True, metavar="FILE",
                         help="YAML connection parameters; repeat for several tenants")
        sub.add_argument("--event-type", action="append", metavar="TYPE",
                         help="an event type (value or display name); repeatable; "
                         "default: the plugin's default event types")
        sub.add_argument("--state", required=True, metavar="PATH", help="SQLite state file")
        sub.add_argument("--sink", required=True, metavar="PATH|-",
                         help="NDJSON file to append events to, or - for stdout")
        sub.add_argument("--backfill-days", type=number(0, MAX_BACKFILL_DAYS, low_open=True),
                         default=1.0, metavar="N",
                         help="how far back the first run of a source reads (default 1)")
        sub.add_argument("--mappings", metavar="FILE", help="field-mapping overrides (YAML)")
        sub.add_argument("--overlap", action="append", default=[], metavar="TYPE=SECONDS",
                         help="re-read window for late records, per event type")
        sub.add_argument("--lag", type=number(0, DAY), metavar="SECONDS",
                         help="windows end this long before now (default 60)")
        sub.add_argument("--health-check-every", type=number(0, 30 * DAY), default=300.0,
                         metavar="SECONDS", help="Test Connection at most this often "
                         "(default 300; 0: never)")
        sub.add_argument("--max-cycle-seconds", type=number(0, 30 * DAY), default=None,
                         metavar="SECONDS", help="a cycle ends after the page in hand once it "
                         "has run this long; the rest resumes next cycle (default "
                         f"{DEFAULT_CYCLE_SECONDS:g}, or --every when longer; 0: no limit; keep "
                         "it above the time one window of an unordered source takes)")
        sub.add_argument("--max-concurrency", type=integer(1, 256), default=MAX_CONCURRENCY,
                         metavar="N", help="connections fetched at once, each on its own "
                         f"threads (default {MAX_CONCURRENCY}; 1: one after another)")
        hooks.add_arguments(sub)
        if name == "start":
            sub.add_argument("--every", type=number(0, 30 * DAY, low_open=True), required=True,
                             metavar="SECONDS",
                             help="seconds from the start of one cycle to the next")
    status = verbs.add_parser("status", help="whether a job is running, its next run; per "
                              "source and connection: cursor, last run, events delivered, "
                              "stale, last error, clock skew, clamped gaps, dead letters; "
                              "health checks (a table on a terminal, else JSON)")
    status.add_argument("--state", required=True, metavar="PATH")
    status.add_argument("--output", choices=["table", "json"],
                        help="table (the default on a terminal) or JSON (otherwise)")
    reset = verbs.add_parser("reset", help="move one source's cursor on purpose (after a long "
                             "outage, or to read a period again)")
    reset.add_argument("--state", required=True, metavar="PATH")
    reset.add_argument("--source", required=True, metavar="TYPE",
                       help="the event type whose cursor moves (every connection's)")
    reset.add_argument("--since", metavar="TIME", help="ISO 8601 instant the next run reads "
                       "from; without it, the next run backfills as a first run does")
    return parser


def main(argv: Sequence[str], hooks: JobHooks) -> int:
    redactor = Redactor()
    try:
        args = build_parser(hooks).parse_args(list(argv))
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INVALID_INPUT
    from executor.cli import configure_logging

    configure_logging(args.log_level, redactor)
    try:
        if args.verb == "status":
            return _status(args)
        if args.verb == "reset":
            return _reset(args, hooks)
        return _run(args, redactor, hooks)
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


def _open_state(path: str) -> StateStore:
    try:
        return StateStore(path)
    except (OSError, sqlite3.Error) as exc:
        detail = _os_error(exc) if isinstance(exc, OSError) else str(exc)
        raise UsageError(f"--state {path}: cannot open the job state ({detail})") from None


def _open_sink(target: str, state: StateStore) -> FileSink | StreamSink:
    if target == "-":
        return StreamSink()
    try:
        return FileSink(target, owner=state.identity)
    except SinkInUse as exc:
        raise UsageError(f"--sink {target}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--sink {target}: cannot open ({_os_error(exc)})") from None


def _overlaps(pairs: Sequence[str], resolve: Callable[[str], str]) -> dict[str, timedelta]:
    found: dict[str, timedelta] = {}
    parse = number(0, MAX_OVERLAP)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--overlap {pair}: expected TYPE=SECONDS")
        try:
            seconds = parse(value)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--overlap {pair}: SECONDS {exc}") from None
        found[resolve(name)] = timedelta(seconds=seconds)
    return found


def _mapper(plugin: Any, path: str | None) -> Any:
    from executor.mapping.errors import MappingError

    try:
        return plugin.mapping_set(path).map_event
    except MappingError as exc:
        raise UsageError("field mappings: " + "; ".join(str(p) for p in exc.problems)
                         ) from None


def _run(args: argparse.Namespace, redactor: Redactor, hooks: JobHooks) -> int:
    plugin = hooks.load_plugin()

    def resolve(name: str) -> str:
        return hooks.resolve_event_type(plugin, name)

    names = ([resolve(n) for n in args.event_type] if args.event_type
             else list(hooks.event_type_names(plugin)))
    names = list(dict.fromkeys(names))
    overlaps = _overlaps(args.overlap, resolve)
    lag = None if args.lag is None else timedelta(seconds=args.lag)
    sources = [hooks.source(n, overlap=overlaps.get(n), lag=lag) for n in names]
    mapper = _mapper(plugin, args.mappings)
    state = _open_state(args.state)
    connections: list[Connection] = []
    sink = None
    try:
        sink = _open_sink(args.sink, state)
        connections = hooks.connections(args, redactor, plugin, names)
        stop = threading.Event()
        job = Job(sources, connections, state, sink, mapper,
                  backfill=timedelta(days=args.backfill_days),
                  health_every=args.health_check_every or None, stop=stop,
                  progress=Progress(), redact=redactor.text,
                  cycle_budget=cycle_budget(args),
                  max_concurrency=args.max_concurrency)
        summary_out = sys.stderr if args.sink == "-" else sys.stdout
        with stop_on_signals(stop), collected_per_growth():
            if args.verb == "run":
                report = job.run_cycle()
                _print(summary_out, report.to_dict())
                return _exit_code(report)
            schedule = _Schedule(state, args.every)
            try:
                run_forever(job, args.every, on_cycle=schedule.cycle_done)
            finally:
                schedule.stopped()
            return EXIT_SUCCESSFUL
    finally:
        for connection in connections:
            connection.close()
        if sink is not None:
            sink.close()
        state.close()


class _Schedule:
    """Keeps ``job start``'s period and next cycle in the state, for ``job status``: cycles
    start ``every`` seconds apart, or at once when one ran longer (as ``run_forever`` does)."""

    def __init__(self, state: StateStore, every: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        from executor.job.status_view import SCHEDULE_KEY

        self.state, self.every, self.clock, self.key = state, every, clock, SCHEDULE_KEY
        self.cycle_started = clock()
        self._write(None)

    def _write(self, next_run: datetime | None) -> None:
        value = {"every": self.every,
                 "next_run": None if next_run is None else
                 next_run.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.state.set_meta(self.key, json.dumps(value))

    def cycle_done(self, report: CycleReport) -> None:
        _log_cycle(report)
        self.cycle_started = max(self.cycle_started + timedelta(seconds=self.every),
                                 self.clock())
        self._write(self.cycle_started)

    def stopped(self) -> None:
        self.state.set_meta(self.key, None)


def cycle_budget(args: argparse.Namespace) -> float | None:
    """Seconds a cycle may run: ``--max-cycle-seconds`` (0: no limit), by default an hour or
    one ``--every`` period when that is longer."""
    if args.max_cycle_seconds is not None:
        return float(args.max_cycle_seconds) or None
    return max(DEFAULT_CYCLE_SECONDS, float(getattr(args, "every", None) or 0))


def _log_cycle(report: CycleReport) -> None:
    failed = report.failed
    log.info("cycle done: %d new events; %d of %d sources failed", report.delivered,
             len(failed), len(report.runs))


def _exit_code(report: CycleReport) -> int:
    failed = len(report.failed)
    if failed == 0:
        return EXIT_SUCCESSFUL
    return EXIT_FAILED if failed == len(report.runs) else EXIT_PARTIAL


def _status(args: argparse.Namespace, now: datetime | None = None) -> int:
    from executor.cli import output_format
    from executor.job.status_view import render_status, status_report

    try:
        report = status_report(args.state, now or datetime.now(UTC))
    except sqlite3.Error as exc:
        raise UsageError(f"--state {args.state}: not a job state ({exc})") from None
    if output_format(args) == "table":
        sys.stdout.write(render_status(report))
        sys.stdout.flush()
    else:
        _print(sys.stdout, report)
    return EXIT_SUCCESSFUL


def _reset(args: argparse.Namespace, hooks: JobHooks) -> int:
    plugin = hooks.load_plugin()
    source = hooks.resolve_event_type(plugin, args.source)
    since = None
    if args.since is not None:
        try:
            since = instant_key(args.since)
        except ValueError:
            raise UsageError(f"--since {args.since}: expected an ISO 8601 instant such as "
                             "2026-11-01T00:00:00Z") from None
        if since > instant_key(datetime.now(UTC).isoformat()):
            raise UsageError(f"--since {args.since}: lies in the future")
    if not Path(args.state).exists():
        raise UsageError(f"no job state at {args.state}")
    state = _open_state(args.state)
    try:
        changed = state.reset_source(source, since)
    finally:
        state.close()
    if not changed:
        raise UsageError(f"--source {args.source}: the state has no such source yet")
    _print(sys.stdout, {"reset": source, "since": since, "connections": changed})
    return EXIT_SUCCESSFUL


def _print(stream: Any, data: Any) -> None:
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    stream.flush()
