"""The job against the emulator over real HTTPS, in-process: the clock only moves when it sleeps.

Scenarios from reliability facts "Incremental fetch" (30-36) and the steady-state budget (5).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from executor.job.instants import instant_key, key_of, moment_of
from tests.control import EmulatorControl
from tests.job.emu import GraphJob, emulator_now, event_types, post_records, sink_keys
from tests.job.fakes import Crash, crash_on_commit


@pytest.fixture
def tenant(request: pytest.FixtureRequest) -> Iterator[tuple[Any, EmulatorControl]]:
    """A small frozen emulator of its own (tests add records to it)."""
    from emulator import Emulator

    options: dict[str, Any] = {"seed": 3, "tenants": 2, "signins": 600, "frozen": True}
    options.update(getattr(request, "param", {}))
    with Emulator(**options) as emu:
        yield emu, EmulatorControl(emu)


def iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_two_tenants_three_types_match_the_ground_truth(tenant: Any, tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, tenants=(0, 1), page_size=100)
    report = job.cycle()
    assert not report.failed, report.to_dict()
    missing, unexpected, duplicates = job.compare()
    assert (missing, unexpected, duplicates) == (set(), set(), 0)
    kinds = Counter(k[0] for k in sink_keys(job.sink_path))
    assert set(kinds) == set(event_types().names), kinds  # every event type the manifest declares
    for line in job.sink_path.read_bytes().splitlines(keepends=True):  # orjson wrote them
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"),
                                  default=str).encode() + b"\n"
    job.sleep(600)
    assert job.cycle().delivered == 0  # nothing new: the overlap is re-read, nothing repeated
    job.close()


@pytest.mark.parametrize("crash_at", [0, 3, 7])
def test_crash_between_sink_and_checkpoint_then_restart(tenant: Any, tmp_path: Path,
                                                        crash_at: int) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, tenants=(0,), page_size=50)
    crash_on_commit(job.store, crash_at)
    with pytest.raises(Crash):
        job.cycle()
    job.restart()
    assert not job.cycle().failed
    assert job.compare() == (set(), set(), 0)
    job.close()


def test_late_sign_in_and_offline_detection_are_delivered_once(tenant: Any,
                                                               tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=("signIn", "riskDetection"))
    job.cycle()
    tid = job.tenant_ids()[0]
    now = moment_of(instant_key(emulator_now(control)))
    cursor = {s.source: s.cursor for s in job.store.sources()}
    late_signin = moment_of(str(cursor["signIn"])) - timedelta(minutes=4)
    post_records(control, "signIns", [{"id": "0c0ffee0-0000-4000-8000-000000000001",
                                       "createdDateTime": iso(late_signin)}], tenant=tid,
                 visible_from=iso(now + timedelta(seconds=30)))
    offline = now - timedelta(hours=47)  # surfaces 47 h after it was detected and updated
    post_records(control, "riskDetections", [{
        "id": "0c0ffee0-0000-4000-8000-000000000002", "detectedDateTime": iso(offline),
        "activityDateTime": iso(offline), "lastUpdatedDateTime": iso(offline),
        "detectionTimingType": "offline"}], tenant=tid,
        visible_from=iso(now + timedelta(seconds=30)))
    assert job.cycle().delivered == 0  # not visible yet
    job.sleep(120)
    assert job.cycle().delivered == 2
    job.sleep(120)
    assert job.cycle().delivered == 0
    got = sink_keys(job.sink_path)
    assert got[("signIn", "0c0ffee0-0000-4000-8000-000000000001", key_of(late_signin))] == 1
    assert got[("riskDetection", "0c0ffee0-0000-4000-8000-000000000002", key_of(offline))] == 1
    assert job.compare() == (set(), set(), 0)
    job.close()


def test_risky_user_update_is_a_new_event(tenant: Any, tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=("riskUser",))
    job.cycle()
    tid = job.tenant_ids()[0]
    before = sink_keys(job.sink_path)
    user_id = next(iter(before))[1]
    now = moment_of(instant_key(emulator_now(control)))
    post_records(control, "riskyUsers", [{"id": user_id, "riskState": "dismissed",
                                          "riskLastUpdatedDateTime": iso(now)}], tenant=tid)
    job.sleep(120)
    report = job.cycle()
    assert report.delivered == 1
    after = sink_keys(job.sink_path)
    assert [k for k in after if k[1] == user_id] == [
        k for k in before if k[1] == user_id] + [("riskUser", user_id, key_of(now))]
    assert set(after.values()) == {1}
    job.close()


def test_ties_at_the_page_and_run_boundary(tenant: Any, tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=("signIn",), page_size=2,
                   backfill=timedelta(minutes=30))
    tid = job.tenant_ids()[0]
    now = moment_of(instant_key(emulator_now(control)))
    tie = now - timedelta(minutes=5)
    ids = [f"71e00000-0000-4000-8000-00000000000{n}" for n in range(4)]
    post_records(control, "signIns", [{"id": i, "createdDateTime": iso(tie)} for i in ids[:3]],
                 tenant=tid)
    job.cycle()
    # A fourth at the same instant surfaces after the run: same cursor value, new id.
    post_records(control, "signIns", [{"id": ids[3], "createdDateTime": iso(tie)}], tenant=tid,
                 visible_from=iso(now + timedelta(seconds=10)))
    job.sleep(60)
    job.cycle()
    got = sink_keys(job.sink_path)
    assert [got[("signIn", i, key_of(tie))] for i in ids] == [1, 1, 1, 1]
    assert job.compare() == (set(), set(), 0)
    job.close()


@pytest.mark.parametrize("tenant", [{"signins": 12000, "rate_limits": True}], indirect=True)
def test_steady_state_under_rate_limits_gets_no_429(tenant: Any, tmp_path: Path) -> None:
    """A busy tenant (12,000 sign-ins in the backfill, then new ones each cycle): paced, the
    job never hits the emulator's per-tenant limits (5 per 10 s sign-ins, 1 per s identity
    protection)."""
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, page_size=500, pace=True, health_every=300.0)
    control.clear_requests()
    for _ in range(4):
        report = job.cycle()
        assert not report.failed, report.to_dict()
        job.sleep(60)  # the schedule's interval, on the emulator clock
    statuses = Counter(r["status"] for r in control.graph_requests())
    assert statuses[429] == 0, statuses
    assert sum(statuses.values()) > 30
    assert job.compare() == (set(), set(), 0)
    job.close()


@pytest.mark.parametrize("crash_at", [1, 2])
def test_unordered_risk_pages_crash_mid_window_exactly_once(tenant: Any, tmp_path: Path,
                                                            crash_at: int) -> None:
    """identityProtection takes no ``$orderby``: the emulator pages risky users in its own id
    order. Ids chosen so that each page is in time order but every page is older than the one
    before (nothing looks out of order on the first page), and spread wider than the overlap:
    a cursor moved by the first page would skip the later pages after a crash."""
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=("riskUser", "riskDetection"), page_size=5)
    assert not job.cycle().failed
    tid = job.tenant_ids()[0]
    job.sleep(6 * 3600)
    now = moment_of(instant_key(emulator_now(control)))
    hours = (5.5, 5.6, 5.7, 5.8, 5.9, 3.6, 3.7, 3.8, 3.9, 4, 1.6, 1.7, 1.8, 1.9, 2, 0.5)
    post_records(control, "riskyUsers", [
        {"id": f"00000000-0000-4000-8000-{n:012d}",
         "riskLastUpdatedDateTime": iso(now - timedelta(hours=6 - h))}
        for n, h in enumerate(hours)], tenant=tid)
    crash_on_commit(job.store, crash_at)
    with pytest.raises(Crash):
        job.cycle()
    job.restart()
    report = job.cycle()
    assert not report.failed, report.to_dict()
    assert job.compare() == (set(), set(), 0)
    got = sink_keys(job.sink_path)
    assert sum(1 for k in got if k[1].startswith("00000000-0000-4000-8000-")) == len(hours)
    requests = control.graph_requests()
    risk = [r for r in requests if "identityProtection" in r["path"]]
    assert risk and all(r["status"] != 400 for r in risk)
    job.close()


@pytest.mark.parametrize("tenant", [{"signins": 3000, "rate_limits": True}], indirect=True)
def test_back_to_back_runs_get_no_429(tenant: Any, tmp_path: Path) -> None:
    """Five runs, each a new process's pacer (restart), one right after the other on the
    emulator's clock: the pacing kept in the state makes each run wait for the last one's
    requests instead of meeting Graph's limits."""
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, page_size=500, pace=True)
    control.clear_requests()
    waited_at_start = []
    for _ in range(5):
        job.restart()
        before = len(job.slept)
        report = job.cycle()
        assert not report.failed, report.to_dict()
        waited_at_start.append(len(job.slept) > before)
    statuses = Counter(r["status"] for r in control.graph_requests())
    assert statuses[429] == 0, statuses
    assert all(waited_at_start[1:])  # every later run paced behind the one before
    assert job.compare() == (set(), set(), 0)
    job.close()
