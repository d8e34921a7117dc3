"""The generic job runtime (executor/job) against an in-memory connection: no network, no sleep."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.errors import UsageError
from executor.job import (
    Checkpoint,
    FileSink,
    Job,
    Source,
    StateStore,
    StreamSink,
    fetch_step,
    finish_window,
    plan_window,
    run_forever,
    stop_on_signals,
)
from executor.job.instants import instant_key, key_of, moment_of, shift
from executor.job.progress import Progress
from tests.job.fakes import T0, Crash, FakeConnection, crash_on_commit

SRC = Source("thing", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1))


def mapper(record: Any) -> dict[str, Any]:
    return {"Unique_Event_Key": record["id"]}


def sink_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def delivered(path: Path) -> Counter[tuple[str, str]]:
    return Counter((e["raw"]["id"], instant_key(e["raw"]["ts"])) for e in sink_lines(path))


class Harness:
    """A job whose process can 'die' and be started again on the same state and sink."""

    def __init__(self, tmp: Path, conn: FakeConnection, sources: list[Source] | None = None,
                 **job_args: Any) -> None:
        self.tmp = tmp
        self.conn = conn
        self.sources = sources or [SRC]
        self.job_args = job_args
        self.store: StateStore | None = None
        self.sink: FileSink | None = None
        self.start()

    @property
    def sink_path(self) -> Path:
        return self.tmp / "events.ndjson"

    def start(self) -> None:
        self.store = StateStore(self.tmp / "state.db")
        self.sink = FileSink(self.sink_path)
        self.job = Job(self.sources, [self.conn], self.store, self.sink, mapper,
                       clock=lambda: self.conn.now_value, **self.job_args)

    def restart(self) -> None:
        assert self.store is not None and self.sink is not None
        self.store.close()
        self.sink.close()
        self.start()

    def cycle(self) -> Any:
        return self.job.run_cycle()


# -- instants and the pure step ----------------------------------------------------------------

@pytest.mark.parametrize(("text", "key"), [
    ("2026-11-27T11:41:10Z", "2026-11-27T11:41:10.0000000Z"),
    ("2026-11-27T11:41:10.1234567Z", "2026-11-27T11:41:10.1234567Z"),
    ("2026-11-27T11:41:10.123456789Z", "2026-11-27T11:41:10.1234567Z"),
    ("2026-11-27T11:41:10.5", "2026-11-27T11:41:10.5000000Z"),
    ("2026-11-27T12:41:10.25+01:00", "2026-11-27T11:41:10.2500000Z"),
    ("2026-11-27T06:41:10-0500", "2026-11-27T11:41:10.0000000Z"),
])
def test_instant_keys_sort_as_time(text: str, key: str) -> None:
    assert instant_key(text) == key


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)),
       st.integers(min_value=0, max_value=9))
def test_instant_keys_of_graphs_own_form_are_the_moment(moment: datetime, digits: int) -> None:
    """``...SSZ`` and ``...SS.fffffffZ`` (how Graph writes times) against datetime's reading."""
    fraction = f"{moment.microsecond:06d}0{moment.microsecond % 7}{moment.second % 10}"[:digits]
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + "Z"
    key = instant_key(text)
    assert datetime.strptime(key[:26], "%Y-%m-%dT%H:%M:%S.%f") == datetime.strptime(
        text[:19] + "." + (fraction[:6] or "0"), "%Y-%m-%dT%H:%M:%S.%f")
    assert key[26] == (fraction[6:7] or "0") and key.endswith("Z") and len(key) == 28


@pytest.mark.parametrize("text", [
    "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "2026-00-10T10:00:00Z",
    "2026-11-27T24:00:00Z", "2026-11-27T23:60:00Z", "2026-11-27T23:59:60Z",
    "2026-11-27T23:59:59.Z", "2026-11-27T1:00:00Z", "2026-11-27T10:00:00ZZ",
    "\u0662\u0660\u0662\u0666-11-27T10:00:00Z", "2026-11-27T1\u0660:00:00Z",
])
def test_instant_keys_refuse_what_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError):
        instant_key(text)


def test_instant_round_trip_and_shift() -> None:
    key = key_of(T0)
    assert moment_of(key) == T0
    assert shift(key, timedelta(minutes=-10)) == key_of(T0 - timedelta(minutes=10))
    with pytest.raises(ValueError):
        instant_key("yesterday")


def test_first_window_is_the_backfill_then_cursor_minus_overlap() -> None:
    first = plan_window(Checkpoint(), T0, SRC, timedelta(days=1))
    assert first.first and first.start == key_of(T0 - timedelta(days=1))
    assert first.end == key_of(T0 - timedelta(minutes=1))
    later = plan_window(Checkpoint(key_of(T0)), T0 + timedelta(hours=1), SRC, timedelta(days=1))
    assert later.start == key_of(T0 - timedelta(minutes=10)) and not later.first


def rec(rid: str, minute: float) -> dict[str, Any]:
    return {"id": rid, "ts": (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")}


def test_step_dedups_moves_cursor_and_forgets_outside_overlap() -> None:
    step = fetch_step(Checkpoint(), [rec("a", 0), rec("b", 5), rec("b", 5)], SRC)
    assert [r["id"] for r in step.fresh] == ["a", "b"]
    assert step.checkpoint.cursor == key_of(T0 + timedelta(minutes=5))
    again = fetch_step(step.checkpoint, [rec("a", 0), rec("b", 5), rec("c", 30)], SRC)
    assert [r["id"] for r in again.fresh] == ["c"]
    # a and b are older than cursor - overlap (20 min): forgotten, never queried again.
    assert set(again.checkpoint.seen) == {f"c|{key_of(T0 + timedelta(minutes=30))}"}
    assert again.forget_before == key_of(T0 + timedelta(minutes=20))


def test_every_record_shape_is_keyed_as_source_key_of_keys_it() -> None:
    """Page records (dicts, string ids) are keyed inline; others through the general checks:
    both give the key a stored state holds, so a record is never delivered twice."""
    records: list[Any] = [rec("a", 0), {"id": 7, "ts": rec("x", 1)["ts"]},
                          {"id": "b", "ts": "2026-11-01T00:02:00.5+00:00"}]
    step = fetch_step(Checkpoint(), records, SRC)
    assert set(step.added) == {SRC.key_of(r, instant_key(r["ts"])) for r in records}
    assert fetch_step(step.checkpoint, records, SRC).fresh == []


def test_same_id_with_a_new_cursor_value_is_a_new_event() -> None:
    step = fetch_step(Checkpoint(), [rec("u", 0)], SRC)
    update = fetch_step(step.checkpoint, [rec("u", 0), rec("u", 3)], SRC)
    assert [r["ts"] for r in update.fresh] == [rec("u", 3)["ts"]]


def test_out_of_order_records_hold_the_cursor_until_the_window_ends() -> None:
    step = fetch_step(Checkpoint(), [rec("a", 5), rec("b", 1)], SRC)
    assert step.out_of_order and step.checkpoint.cursor is None
    window = plan_window(Checkpoint(), T0 + timedelta(hours=1), SRC, timedelta(days=1))
    done = finish_window(step.checkpoint, window, SRC)
    assert done.checkpoint.cursor == window.end


# -- the runner with a file sink -----------------------------------------------------------------

def test_runs_deliver_each_event_once_and_status_is_recorded(tmp_path: Path) -> None:
    conn = FakeConnection(now_value=T0 + timedelta(hours=1))
    for i in range(7):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=i))
    h = Harness(tmp_path, conn)
    report = h.cycle()
    assert report.delivered == 7 and not report.failed
    assert h.cycle().delivered == 0
    assert sorted(delivered(h.sink_path).values()) == [1] * 7
    line = sink_lines(h.sink_path)[0]
    assert set(line) == {"event_type", "fields", "raw"} and line["event_type"] == "thing"
    (status,) = h.store.sources()  # type: ignore[union-attr]
    assert status.events_delivered == 7 and status.last_error is None
    assert status.cursor == key_of(T0 + timedelta(minutes=59))  # the window's end


def test_backfill_bounds_the_first_run(tmp_path: Path) -> None:
    conn = FakeConnection(now_value=T0 + timedelta(days=3))
    conn.add("thing", "old", T0)
    conn.add("thing", "new", T0 + timedelta(days=2, hours=12))
    h = Harness(tmp_path, conn, backfill=timedelta(days=1))
    h.cycle()
    assert [e["raw"]["id"] for e in sink_lines(h.sink_path)] == ["new"]


def test_late_record_inside_the_overlap_is_delivered_once(tmp_path: Path) -> None:
    conn = FakeConnection(now_value=T0 + timedelta(minutes=30))
    conn.add("thing", "a", T0 + timedelta(minutes=20))
    h = Harness(tmp_path, conn)
    h.cycle()
    # Surfaces after that run, stamped 4 minutes before the cursor.
    conn.add("thing", "late", T0 + timedelta(minutes=25), visible_from=T0 + timedelta(minutes=31))
    conn.now_value = T0 + timedelta(minutes=35)
    h.cycle()
    h.cycle()
    assert delivered(h.sink_path) == Counter({("a", key_of(T0 + timedelta(minutes=20))): 1,
                                              ("late", key_of(T0 + timedelta(minutes=25))): 1})


def test_ties_at_page_and_run_boundaries(tmp_path: Path) -> None:
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(minutes=10))
    tie = T0 + timedelta(minutes=5)
    for rid in ("t1", "t2", "t3"):
        conn.add("thing", rid, tie)
    h = Harness(tmp_path, conn)
    h.cycle()
    conn.add("thing", "t4", tie, visible_from=T0 + timedelta(minutes=11))  # same instant, later
    conn.now_value = T0 + timedelta(minutes=12)
    h.cycle()
    assert sorted(i for i, _ in delivered(h.sink_path)) == ["t1", "t2", "t3", "t4"]
    assert set(delivered(h.sink_path).values()) == {1}


def test_failed_page_keeps_the_checkpoint_and_the_next_run_resumes(tmp_path: Path) -> None:
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(hours=1), fail_on_page=2)
    for i in range(9):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=i))
    h = Harness(tmp_path, conn)
    report = h.cycle()
    assert report.failed and report.delivered == 4
    status = h.store.sources()[0]  # type: ignore[union-attr]
    assert "injected failure" in str(status.last_error) and status.cursor == key_of(
        T0 + timedelta(minutes=3))
    assert h.cycle().delivered == 5
    assert sorted(delivered(h.sink_path).values()) == [1] * 9
    assert h.store.sources()[0].last_error is None  # type: ignore[union-attr]


@pytest.mark.parametrize("crash_at", [0, 1, 2, 4])
def test_crash_between_sink_write_and_checkpoint(tmp_path: Path, crash_at: int) -> None:
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(hours=1))
    for i in range(7):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=i // 2))  # ties across pages
    h = Harness(tmp_path, conn)
    store = h.store
    assert store is not None
    crash_on_commit(store, crash_at)
    with pytest.raises(Crash):
        h.cycle()
    written = h.sink_path.read_bytes()
    assert len(sink_lines(h.sink_path)) == [0, 2, 4, 6, 7][crash_at]  # committed pages only
    h.restart()
    h.job.recover()
    assert h.sink_path.read_bytes() == written  # nothing was cut, nothing added
    h.cycle()
    assert h.sink_path.read_bytes().startswith(written)
    assert sorted(delivered(h.sink_path).values()) == [1] * 7


@pytest.mark.parametrize("published", [0, 5, 20])
def test_crash_while_publishing_a_committed_page(tmp_path: Path, monkeypatch: Any,
                                                 published: int) -> None:
    """The job stops after the commit, with none, part or most of the page appended: the
    restart appends exactly the rest (from the side file), and never cuts what readers saw."""
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(hours=1))
    for i in range(6):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=i))
    h = Harness(tmp_path, conn)
    real_append = FileSink._append
    calls = {"n": 0}

    def append_then_crash(sink: FileSink, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the second page
            real_append(sink, data[:published])
            raise Crash
        real_append(sink, data)

    monkeypatch.setattr(FileSink, "_append", append_then_crash)
    with pytest.raises(Crash):
        h.cycle()
    monkeypatch.setattr(FileSink, "_append", real_append)
    seen_by_reader = h.sink_path.read_bytes()
    h.restart()
    h.job.recover()
    assert len(sink_lines(h.sink_path)) == 4 and h.sink_path.read_bytes().startswith(
        seen_by_reader)
    h.cycle()
    assert sorted(delivered(h.sink_path).values()) == [1] * 6


UNORDERED = Source("thing", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1),
                   ordered=False)


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_unordered_pages_crash_mid_window_exactly_once(tmp_path: Path,
                                                       crash_at: int) -> None:
    """An API with no order (ids, not times): a crash after some pages of a window neither
    loses the records still to come (the cursor did not move past them) nor repeats the
    ones delivered (their keys were committed page by page)."""
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(hours=2), by_id=True)
    expected = set()
    for i in range(8):  # id order is newest first: the first page holds the latest records
        when = T0 + timedelta(minutes=100 - 13 * i)
        conn.add("thing", f"r{i}", when)
        expected.add((f"r{i}", key_of(when)))
    h = Harness(tmp_path, conn, sources=[UNORDERED])
    assert h.cycle().delivered == 8  # a first window, complete
    first_cursor = h.store.sources()[0].cursor  # type: ignore[union-attr]
    assert first_cursor == key_of(T0 + timedelta(minutes=119))
    # The next window (from cursor - overlap): each page in time order, but every page older
    # than the one before, so the first page alone shows nothing out of order.
    conn.now_value += timedelta(hours=1)
    for i, minute in enumerate((170, 175, 150, 155, 130, 135, 121, 125)):
        when = T0 + timedelta(minutes=minute)
        conn.add("thing", f"s{i}", when)
        expected.add((f"s{i}", key_of(when)))
    store = h.store
    assert store is not None
    crash_on_commit(store, crash_at)
    with pytest.raises(Crash):
        h.cycle()
    # Pages were committed (their keys), but the cursor waits for the window's end.
    assert h.store.sources()[0].cursor == first_cursor  # type: ignore[union-attr]
    assert h.store.sources()[0].seen_keys > 0  # type: ignore[union-attr]
    h.restart()
    conn.now_value += timedelta(minutes=30)
    assert not h.cycle().failed
    got = delivered(h.sink_path)
    assert set(got) == expected and set(got.values()) == {1}
    assert h.store.sources()[0].cursor == key_of(conn.now_value - timedelta(minutes=1))  # type: ignore[union-attr]


def test_interrupted_first_window_of_an_unordered_source_resumes_where_it_began(
        tmp_path: Path) -> None:
    """No cursor yet (held for the whole first window): a restart later reads again from the
    first window's own start, not from a new ``now - backfill`` that would skip its oldest."""
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(days=1), by_id=True)
    oldest = T0 + timedelta(minutes=5)
    conn.add("thing", "z-oldest", oldest)  # last in id order
    for i in range(5):
        conn.add("thing", f"a{i}", T0 + timedelta(hours=20 + i))
    h = Harness(tmp_path, conn, sources=[UNORDERED], backfill=timedelta(days=1))
    crash_on_commit(h.store, 1)
    with pytest.raises(Crash):
        h.cycle()
    h.restart()
    conn.now_value += timedelta(hours=2)  # now - backfill is past the oldest record
    h.cycle()
    got = delivered(h.sink_path)
    assert got[("z-oldest", key_of(oldest))] == 1 and set(got.values()) == {1}
    assert len(got) == 6
    (status,) = h.store.sources()  # type: ignore[union-attr]
    assert status.backfill_start == key_of(T0)


def test_a_failed_commit_cuts_the_sink_back_before_the_next_source(tmp_path: Path) -> None:
    """The sink fsynced a page, then its commit failed: the page must be cut off at once, or
    the next source's commit records those bytes as committed and the page, fetched again
    next cycle, is in the sink twice."""
    import sqlite3

    other = Source("other", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1))
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(hours=1))
    for i in range(3):
        conn.add("thing", f"t{i}", T0 + timedelta(minutes=i))
        conn.add("other", f"o{i}", T0 + timedelta(minutes=i))
    h = Harness(tmp_path, conn, sources=[SRC, other])
    store = h.store
    assert store is not None
    real_commit = store.commit
    failed = {"done": False}

    def failing_commit(connection: str, source: str, step: Any, **kwargs: Any) -> None:
        if source == "thing" and step.fresh and not failed["done"]:
            failed["done"] = True
            raise sqlite3.OperationalError("database is locked")
        real_commit(connection, source, step, **kwargs)

    store.commit = failing_commit  # type: ignore[method-assign]
    report = h.cycle()
    assert [r.error is None for r in report.runs] == [False, True]
    assert store.sinks()[str(h.sink_path.resolve())] == h.sink_path.stat().st_size
    assert not h.cycle().failed
    got = delivered(h.sink_path)
    assert len(got) == 6 and set(got.values()) == {1}, got


def test_sink_new_to_the_state_keeps_its_content(tmp_path: Path) -> None:
    (tmp_path / "events.ndjson").write_text('{"older": true}\n')
    conn = FakeConnection(now_value=T0 + timedelta(hours=1))
    conn.add("thing", "a", T0)
    h = Harness(tmp_path, conn)
    h.cycle()
    assert (tmp_path / "events.ndjson").read_text().startswith('{"older": true}\n')
    assert h.store.sinks()[str((tmp_path / "events.ndjson").resolve())] == os.path.getsize(  # type: ignore[union-attr]
        tmp_path / "events.ndjson")


def test_one_job_per_state(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    with pytest.raises(UsageError, match="another job"):
        StateStore(tmp_path / "state.db")
    store.close()
    StateStore(tmp_path / "state.db").close()


def test_health_checks_run_on_their_interval_and_failures_are_recorded(tmp_path: Path) -> None:
    conn = FakeConnection(now_value=T0, health_ok=False)
    h = Harness(tmp_path, conn, health_every=300.0)
    assert h.cycle().health[0]["ok"] is False
    assert h.cycle().health == []  # not due yet
    conn.now_value = T0 + timedelta(minutes=6)
    conn.health_ok = True
    assert h.cycle().health[0]["ok"] is True
    (health,) = h.store.health()  # type: ignore[union-attr]
    assert health["ok"] and "AuditLog.Read.All" in health["last_failure"]


def test_several_connections_keep_their_own_checkpoints(tmp_path: Path) -> None:
    a = FakeConnection(id="a/app", label="a", now_value=T0 + timedelta(hours=1))
    b = FakeConnection(id="b/app", label="b", now_value=T0 + timedelta(hours=1),
                       fail_on_page=0)
    a.add("thing", "x", T0)
    b.add("thing", "x", T0)  # the same id in another tenant is another event
    store = StateStore(tmp_path / "state.db")
    sink = FileSink(tmp_path / "events.ndjson")
    job = Job([SRC], [a, b], store, sink, mapper)
    report = job.run_cycle()
    assert [r.error is None for r in report.runs] == [True, False]
    report = job.run_cycle()
    assert report.delivered == 1
    assert {s.connection: s.events_delivered for s in store.sources()} == {"a/app": 1, "b/app": 1}


def test_stream_sink_and_stop_between_pages(tmp_path: Path) -> None:
    conn = FakeConnection(page_size=1, now_value=T0 + timedelta(hours=1))
    for i in range(3):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=i))
    out = io.BytesIO()
    stop = threading.Event()
    store = StateStore(tmp_path / "state.db")
    job = Job([SRC], [conn], store, StreamSink(out), lambda r: {}, stop=stop)
    original = conn.pages

    def pages_then_stop(*args: Any) -> Any:
        for page in original(*args):
            stop.set()  # a signal arrives while the first page is being delivered
            yield page

    conn.pages = pages_then_stop  # type: ignore[method-assign,assignment]
    report = job.run_cycle()
    assert report.runs[0].stopped and report.delivered == 1
    assert len(out.getvalue().splitlines()) == 1
    stop.clear()
    conn.pages = original  # type: ignore[method-assign]
    job.run_cycle()
    assert [json.loads(x)["raw"]["id"] for x in out.getvalue().splitlines()] == ["r0", "r1", "r2"]


def test_run_forever_stops_on_signal(tmp_path: Path) -> None:
    conn = FakeConnection(now_value=T0)
    store = StateStore(tmp_path / "state.db")
    stop = threading.Event()
    job = Job([SRC], [conn], store, StreamSink(io.BytesIO()), mapper, stop=stop)
    assert run_forever(job, 0.0, cycles=3) == 3
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set()
    assert run_forever(job, 3600.0) == 0


def test_progress_display_only_on_a_terminal() -> None:
    quiet = io.StringIO()  # not a terminal: log lines (tests/job/test_progress.py), no display
    Progress(quiet).update("t", "signIn", 5, 1, None, force=True)
    assert quiet.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = Terminal()
    progress = Progress(shown)
    progress.update("t", "signIn", 1500, 2, "2026-11-27T11:41:10.0000000Z", force=True)
    assert "1,500 events" in shown.getvalue()


# -- every schedule of late records, failures and crashes: exactly once --------------------------

operations = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 40), st.integers(0, 9)),    # minute offset, lateness
    st.tuples(st.just("run"), st.sampled_from([None, 0, 1, 2, 3]),  # page that fails
              st.sampled_from([None, 0, 1, 2])),  # commit before which the process dies
    st.tuples(st.just("tick"), st.integers(1, 9), st.just(0)),
), max_size=25)


@pytest.mark.parametrize("ordered", [True, False])
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_schedule_delivers_each_event_exactly_once(tmp_path_factory: Any, ordered: bool,
                                                       ops: list[tuple[Any, ...]]) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(minutes=10), by_id=not ordered)
    h = Harness(tmp, conn, sources=[SRC if ordered else UNORDERED])
    expected: set[tuple[str, str]] = set()
    for n, (op, a, b) in enumerate(ops):
        if op == "add":
            # Stamped up to 9 minutes in the past (inside the 10-minute overlap), visible now.
            when = conn.now_value - timedelta(minutes=b, seconds=a)
            conn.add("thing", f"e{n}", when, visible_from=conn.now_value)
            expected.add((f"e{n}", key_of(when)))
        elif op == "tick":
            conn.now_value += timedelta(minutes=a)
        else:
            conn.fail_on_page = None if a is None else conn.pages_served + a
            store = h.store
            assert store is not None
            if b is not None:  # the process dies after the sink took page b, before its commit
                crash_on_commit(store, b)
            with contextlib.suppress(Crash):
                h.cycle()
            h.restart()
            conn.fail_on_page = None
    conn.now_value += timedelta(minutes=2)  # past the lag of the last record
    h.cycle()
    got = delivered(h.sink_path)
    assert set(got) == expected and set(got.values()) <= {1}
    h.store.close()  # type: ignore[union-attr]
    h.sink.close()  # type: ignore[union-attr]


def test_first_backfill_is_cut_to_the_retention() -> None:
    kept = Source("thing", "ts", overlap=timedelta(minutes=10), max_backfill=timedelta(days=30))
    window = plan_window(Checkpoint(), T0, kept, timedelta(days=45))
    assert window.start == key_of(T0 - timedelta(days=30))


def test_an_interrupted_first_window_resumes_from_its_start_within_the_retention() -> None:
    kept = Source("thing", "ts", overlap=timedelta(minutes=10), max_backfill=timedelta(days=30))
    began = key_of(T0 - timedelta(days=1))
    window = plan_window(Checkpoint(), T0 + timedelta(hours=2), kept, timedelta(days=1),
                         started=began)
    assert window.first and window.start == began
    late = plan_window(Checkpoint(), T0 + timedelta(days=40), kept, timedelta(days=1),
                       started=began)
    assert late.start == key_of(T0 + timedelta(days=10))  # what the service still keeps


def test_long_windows_are_read_in_chunks_each_checkpointed(tmp_path: Path) -> None:
    chunked = Source("thing", "ts", overlap=timedelta(minutes=10), chunk=timedelta(hours=1))
    conn = FakeConnection(page_size=5, now_value=T0 + timedelta(hours=3, minutes=30))
    for i in range(12):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=15 * i))
    conn.add("thing", "edge", T0 + timedelta(hours=1))  # on a chunk bound: read twice
    queries: list[Any] = []
    original = conn.pages

    def recording(source: Source, window: Any) -> Any:
        queries.append(window)
        return original(source, window)

    conn.pages = recording  # type: ignore[method-assign]
    h = Harness(tmp_path, conn, sources=[chunked], backfill=timedelta(hours=3, minutes=30))
    h.cycle()
    assert len(queries) == 4 and all(q.end > q.start for q in queries)
    assert [q.start for q in queries[1:]] == [q.end for q in queries[:-1]]
    assert sorted(delivered(h.sink_path).values()) == [1] * 13


def test_dedup_state_stays_within_the_overlap(tmp_path: Path) -> None:
    conn = FakeConnection(page_size=50, now_value=T0)
    h = Harness(tmp_path, conn)
    sizes = []
    for step in range(48):  # 4 hours, a cycle and 20 events every 5 minutes
        for n in range(20):
            conn.add("thing", f"s{step}-{n}", conn.now_value - timedelta(seconds=90 + n))
        conn.now_value += timedelta(minutes=5)
        h.cycle()
        sizes.append(h.store.sources()[0].seen_keys)  # type: ignore[union-attr]
    assert max(sizes[5:]) <= 3 * 20  # about two cycles' worth: the 10-minute overlap
    assert sum(delivered(h.sink_path).values()) == 48 * 20


def test_a_failed_publish_is_completed_by_recovery(tmp_path: Path, monkeypatch: Any) -> None:
    """Disk full half-way through appending a committed page: recovery appends the rest."""
    sink = FileSink(tmp_path / "events.ndjson")
    sink.recover(None)
    sink.stage(b'{"a":1}\n')
    sink.publish()
    target = sink.stage(b'{"b":2}\n{"c":3}\n')
    staged = sink.staged_size
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:5]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(OSError):
        sink.publish()
    monkeypatch.setattr(os, "write", real_write)
    assert (tmp_path / "events.ndjson").read_bytes() == b'{"a":1}\n{"b":'
    assert sink.recover(target, staged) == target == 24
    assert (tmp_path / "events.ndjson").read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'
    sink.close()


def test_a_sink_changed_by_someone_else_is_never_cut(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"x":1}\n{"y":2}\n')
    sink = FileSink(path)
    assert sink.recover(8, 0) == 16  # longer than committed: kept, appended after
    assert path.read_bytes() == b'{"x":1}\n{"y":2}\n'
    sink.close()


def test_prefetch_keeps_order_raises_in_place_and_closes_early() -> None:
    from executor.job.prefetch import prefetched

    def failing() -> Any:
        yield 1
        yield 2
        raise ConnectionError("page 3")

    got = []
    with pytest.raises(ConnectionError, match="page 3"):
        for page in prefetched(failing()):
            got.append(page)
    assert got == [1, 2]
    closed = threading.Event()

    def endless() -> Any:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    for page in prefetched(endless()):
        if page == 3:
            break
    assert closed.is_set()  # the worker closed the source before the consumer went on


def test_a_cycle_ends_when_its_time_budget_is_spent_and_the_next_resumes(
        tmp_path: Path) -> None:
    """Bounded cycles (issue 11): past the budget, the page in hand is finished and the cycle
    ends; the next cycle resumes from the checkpoint, nothing lost or repeated."""
    conn = FakeConnection(page_size=2, now_value=T0 + timedelta(hours=1))
    for i in range(10):
        conn.add("thing", f"r{i}", T0 + timedelta(minutes=i))
    ticks = {"now": 0.0}

    def monotonic() -> float:
        ticks["now"] += 1.0  # every look at the clock costs a second of this fake cycle
        return ticks["now"]

    no_overlap = Source("thing", "ts", overlap=timedelta(0), lag=timedelta(minutes=1))
    h = Harness(tmp_path, conn, [no_overlap], cycle_budget=3.5, monotonic=monotonic)
    first = h.cycle()
    (run,) = first.runs
    assert run.stopped and 0 < run.delivered < 10 and run.error is None
    for _ in range(10):
        if sum(delivered(h.sink_path).values()) == 10:
            break
        h.cycle()
    assert sorted(delivered(h.sink_path).values()) == [1] * 10
