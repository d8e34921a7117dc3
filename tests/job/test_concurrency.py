"""The concurrent runner: connections (and the sources of one connection) are read at once,
within the cap; the sink and the state still see one page at a time, exactly once."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from executor.job import FileSink, Job, Source, StateStore
from executor.job.model import Window
from tests.job.fakes import T0, FakeConnection

THING = Source("thing", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1))
OTHER = Source("other", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1))
NOW = T0 + timedelta(hours=1)
WAIT = 30.0
"""A bound on a barrier wait, not a pause: the runner under test lets the parties meet at once;
a runner that reads one connection after another breaks the barrier instead."""


def mapper(record: Any) -> dict[str, Any]:
    return {"id": record["id"]}


@dataclass
class MeetingConnection(FakeConnection):
    """Its first page is served only once every party's first page is being asked for."""

    meeting: threading.Barrier | None = None
    active: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    concurrent_sources: bool = False
    patience: float = WAIT

    def pages(self, source: Source, window: Window) -> Iterator[list[dict[str, Any]]]:
        with self.lock:
            self.active["now"] += 1
            self.active["most"] = max(self.active["most"], self.active["now"])
        try:
            if self.meeting is not None:
                self.meeting.wait(self.patience)
            yield from super().pages(source, window)
        finally:
            with self.lock:
                self.active["now"] -= 1


def connections(count: int, meeting: threading.Barrier | None, records: int = 7,
                sources: tuple[Source, ...] = (THING,), **options: Any
                ) -> list[MeetingConnection]:
    active: Counter[str] = Counter()
    lock = threading.Lock()
    made = []
    for index in range(count):
        conn = MeetingConnection(id=f"t{index}/app", label=f"t{index}", now_value=NOW,
                                 page_size=2, meeting=meeting, active=active, lock=lock,
                                 **options)
        for source in sources:
            for number in range(records):
                conn.add(source.name, f"{source.name}-{number}", T0 + timedelta(minutes=number))
        made.append(conn)
    return made


def delivered(sink: Path) -> Counter[tuple[str, str]]:
    lines = [json.loads(line) for line in sink.read_bytes().splitlines()]
    return Counter((line["event_type"], line["fields"]["id"]) for line in lines)


def job(tmp_path: Path, conns: list[MeetingConnection], sources: list[Source],
        **options: Any) -> tuple[Job, StateStore]:
    store = StateStore(tmp_path / "state.db")
    sink = FileSink(tmp_path / "events.ndjson", owner=store.identity)
    return Job(sources, conns, store, sink, mapper, **options), store


def test_connections_are_read_at_once_and_each_event_lands_once(tmp_path: Path) -> None:
    conns = connections(4, threading.Barrier(4))
    run, store = job(tmp_path, conns, [THING], max_concurrency=4)
    report = run.run_cycle()
    assert [r.error for r in report.runs] == [None] * 4
    assert [r.connection for r in report.runs] == [c.id for c in conns]  # the report's order
    assert report.delivered == 28
    lines = (tmp_path / "events.ndjson").read_bytes().splitlines()
    assert len(lines) == 28 and all(line.startswith(b"{") for line in lines)  # no interleaving
    assert {s.connection: s.events_delivered for s in store.sources()} == \
        {c.id: 7 for c in conns}
    assert conns[0].active["most"] == 4
    assert run.run_cycle().delivered == 0  # the next cycle re-reads the overlap, delivers nothing


def test_the_cap_bounds_connections_read_at_once(tmp_path: Path) -> None:
    conns = connections(5, threading.Barrier(2))  # pairs meet; a fifth party would wait alone
    conns[4].meeting = None
    run, _ = job(tmp_path, conns, [THING], max_concurrency=2)
    report = run.run_cycle()
    assert [r.error for r in report.runs] == [None] * 5
    assert conns[0].active["most"] == 2


def test_one_after_another_with_a_cap_of_one(tmp_path: Path) -> None:
    conns = connections(2, threading.Barrier(2), patience=0.2)
    run, _ = job(tmp_path, conns, [THING], max_concurrency=1)
    report = run.run_cycle()  # the control: the barrier breaks when nothing runs at once
    assert all(r.error is not None for r in report.runs)
    assert conns[0].active["most"] == 1


def test_sources_of_a_connection_are_read_at_once_when_it_can(tmp_path: Path) -> None:
    conns = connections(1, threading.Barrier(2), sources=(THING, OTHER),
                        concurrent_sources=True)
    run, _ = job(tmp_path, conns, [THING, OTHER])
    report = run.run_cycle()
    assert [(r.source, r.error, r.delivered) for r in report.runs] == \
        [("thing", None, 7), ("other", None, 7)]
    assert delivered(tmp_path / "events.ndjson") == Counter(
        {(s, f"{s}-{n}"): 1 for s in ("thing", "other") for n in range(7)})


def test_a_failing_connection_leaves_the_others_whole(tmp_path: Path) -> None:
    conns = connections(3, threading.Barrier(3))
    conns[1].fail_on_page = 1  # after its first page was delivered
    run, store = job(tmp_path, conns, [THING])
    report = run.run_cycle()
    assert [r.error is None for r in report.runs] == [True, False, True]
    assert [r.delivered for r in report.runs] == [7, 2, 7]
    for conn in conns:
        conn.meeting = None
    assert run.run_cycle().delivered == 5  # the failed one resumes from its checkpoint
    assert sum(delivered(tmp_path / "events.ndjson").values()) == 21
    assert {s.events_delivered for s in store.sources()} == {7}
