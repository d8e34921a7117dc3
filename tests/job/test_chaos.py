"""Chaos: the job as its own process, SIGKILLed at random points, against a faulty emulator.

A month of seeded records in three event types and two tenants; 20 % of requests fail (429 or
5xx) and some connections drop; late records (sign-ins minutes old, offline detections 47 h old,
new risky users) surface between runs. The job runs as ``python -m commands.job_cli run`` and is
killed with SIGKILL, then started again, five times: half the time from outside after a random
number of its log lines, half the time from inside (``tests.job.crashing_job``) just before a
random page's checkpoint (the page staged) or half-way through publishing it. Then it runs until
a cycle succeeds. The sink must equal the ground truth: no event missing, none twice. Three seeds
in ``make test``; twenty in ``make chaos``.

The tailer scenario (issue 11) adds a reader: a thread following the sink as ``tail -F`` does
(by offset, re-reading from 0 when the file shrinks or is replaced) while the job is killed 24
times and Graph's clock jumps 30 days ahead and back, then 30 days behind and back, with a
sign-in dated 2099 and one dated 2026-13-45T25:61:61Z (the emulator's verbatim store) injected
(late records are injected only while Graph's clock is right). The
reader must see no truncation, no duplicate, and nothing that
is missing from the final sink, which must equal the ground truth. One short run in
``make test``, five seeds in ``make chaos``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
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

    (exit code, killed, whether it started by publishing the rest of a committed page)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
    assert process.stderr is not None
    killed = cut = False
    for lines, line in enumerate(process.stderr, start=1):
        cut = cut or b"publishing the last" in line
        if kill_after_lines is not None and lines >= kill_after_lines:
            process.send_signal(signal.SIGKILL)
            killed = True
            break
    process.stderr.close()
    return process.wait(), killed, cut



def settle_and_truth(control: EmulatorControl, argv: list[str], state: Path,
                     tenants: list[str]) -> tuple[int, set[Any]]:
    """After the faulted runs: let Graph's late records arrive, run the job until one clean
    cycle completes (at most 8 runs), clear the faults, check every cursor against the last
    run's start and return (runs made, the keys the sink must hold) from the emulator's truth."""
    control.advance(120)
    code, runs = None, 0
    for _ in range(8):
        run_began = emulator_now(control)
        code, _, _ = run_job(argv, None)
        runs += 1
        if code == 0:
            break
    assert code == 0, "the job did not complete a clean cycle in 8 runs"
    control.faults()
    store = StateStore(state, readonly=True)
    try:
        status = store.sources()
        check_cursors(status, tenants, run_began)
        return runs, expected_keys(control, status, tenants)
    finally:
        store.close()

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
                point = rng.choice(["", "p"]) + str(rng.randint(1, 25))
                crashing = [argv[0], "-m", "tests.job.crashing_job", point]
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
    return {"seed": seed, "runs": runs, "killed": kills, "sink_completed": cuts,
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


# -- the tailer scenario ---------------------------------------------------------------------------

class Tailer(threading.Thread):
    """Follows a file as ``tail -F`` does: by offset; a shrinking or replaced file is read again
    from its start (which is how a log shipper turns a cut into duplicates)."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="tailer", daemon=True)
        self.path = path
        self.offset = 0
        self.inode: int | None = None
        self.partial = b""
        self.lines: list[bytes] = []
        self.truncations = 0
        self.replacements = 0
        self.done = threading.Event()

    def poll(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return
        if self.inode is not None and info.st_ino != self.inode:
            self.replacements += 1
            self.offset, self.partial = 0, b""
        self.inode = info.st_ino
        if info.st_size < self.offset:
            self.truncations += 1
            self.offset, self.partial = 0, b""
        if info.st_size > self.offset:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(info.st_size - self.offset)
            self.offset += len(data)
            *complete, self.partial = (self.partial + data).split(b"\n")
            self.lines += complete

    def run(self) -> None:
        while not self.done.wait(0.005):  # the reader's polling pace, as tail -F's
            self.poll()
        self.poll()


def line_keys(lines: list[bytes]) -> Counter[tuple[str, str, str]]:
    from commands.fetch_event import SOURCES

    found: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        event = json.loads(line)
        raw = event["raw"]
        field = SOURCES[event["event_type"]].time_field
        found[(event["event_type"], raw["id"].lower(), instant_key(raw[field]))] += 1
    return found


JUMPS = {4: 30, 7: -30, 11: -30, 14: 30}
"""Before run N, Graph's clock moves this many days: ahead and back, behind and back."""


def tailer_run(seed: int, tmp: Path, kills: int) -> dict[str, Any]:
    from emulator import Emulator

    started = time.monotonic()
    rng = random.Random(seed)
    counter = iter(range(1, 10**9))
    with Emulator(seed=seed, tenants=1, signins=400) as emu:
        control = EmulatorControl(emu)
        tenants = list(emu.tenant_ids)
        path = tmp / "tenant.yaml"
        path.write_text(yaml.safe_dump(emu.connection()))
        control.faults(rate=0.1, statuses=[429, 503], retry_after=0.1, seed=seed)
        argv = job_argv(tmp, [path])
        argv[argv.index("--backfill-days") + 1] = "7"
        argv[argv.index("--page-size") + 1] = "25"
        tailer = Tailer(tmp / "events.ndjson")
        tailer.start()
        killed = runs = jumps = offset = 0
        post_records(control, "signIns", [{"id": "f0000000-0000-4000-8000-000000002099",
                                           "createdDateTime": "2099-01-01T00:00:00Z"}],
                     tenant=tenants[0])
        control.post("records/signIns", {"verbatim": True, "records": [
            {"id": "f0000000-0000-4000-8000-00000000bad0",
             "createdDateTime": "2026-13-45T25:61:61Z"}]}, tenant=tenants[0])
        try:
            while killed < kills:
                days = JUMPS.get(runs % 16)
                if days is not None:
                    control.advance(days * 86_400)
                    offset += days
                    jumps += 1
                # Late records only while Graph's clock is right: stamped by a clock 30 days
                # behind, a record is 30 days late for every window (beyond any overlap).
                if offset == 0 and rng.random() < 0.6:
                    inject_late(control, tenants, rng, lambda: next(counter))
                if rng.random() < 0.5:
                    _, was_killed, _ = run_job(argv, rng.randint(3, 40))
                else:
                    point = rng.choice(["", "p"]) + str(rng.randint(1, 5))
                    code, _, _ = run_job([argv[0], "-m", "tests.job.crashing_job", point,
                                          *argv[3:]], None)
                    was_killed = code == -signal.SIGKILL
                runs += 1
                killed += was_killed
            if offset:
                control.advance(-offset * 86_400)  # Graph's clock back to the host's
                jumps += 1
            clean_runs, want = settle_and_truth(control, argv, tmp / "state.db", tenants)
            runs += clean_runs
        finally:
            tailer.done.set()
            tailer.join()
    seen = line_keys(tailer.lines)
    final = sink_keys(tmp / "events.ndjson")
    letters = tmp / "state.db.dead-letters.ndjson"
    dead_letters = [line for line in (letters.read_text().splitlines() if letters.exists()
                                      else []) if _complete_json(line)]
    return {"seed": seed, "runs": runs, "killed": killed, "clock_jumps": jumps,
            "tailer_lines": len(tailer.lines), "truncations": tailer.truncations,
            "replacements": tailer.replacements,
            "tailer_duplicates": sum(n - 1 for n in seen.values()),
            "seen_then_missing": len(set(seen) - set(final)),
            "expected": len(want), "missing": len(want - set(final)),
            "unexpected": len(set(final) - want),
            "duplicates": sum(n - 1 for n in final.values()),
            "dead_letters": len(dead_letters),
            "seconds": round(time.monotonic() - started, 1),
            "_detail": sorted(want - set(final))[:5]}


def _complete_json(line: str) -> bool:
    """A whole dead-letter line (a SIGKILL during the write may leave one cut short)."""
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _check_tailer(figures: dict[str, Any], kills: int,
                  record_property: Callable[[str, Any], None]) -> None:
    detail = figures.pop("_detail")
    record_property("figures", " ".join(f"{k}={v}" for k, v in figures.items()))
    print(figures)
    assert figures["killed"] >= kills
    assert (figures["truncations"], figures["replacements"], figures["tailer_duplicates"],
            figures["seen_then_missing"]) == (0, 0, 0, 0), figures
    assert (figures["missing"], figures["unexpected"], figures["duplicates"]) == (0, 0, 0), \
        (figures, detail)
    assert figures["tailer_lines"] == figures["expected"]
    assert figures["dead_letters"] == 1  # the malformed sign-in, filed once across the kills


def test_tailer_short(tmp_path: Path, record_property: Callable[[str, Any], None]) -> None:
    _check_tailer(tailer_run(17, tmp_path, kills=5), 5, record_property)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
def test_tailer_soak(seed: int, tmp_path: Path,
                     record_property: Callable[[str, Any], None]) -> None:
    _check_tailer(tailer_run(seed * 104_729, tmp_path, kills=24), 24, record_property)
