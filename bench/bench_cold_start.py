"""Cold start: ``python connector.py commands`` against the import floor, in the same run.

The floor is ``python -c "import requests, yaml, jsonschema"``: what any plugin on these
dependencies pays. Our overhead over it (manifest load, meta-schema validation, registry
check) must stay at or under 50 %; ``run --emulator`` (one command against the embedded
emulator: its CA, certificate, token key and tenant made, served over HTTPS, stopped) within
2x the floor. Runs are interleaved so that machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bytecode import compile_project  # noqa: E402

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
RUN_EMULATOR = [
    sys.executable,
    str(ROOT / "connector.py"),
    "run",
    "List Risky Users",
    "-i",
    "Top=5",
    "--emulator",
    "--output",
    "json",
]
EMULATOR_LIMIT = 2.0
"""``run --emulator`` over the floor, at most."""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    compile_project()  # as installed: see bench/bytecode.py
    commands = {"floor": FLOOR, "commands": OURS, "validate one": VALIDATE_ONE,
                "run --emulator": RUN_EMULATOR}
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the page cache
        timed(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(timed(command))
    floor = statistics.median(samples["floor"])
    print(f"cold start, median of {args.runs} interleaved runs")
    print(f"{'what':<50} {'median s':>9} {'min s':>7} {'over floor':>11}")
    rows = [
        ("import requests, yaml, jsonschema (floor)", "floor"),
        ("connector.py commands", "commands"),
        ("connector.py run (one command's inputs refused)", "validate one"),
        ("connector.py run ... --emulator (List Risky Users)", "run --emulator"),
    ]
    verdict = 0
    for label, key in rows:
        median = statistics.median(samples[key])
        over = (median - floor) / floor * 100
        print(f"{label:<50} {median:9.3f} {min(samples[key]):7.3f} {over:10.0f}%")
        if key == "commands" and over > 50:
            verdict = 1
    emulator = statistics.median(samples["run --emulator"]) / floor
    print("target (commands ≤ 50 % over the floor):", "met" if verdict == 0 else "MISSED")
    print(f"target (run --emulator ≤ {EMULATOR_LIMIT}x the floor): {emulator:.2f}x,",
          "met" if emulator <= EMULATOR_LIMIT else "MISSED")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
