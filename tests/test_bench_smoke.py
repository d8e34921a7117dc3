"""The issue-13 benchmarks still run (on little data, one round): a smoke test, not a timing.

Figures come from ``make bench`` only; this asserts that each benchmark ran end to end and
printed its ratio, so that the scripts do not rot between benchmark runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_of_bench_perf_runs_on_little_data() -> None:
    run = subprocess.run([sys.executable, "bench/bench_perf.py", "--smoke"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    for ratio in ("job / floor =", "job / floor over HTTPS =", "the runner's ratio",
                  "wall 10 / 1 =", "map / hand-written ="):
        assert ratio in run.stdout, run.stdout
