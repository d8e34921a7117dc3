"""Chaos: the job as its own process, SIGKILLed at random points, against a faulty emulator.

A month of seeded records in three event types and two tenants; 20 % of requests fail (429 or
5xx) and some connections drop; late records (sign-ins minutes old, offline detections 47 h old,
new risky users) surface between runs. The job runs as ``python -m commands.job_cli run`` and is
killed with SIGKILL, then started again, five times: half the time from outside after a random
number of its log lines, half the time from inside (``tests.job.crashing_job``) just before a
random page's checkpoint, after the sink has fsynced that page. Then it runs until a cycle
succeeds. The sink must equal the ground truth: no event missing, none twice. Three seeds in
``make test``; twenty in ``make chaos``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from executor.job import StateStore
from executor.job.instants import instant_key, moment_of
from tests.control import EmulatorControl
from tests.job.emu import check_cursors, emulator_now, expected_keys, post_records, sink_keys

ROOT = Path(__file__).resolve().parents[2]
SIGNINS = 1500  # per tenant, over the 30 days before the emulator's clock
KILLS = 5
FAULTS = {"rate": 0.2, "statuses": [429, 500, 502, 503, 504], "retry_after": 0.2,
          "drop_rate": 0.03}


def iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def job_argv(tmp: Path, connections: list[Path]) -> list[str]:
    argv = [sys.executable, "-m", "commands.job_cli", "--log-level", "DEBUG", "run",
            "--state", str(tmp / "state.db"), "--sink", str(tmp / "events.ndjson"),
            "--backfill-days", "30", "--page-size", "100", "--no-pace",
            "--retry-base-delay", "0.05", "--retry-max-wait", "20", "--health-check-every", "0"]
    for path in connections:
        argv += ["--connection", str(path)]
    return argv


def run_job(argv: list[str], kill_after_lines: int | None) -> tuple[int, bool, bool]:
    """Run the job; SIGKILL it after that many stderr lines.

    (exit code, killed, whether it started by cutting an uncommitted page off the sink)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
    assert process.stderr is not None
    killed = cut = False
    for lines, line in enumerate(process.stderr, start=1):
        cut = cut or b"written after the last checkpoint" in line
        if kill_after_lines is not None and lines >= kill_after_lines:
            process.send_signal(signal.SIGKILL)
            killed = True
            break
    process.stderr.close()
    return process.wait(), killed, cut


def inject_late(control: EmulatorControl, tenants: list[str], rng: random.Random,
                serial: Callable[[], int]) -> int:
    """Records stamped in the past that surface a few seconds from now."""
    now = moment_of(instant_key(control.get("clock")["now"]))
    visible = iso(now + timedelta(seconds=rng.randint(1, 20)))
    added = 0
    for tid in tenants:
        stamp = now - timedelta(minutes=rng.randint(1, 10))
        post_records(control, "signIns", [{"id": f"1a7e0000-0000-4000-8000-{serial():012d}",
                                           "createdDateTime": iso(stamp)}],
                     tenant=tid, visible_from=visible)
        offline = now - timedelta(hours=47)
        post_records(control, "riskDetections", [{
            "id": f"1a7e0000-0000-4000-9000-{serial():012d}", "detectedDateTime": iso(offline),
            "activityDateTime": iso(offline), "lastUpdatedDateTime": iso(offline),
            "detectionTimingType": "offline"}], tenant=tid, visible_from=visible)
        post_records(control, "riskyUsers", [{
            "id": f"1a7e0000-0000-4000-a000-{serial():012d}",
            "riskLastUpdatedDateTime": iso(now - timedelta(minutes=rng.randint(1, 90)))}],
            tenant=tid, visible_from=visible)
        added += 3
    return added


def chaos_run(seed: int, tmp: Path) -> dict[str, Any]:
    from emulator import Emulator

    started = time.monotonic()
    rng = random.Random(seed)
    counter = iter(range(1, 10**9))
    with Emulator(seed=seed, tenants=2, signins=SIGNINS) as emu:
        control = EmulatorControl(emu)
        tenants = list(emu.tenant_ids)
        connections = []
        for index in range(2):
            path = tmp / f"tenant{index}.yaml"
            path.write_text(yaml.safe_dump(emu.connection(tenant=index)))
            connections.append(path)
        control.faults(**FAULTS, seed=seed)
        argv = job_argv(tmp, connections)
        kills = late = runs = cuts = 0
        for _ in range(KILLS):
            if rng.random() < 0.7:
                late += inject_late(control, tenants, rng, lambda: next(counter))
            if rng.random() < 0.5:  # from outside, after a random number of log lines
                _, killed, cut = run_job(argv, rng.randint(3, 120))
            else:  # from inside, between the sink's fsync and the checkpoint of a page
                crashing = [argv[0], "-m", "tests.job.crashing_job", str(rng.randint(1, 25))]
                code, _, cut = run_job(crashing + argv[3:], None)
                killed = code == -signal.SIGKILL
            runs += 1
            kills += killed
            cuts += cut
        control.advance(120)  # everything injected is visible and older than now - lag
        for _ in range(8):
            run_began = emulator_now(control)
            code, _, cut = run_job(argv, None)
            runs += 1
            cuts += cut
            if code == 0:
                break
        assert code == 0, "the job did not complete a clean cycle in 8 runs under faults"
        requests = control.graph_requests()
        control.faults()
        store = StateStore(tmp / "state.db", readonly=True)
        try:
            status = store.sources()
            check_cursors(status, tenants, run_began)  # the clean run's windows reached now
            want = expected_keys(control, status, tenants)
        finally:
            store.close()
    got = sink_keys(tmp / "events.ndjson")
    missing = want - set(got)
    unexpected = set(got) - want
    duplicates = sum(n - 1 for n in got.values())
    return {"seed": seed, "runs": runs, "killed": kills, "sink_cut_back": cuts,
            "late_records": late,
            "requests": len(requests),
            "faulted": sum(1 for r in requests if (r["status"] or 0) >= 429),
            "dropped": sum(1 for r in requests if r["status"] is None),
            "expected": len(want), "delivered": sum(got.values()), "missing": len(missing),
            "unexpected": len(unexpected), "duplicates": duplicates,
            "seconds": round(time.monotonic() - started, 1),
            "_detail": (sorted(missing)[:5], sorted(unexpected)[:5])}


def _check(figures: dict[str, Any], record_property: Callable[[str, Any], None]) -> None:
    detail = figures.pop("_detail")
    record_property("figures", " ".join(f"{k}={v}" for k, v in figures.items()))
    print(figures)
    assert figures["killed"] >= 1
    assert (figures["missing"], figures["unexpected"], figures["duplicates"]) == (0, 0, 0), detail
    assert figures["delivered"] == figures["expected"]


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_chaos(seed: int, tmp_path: Path, record_property: Callable[[str, Any], None]) -> None:
    _check(chaos_run(seed, tmp_path), record_property)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 21))
def test_chaos_soak(seed: int, tmp_path: Path,
                   record_property: Callable[[str, Any], None]) -> None:
    _check(chaos_run(seed * 7919, tmp_path), record_property)


def test_job_start_stops_cleanly_on_sigterm(tmp_path: Path, emulator: Any,
                                            control: EmulatorControl) -> None:
    """``job start``: a cycle, then SIGTERM while it waits; exit 0, ``job status`` agrees."""
    connection = tmp_path / "tenant.yaml"
    connection.write_text(yaml.safe_dump(emulator.connection()))
    argv = job_argv(tmp_path, [connection])
    argv[argv.index("run")] = "start"
    argv += ["--every", "3600", "--event-type", "riskUser"]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": path}, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "cycle done" in line:
            process.send_signal(signal.SIGTERM)
            break
    assert process.wait(timeout=60) == 0
    status = subprocess.run([sys.executable, "-m", "commands.job_cli", "status", "--state",
                             str(tmp_path / "state.db")], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": path}, check=True)
    (source,) = json.loads(status.stdout)["sources"]
    assert source["event_type"] == "riskUser" and source["last_error"] is None
    assert source["events_delivered"] == len(sink_keys(tmp_path / "events.ndjson")) > 0
