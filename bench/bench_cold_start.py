"""Cold start: ``python connector.py commands`` against the import floor, in the same run.

The floor is ``python -c "import requests, yaml, jsonschema"``: what any plugin on these
dependencies pays. Our overhead over it (manifest load, meta-schema validation, registry
check) must stay at or under 50 %. Runs are interleaved so that machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = [sys.executable, "-c", "import requests, yaml, jsonschema"]
OURS = [sys.executable, str(ROOT / "connector.py"), "commands"]
VALIDATE_ONE = [
    sys.executable,
    str(ROOT / "connector.py"),
    "run",
    "List Risky Users",
    "-i",
    "Top=0",
]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {"floor": [], "commands": [], "validate one": []}
    for command in (FLOOR, OURS, VALIDATE_ONE):  # warm the page cache
        timed(command)
    for _ in range(args.runs):
        samples["floor"].append(timed(FLOOR))
        samples["commands"].append(timed(OURS))
        samples["validate one"].append(timed(VALIDATE_ONE))
    floor = statistics.median(samples["floor"])
    print(f"cold start, median of {args.runs} interleaved runs")
    print(f"{'what':<44} {'median s':>9} {'min s':>7} {'over floor':>11}")
    rows = [
        ("import requests, yaml, jsonschema (floor)", "floor"),
        ("connector.py commands", "commands"),
        ("connector.py run (one command's inputs refused)", "validate one"),
    ]
    verdict = 0
    for label, key in rows:
        median = statistics.median(samples[key])
        over = (median - floor) / floor * 100
        print(f"{label:<44} {median:9.3f} {min(samples[key]):7.3f} {over:10.0f}%")
        if key == "commands" and over > 50:
            verdict = 1
    print("target (commands ≤ 50 % over the floor):", "met" if verdict == 0 else "MISSED")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
