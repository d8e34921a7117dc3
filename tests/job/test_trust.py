"""Issue 11 cases 1-5: clocks and times not trusted, one writer per sink and per state, the
90-day wall after an outage, and readers that only ever see committed events.

Each failed before the issue's work: a cursor followed Graph's clock 30 days ahead or a
``2099-01-01`` record; a malformed time failed its source every cycle; a second state cut a
shared sink; a symlink opened one state twice; a 100-day outage gave ``400`` forever; a crash cut
the sink that a tailer had already read.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from commands.graph.client import GraphClient
from commands.graph.retry import RetryPolicy
from commands.graph.settings import GraphSettings
from commands.job_sources import GraphConnection, job_source
from executor.errors import UsageError
from executor.job import FileSink, Job, SinkInUse, StateStore
from executor.job.instants import instant_key, key_of, moment_of
from executor.redaction import Redactor
from tests.control import EmulatorControl
from tests.hostile import HostileGraph, Reply
from tests.job.emu import GraphJob, emulator_now, event_types, mapper, post_records, sink_keys
from tests.job.fakes import Crash, crash_on_commit

DAY = timedelta(days=1)


@pytest.fixture
def tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    from emulator import Emulator

    with Emulator(seed=5, tenants=1, signins=200, frozen=True) as emu:
        yield emu, EmulatorControl(emu)


def _now(control: EmulatorControl) -> datetime:
    return moment_of(instant_key(emulator_now(control)))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_sign_in(control: EmulatorControl, tenant_id: str) -> str:
    (record,) = post_records(control, "signIns", [{}], tenant=tenant_id)["value"]
    return str(record["id"]).lower()


def _ids(path: Path) -> Counter[str]:
    return Counter(key[1] for key in sink_keys(path))


# -- case 1: clocks and timestamps --------------------------------------------------------------

def test_case1_graph_clock_30_days_ahead_does_not_carry_the_cursor(tenant: Any,
                                                                   tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=["signIn"], backfill=DAY)
    assert not job.cycle().failed
    before = _now(control)
    control.post("clock", {"advance_seconds": 30 * 86_400})
    job.local_offset = -timedelta(days=30)  # only Graph's clock jumped; the host's did not
    for _ in range(2):  # the first learns Graph's new time from its answers' Date
        (run,) = job.cycle().runs
        assert run.error is None
        assert run.cursor <= key_of(before + timedelta(minutes=10))
    assert run.clock_skew_seconds == pytest.approx(30 * 86_400, abs=5)
    (status,) = job.store.sources()
    assert status.clock_skew_seconds == pytest.approx(30 * 86_400, abs=5)
    control.post("clock", {"now": _iso(before + timedelta(minutes=1))})  # and back
    job.local_offset = timedelta(0)
    fresh = _new_sign_in(control, job.tenant_ids()[0])
    job.sleep(300)
    assert not job.cycle().failed
    assert _ids(job.sink_path)[fresh] == 1  # the first event after the jump is delivered
    job.close()


def _hostile_job(graph: HostileGraph, tmp: Path, now: datetime) -> tuple[Job, GraphConnection]:
    settings = GraphSettings.from_connection(graph.connection())
    client = GraphClient(settings, redactor=Redactor(), retry=RetryPolicy(max_attempts=1),
                         pace=False)
    connection = GraphConnection(client, event_types(), event_types=["signIn"],
                                 local_now=lambda: now)
    store = StateStore(tmp / "state.db")
    sink = FileSink(tmp / "events.ndjson", owner=store.identity)
    job = Job([job_source("signIn")], [connection], store, sink, mapper(), backfill=DAY,
              clock=lambda: now)
    return job, connection


def _sign_in(rid: Any, when: Any, upn: str = "a@contoso.com") -> dict[str, Any]:
    record: dict[str, Any] = {"userPrincipalName": upn, "status": {"errorCode": 0}}
    if rid is not None:
        record["id"] = rid
    if when is not None:
        record["createdDateTime"] = when
    return record


def test_case1_odd_records_never_move_the_cursor_and_go_to_dead_letters(tmp_path: Path) -> None:
    """A server that ignores the filter and sends a 2099 record, a month 13, records without
    a time or an id, and a non-object: the source goes on, the cursor stays in the window."""
    now = datetime.now(UTC).replace(microsecond=0)
    good = _iso(now - timedelta(hours=2))
    page = {"value": [
        _sign_in("good-1", good),
        _sign_in("future-1", "2099-01-01T00:00:00Z"),
        _sign_in("bad-time", "2026-13-45T25:61:61Z"),
        _sign_in("no-time", None),
        _sign_in(None, good, "b@contoso.com"),  # no id, one timestamp: never one event
        _sign_in(None, good, "c@contoso.com"),
        "not an object",
    ]}
    body = json.dumps(page).encode()
    with HostileGraph(lambda path, q: Reply(body=body), roles=["AuditLog.Read.All"]) as graph:
        job, _ = _hostile_job(graph, tmp_path, now)
        for _ in range(2):
            (run,) = job.run_cycle().runs
            assert run.error is None
            assert run.cursor is not None and run.cursor <= key_of(now)
        job.store.close()
        job.sink.close()
    assert _ids(tmp_path / "events.ndjson") == Counter({"good-1": 1, "future-1": 1})
    letters = [json.loads(line) for line in
               (tmp_path / "state.db.dead-letters.ndjson").read_text().splitlines()]
    reasons = sorted(letter["reason"] for letter in letters)
    assert len(letters) == 5  # filed once, though served on both cycles
    assert reasons == sorted(["createdDateTime is not a time: '2026-13-45T25:61:61Z'",
                              "no createdDateTime", "no id", "no id",
                              "not an object but str"])
    (status,) = StateStore(tmp_path / "state.db", readonly=True).sources()
    assert status.dead_letters == 5 and status.last_error is None


# -- cases 2 and 3: one writer per sink, one job per state --------------------------------------

def test_case2_a_second_state_on_one_sink_is_refused(tmp_path: Path) -> None:
    sink_path = tmp_path / "events.ndjson"
    first = StateStore(tmp_path / "signins.db")
    FileSink(sink_path, owner=first.identity).close()
    first.close()
    second = StateStore(tmp_path / "detections.db")
    with pytest.raises(SinkInUse, match="belongs to another job state"):
        FileSink(sink_path, owner=second.identity)
    second.close()
    again = StateStore(tmp_path / "signins.db")  # its own state may reopen it
    FileSink(sink_path, owner=again.identity).close()
    again.close()


def test_case2_two_jobs_on_one_sink_at_once_are_refused(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "events.ndjson")
    with pytest.raises(SinkInUse, match="another job is writing this sink"):
        FileSink(tmp_path / "events.ndjson")
    sink.close()


def test_case2_the_job_command_refuses_a_shared_sink(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from commands import job_cli

    sink = tmp_path / "events.ndjson"
    first = StateStore(tmp_path / "a.db")
    FileSink(sink, owner=first.identity).close()
    first.close()
    code = job_cli.main(["run", "--connection", str(tmp_path / "c.yaml"), "--state",
                         str(tmp_path / "b.db"), "--sink", str(sink)])
    assert code == 2
    err = capsys.readouterr().err
    assert "belongs to another job state" in err and "--event-type" in err


def test_case3_a_symlink_to_a_state_in_use_is_refused(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    (tmp_path / "link.db").symlink_to(tmp_path / "state.db")
    with pytest.raises(UsageError, match="another job is running on the state"):
        StateStore(tmp_path / "link.db")
    store.close()
    StateStore(tmp_path / "link.db").close()


# -- case 4: the 90-day wall --------------------------------------------------------------------

def test_case4_after_a_100_day_outage_signins_resume_and_the_gap_is_named(
        tenant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=["signIn"], backfill=DAY)
    assert not job.cycle().failed
    (before,) = job.store.sources()
    job.sleep(100 * 86_400)
    fresh = _new_sign_in(control, job.tenant_ids()[0])
    job.sleep(300)
    (run,) = job.cycle().runs
    assert run.error is None and run.gap is not None
    assert run.gap[0] < before.cursor and run.gap[1] > before.cursor
    assert _ids(job.sink_path)[fresh] == 1
    job.close()
    from commands import job_cli

    assert job_cli.main(["status", "--state", str(tmp_path / "state.db")]) == 0
    (source,) = json.loads(capsys.readouterr().out)["sources"]
    assert (source["gap_from"], source["gap_to"]) == run.gap


def test_case4_reset_moves_one_source_on_purpose(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from commands import job_cli
    from executor.job.model import Checkpoint
    from executor.job.step import Step

    store = StateStore(tmp_path / "state.db")
    for source in ("signIn", "riskUser"):
        store.run_started("t/app", source, "t", "2026-01-01T00:00:00Z")
        store.commit("t/app", source, Step([], Checkpoint("2026-01-01T00:00:00.0000000Z",
                                                          {"k|x": "2026-01-01T00:00:00.0000000Z"}),
                                           {"k|x": "2026-01-01T00:00:00.0000000Z"}),
                     sink_path=None, sink_length=None)
    store.close()
    state = str(tmp_path / "state.db")
    assert job_cli.main(["reset", "--state", state, "--source", "Sign-in Logs",
                         "--since", "2026-11-01T00:00:00Z"]) == 0
    assert json.loads(capsys.readouterr().out)["reset"] == "signIn"
    rows = {s.source: s for s in StateStore(state, readonly=True).sources()}
    assert rows["signIn"].cursor == "2026-11-01T00:00:00.0000000Z"
    assert rows["signIn"].seen_keys == 0
    assert rows["riskUser"].cursor == "2026-01-01T00:00:00.0000000Z"  # untouched
    assert job_cli.main(["reset", "--state", state, "--source", "riskUser",
                         "--since", "3026-01-01T00:00:00Z"]) == 2


# -- case 5: readers see committed events only ---------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
def test_case5_a_tailer_never_sees_a_truncation_or_a_repeat(tenant: Any, tmp_path: Path,
                                                            seed: int) -> None:
    """Twelve crashes at different commits; after each, what a reader had read is still the
    start of the file, and no event is in it twice."""
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=["signIn", "riskDetection"], page_size=20,
                   backfill=DAY)
    read = b""
    for cycle in range(12):
        crash_on_commit(job.store, (seed * 7 + cycle * 3) % 9)
        with contextlib.suppress(Crash):
            job.cycle()
        now = job.sink_path.read_bytes()
        assert now.startswith(read), f"cycle {cycle}: the sink was cut under a reader"
        assert now.endswith(b"\n") or not now
        read = now
        job.restart()
        post_records(control, "signIns", [{}, {}], tenant=job.tenant_ids()[0])
        job.sleep(120)
    assert not job.cycle().failed
    assert job.sink_path.read_bytes().startswith(read)
    assert max(sink_keys(job.sink_path).values()) == 1
    missing, unexpected, duplicates = job.compare()
    assert (missing, unexpected, duplicates) == (set(), set(), 0)
    job.close()


# -- the same odd records from the emulator ("verbatim": served exactly as given) -------------

def test_case1_and_12_verbatim_odd_records_from_the_emulator(tenant: Any,
                                                             tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=["signIn"], backfill=DAY)
    assert not job.cycle().failed
    good = _iso(_now(control) - timedelta(minutes=30))
    odd = [_sign_in("2099-record", "2099-01-01T00:00:00Z"),
           _sign_in("month-13", "2026-13-45T25:61:61Z"), _sign_in("no-time", None),
           _sign_in(None, good, "b@contoso.com"), _sign_in(None, good, "c@contoso.com"), 42]
    control.post("records/signIns", {"records": odd, "verbatim": True},
                 tenant=job.tenant_ids()[0])
    for _ in range(2):
        job.sleep(120)
        (run,) = job.cycle().runs
        assert run.error is None, run.error
        assert run.cursor <= key_of(_now(control))
    assert _ids(job.sink_path)["2099-record"] == 1
    letters = (tmp_path / "state.db.dead-letters.ndjson").read_text().splitlines()
    assert len(letters) == 5  # month 13, no time, two without id, 42: each filed once
    fresh = _new_sign_in(control, job.tenant_ids()[0])
    job.sleep(120)
    assert not job.cycle().failed and _ids(job.sink_path)[fresh] == 1  # the source goes on
    job.close()


def test_case12_a_list_command_reports_a_verbatim_non_object(tenant: Any) -> None:
    from connector import Connector

    emu, control = tenant
    control.post("records/riskyUsers", {"records": ["not an object"], "verbatim": True})
    result = Connector.load().run("List Risky Users", {}, emu.connection())
    assert result["status"] == "Failed"
    assert result["errors"][0]["message"].startswith(
        "Graph sent an unexpected response (item ")
