"""One fetch cycle: for every connection and source, read the window page by page and deliver.

Per page: drop the events already delivered (:func:`~executor.job.step.fetch_step`), map the
rest, stage them beside the sink, commit checkpoint, keys and sink length in one transaction,
then publish the page to the sink (see :mod:`executor.job.sink`). A failure anywhere leaves the
last committed page as the checkpoint; the next cycle reads again from there and delivers only
what was not committed. For a source that is not ``ordered`` the cursor stays where it was until
the window's last page, while the keys of each page still commit with it.

Connections run concurrently, up to ``max_concurrency`` at once, each on its own thread, and
so do the sources of a connection that can serve them at once (``concurrent_sources``): the
work is waiting on the service, whose limits are per tenant and per workload, not per process.
Everything shared is serialised: the state takes a lock per statement and transaction, and one
lock covers a page's stage, commit and publish (and a failure's cut back), so the sink has one
writer at a time and a page is never interleaved with another. A slow or failing connection
holds only its own threads; the cycle ends when every connection has ended (or the cycle's
budget is spent, after each one's page in hand).

Pacing remembers: a connection that paces its requests (``recent_requests`` and
``remember_requests``) has them kept in the state after every cycle and handed back at the first
cycle of the next run, so back-to-back runs send nothing the service would throttle.

Time is not taken on trust: a window never ends later than the local clock plus
``clock_tolerance``, whatever the service's ``Date`` says (a larger skew is a warning and is
recorded for ``job status``); a cursor older than the service keeps records is moved up to what
it keeps, with a warning naming the gap, recorded in the state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from executor.job.deadletters import DeadLetterFile
from executor.job.instants import key_of
from executor.job.model import Checkpoint, Connection, Record, Source, Window
from executor.job.prefetch import prefetched
from executor.job.progress import Progress
from executor.job.sink import Sink, encode_page
from executor.job.state import StateStore, utc_text
from executor.job.step import SeenKeys, fetch_step, finish_window, plan_window

MAX_CONCURRENCY = 16
"""Connections fetched at once by default: the work is waiting on the service, not the CPU."""

CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far the service's clock may run ahead of the local one before the window stops following
it (and the skew is reported)."""

log = logging.getLogger("executor.job")

Mapper = Callable[[Record], Any]


@dataclass
class SourceRun:
    connection: str
    label: str
    source: str
    window: Window | None = None
    delivered: int = 0
    pages: int = 0
    cursor: str | None = None
    error: str | None = None
    stopped: bool = False
    dead_letters: int = 0
    clock_skew_seconds: float | None = None
    gap: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"connection": self.label, "event_type": self.source,
                "window": None if self.window is None else
                {"start": self.window.start, "end": self.window.end},
                "delivered": self.delivered, "pages": self.pages, "cursor": self.cursor,
                "error": self.error, "stopped": self.stopped,
                "dead_letters": self.dead_letters, "clock_skew_seconds": self.clock_skew_seconds,
                "gap": None if self.gap is None else {"from": self.gap[0], "to": self.gap[1]}}


@dataclass
class CycleReport:
    runs: list[SourceRun] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceRun]:
        return [r for r in self.runs if r.error is not None]

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "runs": [r.to_dict() for r in self.runs],
                "health": self.health}


def _message(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{status}: {text}" if status else str(text)


class Job:
    def __init__(self, sources: Sequence[Source], connections: Sequence[Connection],
                 store: StateStore, sink: Sink, mapper: Mapper, *,
                 backfill: timedelta = timedelta(days=1),
                 health_every: float | None = None,
                 stop: threading.Event | None = None,
                 progress: Progress | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 redact: Callable[[str], str] = lambda text: text,
                 clock_tolerance: timedelta = CLOCK_TOLERANCE,
                 dead_letters: DeadLetterFile | None = None,
                 cycle_budget: float | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 max_concurrency: int = MAX_CONCURRENCY) -> None:
        self.sources = list(sources)
        self.connections = list(connections)
        self.store = store
        self.sink = sink
        self.mapper = mapper
        self.backfill = backfill
        self.health_every = health_every
        self.stop = stop or threading.Event()
        self.progress = progress or Progress(enabled=False)
        self.clock = clock
        self.redact = redact
        self.clock_tolerance = clock_tolerance
        self.cycle_budget = cycle_budget
        """Seconds a cycle may take: past them, it ends after the page in hand (the sources left
        resume from their checkpoints next cycle)."""
        self.monotonic = monotonic
        self._cycle_ends: float | None = None
        self.dead_letters = dead_letters or DeadLetterFile(store.dead_letter_path)
        self._recovered = False
        self.max_concurrency = max(1, max_concurrency)
        self._pacing_restored = False
        self._writing = threading.RLock()
        """One writer: a page's stage, commit and publish, or a failure's cut back."""

    def recover(self) -> None:
        """Bring the sink to what the state says was committed (after a crash): publish the
        rest of a committed page, never cut anything (see :mod:`executor.job.sink`)."""
        if self.sink.path is not None:
            committed = self.store.sink_commit(self.sink.path)
            length = self.sink.recover(*committed) if committed else self.sink.recover(None)
            if length is not None and (committed is None or length != committed[0]):
                self.store.set_sink_length(self.sink.path, length)
        else:
            self.sink.recover(None)
        self._recovered = True

    def _should_stop(self) -> bool:
        """A signal arrived, or the cycle's time budget is spent."""
        if self.stop.is_set():
            return True
        return self._cycle_ends is not None and self.monotonic() >= self._cycle_ends

    def run_cycle(self) -> CycleReport:
        if not self._recovered:
            self.recover()
        self._cycle_ends = (None if self.cycle_budget is None
                            else self.monotonic() + self.cycle_budget)
        if not self._pacing_restored:
            self._restore_pacing()
        try:
            return self._cycle()
        finally:
            self._save_pacing()

    def _restore_pacing(self) -> None:
        """Hand each connection the requests an earlier run sent (it paces the first ones)."""
        wall = self.clock().timestamp()
        for connection in self.connections:
            remember = getattr(connection, "remember_requests", None)
            if remember is not None:
                saved = self.store.recent_requests(connection.id)
                if saved:
                    remember(saved, wall)
        self._pacing_restored = True

    def _save_pacing(self) -> None:
        """Keep each connection's recent requests, so the next run does not exceed a limit."""
        wall = self.clock().timestamp()
        for connection in self.connections:
            recent = getattr(connection, "recent_requests", None)
            if recent is not None:
                self.store.set_recent_requests(connection.id, recent(wall))

    def _cycle(self) -> CycleReport:
        report = CycleReport()
        if self.max_concurrency == 1 or len(self.connections) <= 1:
            for connection in self.connections:
                if self._should_stop():
                    break
                self._run_connection(connection, report)
        else:
            parts = [CycleReport() for _ in self.connections]
            gate = threading.BoundedSemaphore(self.max_concurrency)

            def run(connection: Connection, part: CycleReport) -> None:
                with gate:
                    if not self._should_stop():
                        self._run_connection(connection, part)

            _in_threads([partial(run, c, p) for c, p in zip(self.connections, parts, strict=True)],
                        "job-connection")
            for part in parts:
                report.runs.extend(part.runs)
                report.health.extend(part.health)
        self.progress.done()
        return report

    def _run_connection(self, connection: Connection, report: CycleReport) -> None:
        """Health check, then every source: at once when the connection can serve them so."""
        health = self.check_health(connection)
        if health is not None:
            report.health.append(health)
        if len(self.sources) > 1 and getattr(connection, "concurrent_sources", False):
            runs: list[SourceRun | None] = [None] * len(self.sources)

            def run(index: int, source: Source) -> None:
                runs[index] = self.run_source(connection, source)

            _in_threads([partial(run, i, s) for i, s in enumerate(self.sources)], "job-source")
            report.runs.extend(r for r in runs if r is not None)
            return
        for source in self.sources:
            if self._should_stop():
                if not self.stop.is_set():
                    log.warning("%s %s: the cycle's time budget (%g s) is spent; it runs "
                                "next cycle", connection.label, source.name,
                                self.cycle_budget)
                break
            report.runs.append(self.run_source(connection, source))

    def check_health(self, connection: Connection, *, force: bool = False
                     ) -> dict[str, Any] | None:
        """Test Connection when the last check is older than ``health_every`` (or forced)."""
        now = self.clock()
        if not force:
            if self.health_every is None:
                return None
            last = self.store.last_health_check(connection.id)
            if last is not None:
                since = now - datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                if since.total_seconds() < self.health_every:
                    return None
        try:
            message, ok = connection.health_check(), True
            log.info("health check %s: ok (%s)", connection.label, message)
        except Exception as exc:
            message, ok = self.redact(_message(exc)), False
            log.warning("health check %s failed: %s", connection.label, message)
        self.store.record_health(connection.id, connection.label, utc_text(now), ok, message)
        return {"connection": connection.label, "ok": ok, "message": message}

    def run_source(self, connection: Connection, source: Source) -> SourceRun:
        run = SourceRun(connection.id, connection.label, source.name)
        self.progress.begin(connection.label, source.name)
        self.store.run_started(connection.id, source.name, connection.label,
                               utc_text(self.clock()))
        try:
            self._fetch(connection, source, run)
        except Exception as exc:
            run.error = self.redact(_message(exc))
            log.warning("%s %s: stopped after %d events (%d pages): %s; the checkpoint stays "
                        "at %s", connection.label, source.name, run.delivered, run.pages,
                        run.error, run.cursor)
            log.debug("%s %s failure", connection.label, source.name, exc_info=True)
            # A page may be staged and not committed (drop it), or committed and not yet
            # published (publish it) before anything else is written.
            with self._writing:
                self.sink.discard()
                self._cut_back()
        self.store.run_finished(connection.id, source.name, utc_text(self.clock()), run.error)
        if run.error is None and not run.stopped:
            log.info("%s %s: %d new events in %d pages, cursor %s", connection.label,
                     source.name, run.delivered, run.pages, run.cursor)
        return run

    def _cut_back(self) -> None:
        """Bring the sink to its committed length after a failure; should that fail too,
        nothing more may be written before a restart has done it (the error propagates)."""
        try:
            self.recover()
        except BaseException:
            self._recovered = False
            log.error("cannot cut the sink back to its committed length; stopping the cycle")
            raise

    def _fetch(self, connection: Connection, source: Source, run: SourceRun) -> None:
        stored = self.store.checkpoint(connection.id, source.name)
        checkpoint = Checkpoint(stored.cursor, SeenKeys(stored.seen))  # updated page by page
        run.cursor = checkpoint.cursor
        started = None
        if checkpoint.cursor is None:
            started = self.store.backfill_start(connection.id, source.name)
        now = self._trusted_now(connection, source, run)
        window = plan_window(checkpoint, now, source, self.backfill, started=started)
        window = self._clamped(connection, source, window, now, run)
        run.window = window
        if window.first:
            self.store.first_window(connection.id, source.name, window.start)
        if window.first and source.max_backfill is not None \
                and self.backfill > source.max_backfill:
            log.warning("%s %s: backfill cut to %s, the longest the service keeps",
                        connection.label, source.name, source.max_backfill)
        if window.empty:
            return
        for index, chunk in enumerate(window.chunks(source.chunk)):
            if index and self._should_stop():
                run.stopped = True
                return
            checkpoint = self._fetch_window(connection, source, chunk, checkpoint, run)
            if run.stopped:
                return
            step = finish_window(checkpoint, chunk, source)
            self.store.commit(connection.id, source.name, step, sink_path=None,
                              sink_length=None)
            checkpoint = step.checkpoint
            run.cursor = checkpoint.cursor

    def _trusted_now(self, connection: Connection, source: Source, run: SourceRun) -> datetime:
        """The service's time, but never later than the local clock plus the tolerance."""
        service = connection.now()
        local = self.clock()
        skew = (service - local).total_seconds()
        run.clock_skew_seconds = round(skew, 3)
        self.store.record_skew(connection.id, source.name, skew)
        if abs(skew) > self.clock_tolerance.total_seconds():
            log.warning("%s %s: the service's clock is %+.0f s off the local clock (tolerance "
                        "%.0f s); windows end at the local clock plus the tolerance",
                        connection.label, source.name, skew,
                        self.clock_tolerance.total_seconds())
        return min(service, local + self.clock_tolerance)

    def _clamped(self, connection: Connection, source: Source, window: Window, now: datetime,
                 run: SourceRun) -> Window:
        """A resumed window that starts before the service keeps records starts where it does;
        the span skipped is logged and recorded (``job status`` shows it)."""
        if window.first or source.max_backfill is None or window.empty:
            return window
        oldest = key_of(now - source.max_backfill)
        if window.start >= oldest:
            return window
        run.gap = (window.start, oldest)
        self.store.record_gap(connection.id, source.name, window.start, oldest)
        log.warning("%s %s: the cursor is older than the service keeps records (%s); events "
                    "from %s to %s cannot be read any more, reading from %s", connection.label,
                    source.name, source.max_backfill, window.start, oldest, oldest)
        return Window(oldest, window.end, window.first)

    def _fetch_window(self, connection: Connection, source: Source, window: Window,
                      checkpoint: Checkpoint, run: SourceRun) -> Checkpoint:
        """Every page of one query; the checkpoint after the last page committed."""
        newest: str | None = None
        hold = not source.ordered  # unordered: the cursor moves only when the window is done
        pages = prefetched(connection.pages(source, window))
        try:
            for page in pages:
                step = fetch_step(checkpoint, page, source, newest=newest, hold_cursor=hold,
                                  window=window, in_place=True)
                if step.out_of_order and not hold:
                    log.warning("%s %s: records out of %s order; the cursor waits for the window's "
                                "end", connection.label, source.name, source.cursor_field)
                hold = hold or step.out_of_order
                newest = step.newest
                origin = getattr(connection, "attribution", None)
                page_lines = encode_page(source.name, step.fresh, self.mapper, origin)
                with self._writing:
                    if not self._recovered:
                        raise RuntimeError("the sink could not be cut back to its committed "
                                           "length; nothing more is written before a restart")
                    dead = self._file_dead_letters(connection, source, step.dead)
                    run.dead_letters += len(step.dead)
                    length = self.sink.stage(page_lines)
                    self.store.commit(connection.id, source.name, step,
                                      sink_path=self.sink.path, sink_length=length,
                                      staged=self.sink.staged_size, dead=dead)
                    self.sink.publish()
                    checkpoint = step.checkpoint
                    run.delivered += len(step.fresh)
                    run.pages += 1
                    run.cursor = checkpoint.cursor
                    self.progress.update(connection.label, source.name, run.delivered,
                                         run.pages, run.cursor,
                                         window=(window.start, window.end)
                                         if source.ordered and not hold else None)
                if self._should_stop():
                    run.stopped = True
                    log.info("%s %s: stopping after page %d at cursor %s", connection.label,
                             source.name, run.pages, run.cursor)
                    break
        finally:
            pages.close()  # stops the read-ahead before the client is used again
        return checkpoint

    def _file_dead_letters(self, connection: Connection, source: Source,
                           dead: Sequence[Any]) -> dict[str, str]:
        """Write the page's new dead letters (fsynced) before its commit; key -> reason."""
        new = {d.key: d for d in dead
               if not self.store.dead_letter_known(connection.id, source.name, d.key)}
        if new:
            for letter in new.values():
                log.warning("%s %s: record filed as a dead letter (%s) in %s", connection.label,
                            source.name, letter.reason, self.dead_letters.path)
            self.dead_letters.write(connection.label, source.name, list(new.values()))
        return {key: letter.reason for key, letter in new.items()}


def _in_threads(tasks: Sequence[Callable[[], None]], name: str) -> None:
    """Run the tasks on threads of their own and wait for all; the first failure is raised.

    Daemon threads, joined with a timeout so the main thread still takes signals: a second
    SIGINT/SIGTERM (KeyboardInterrupt) leaves at once, as the sequential runner does."""
    errors: list[BaseException] = []

    def guarded(task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(task,), name=f"{name}-{i}", daemon=True)
               for i, task in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    if errors:
        raise errors[0]
