"""Benchmark: the fetch job's backfill from the emulator, through the mappings, into a file sink.

One emulator process serves a tenant of 1,000,000 sign-ins over the 30 days before its clock.
The job runs as its own process (``python -m commands.job_cli job run``, sign-ins only, pacing
off: the emulator's rate limits are off, and Graph's 5 requests per 10 s would make a
million-event backfill a 35-minute affair by design) twice in the same run:

* a 3-day backfill (about 100,000 sign-ins);
* a 31-day backfill (all 1,000,000).

For each: events, wall time, events/s, CPU (user + system) per event, and the job process's peak
RSS (``wait4``), which must not grow with the number of events (pages are streamed; dedup keys
are kept for the overlap only). Run: ``.venv/bin/python bench/bench_job.py [--signins N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RSS_GROWTH_LIMIT = 1.10
"""Peak RSS of the large backfill over the small one; more means memory grows with events."""


def start_emulator(signins: int, workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    connection = workdir / "connection.yaml"
    process = subprocess.Popen(
        [PYTHON, "connector.py", "emulator", "--port", "0", "--seed", "11",
         "--tenants", "1", "--signins", str(signins), "--write-connection", str(connection)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not connection.exists() or not connection.read_text().strip():
        if process.poll() is not None:
            raise SystemExit("the emulator exited: "
                             + (process.stderr.read().decode() if process.stderr else ""))
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the emulator did not write its connection file in time")
        time.sleep(0.1)
    time.sleep(0.2)  # the file is written as the server starts listening
    return process, connection


def run_job(connection: Path, workdir: Path, days: float, label: str) -> dict[str, Any]:
    sink = workdir / f"{label}.ndjson"
    state = workdir / f"{label}.db"
    argv = [PYTHON, "-m", "commands.job_cli", "--log-level", "WARNING", "run",
            "--connection", str(connection), "--event-type", "signIn", "--state", str(state),
            "--sink", str(sink), "--backfill-days", str(days), "--no-pace",
            "--health-check-every", "0"]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"job exited {code}:\n{err[-4000:]}")
    summary = json.loads(out)
    with sink.open("rb") as handle:
        lines = sum(1 for _ in handle)
    events = summary["delivered"]
    assert lines == events, (lines, events)
    cpu = usage.ru_utime + usage.ru_stime
    result = {"label": label, "backfill_days": days, "events": events, "wall_s": round(wall, 2),
              "events_per_s": round(events / wall), "cpu_s": round(cpu, 2),
              "cpu_us_per_event": round(cpu / events * 1e6, 1) if events else None,
              "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
              "sink_mb": round(sink.stat().st_size / 2**20, 1)}
    sink.unlink()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signins", type=int, default=1_000_000)
    parser.add_argument("--small-days", type=float, default=3.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        workdir = Path(tmp)
        emulator, connection = start_emulator(args.signins, workdir)
        try:
            results = [run_job(connection, workdir, args.small_days, "small"),
                       run_job(connection, workdir, 31, "large")]
        finally:
            emulator.send_signal(signal.SIGTERM)
            try:
                emulator.wait(timeout=10)
            except subprocess.TimeoutExpired:
                emulator.kill()
    print(f"{'backfill':>10} {'events':>10} {'wall s':>8} {'events/s':>9} {'CPU us/ev':>10} "
          f"{'peak RSS MB':>12}")
    for r in results:
        print(f"{r['backfill_days']:>9}d {r['events']:>10,} {r['wall_s']:>8} "
              f"{r['events_per_s']:>9,} {r['cpu_us_per_event']:>10} {r['peak_rss_mb']:>12}")
    small, large = results
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    verdict = "OK" if growth <= RSS_GROWTH_LIMIT else "FAIL"
    print(f"peak RSS {large['events'] / max(small['events'], 1):.1f}x the events: "
          f"{growth:.2f}x the memory ({verdict}, limit {RSS_GROWTH_LIMIT}x)")
    print(json.dumps({"results": results, "rss_growth": round(growth, 3)}))
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
