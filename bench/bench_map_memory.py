"""Benchmark: peak memory of `map` (the field-mapping playground) against the input's size.

Writes generated v1.0 sign-ins (bench_mapping's generator, ~2.3 KB each) as one list response
`{"value": [...]}` of N events (default 200,000, about 460 MB) and of N/10 events, then runs
`connector.py map FILE > /dev/null` on each in its own process and reads the child's peak RSS
(the kernel's VmHWM of the child's own address space, which `exec` resets, unlike the
`wait4` figure that keeps the forking parent's). Side by side:

* the floor: `map` on a response of one event (interpreter, plugin, mappings loaded);
* the peer: `json.load` of the N/10 file, the whole-document reading `map` did before.

Targets: `map` on N events peaks under 150 MB, and within 1.2x of its peak on N/10 (flat).
Run: `.venv/bin/python bench/bench_map_memory.py [--events N]` (needs ~0.5 GB in the temp dir).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_mapping import make_events  # noqa: E402

BATCH = 2000
TARGET_MB = 150.0
FLAT_RATIO = 1.2


def write_response(path: Path, count: int) -> int:
    """A list response of `count` sign-ins, written batch by batch; returns its size."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs'
                  '/signIns", "value": [')
        written = 0
        while written < count:
            batch = make_events(min(BATCH, count - written), seed=written + 1)
            for event in batch:
                out.write(("," if written else "") + json.dumps(event, ensure_ascii=False))
                written += 1
        out.write("]}\n")
    return path.stat().st_size


PEAK_REPORTER = """
import atexit, runpy, sys

def report():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KB=" + line.split()[1] + "\\n")

atexit.register(report)
sys.argv = sys.argv[1:]
if sys.argv[0] == "-c":
    exec(sys.argv[1])
else:
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def peak_rss(argv: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, wall seconds, exit code) of `python argv...`, stdout discarded."""
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", PEAK_REPORTER, *argv],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    stderr = run.stderr.decode(errors="replace")
    peaks = [int(line[8:]) for line in stderr.splitlines() if line.startswith("PEAK_KB=")]
    if run.returncode or not peaks:
        sys.stderr.write(stderr)
    return (peaks[-1] / 1024 if peaks else float("nan")), wall, run.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args(argv)
    big, small = args.events, max(1, args.events // 10)
    connector = [str(ROOT / "connector.py"), "map"]
    with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
        files = {n: Path(tmp) / f"signins-{n}.json" for n in (1, small, big)}
        sizes = {n: write_response(path, n) for n, path in files.items()}
        runs = {
            "map, 1 event (floor)": (1, [*connector, str(files[1])]),
            f"map, {small:,} events": (small, [*connector, str(files[small])]),
            f"map, {big:,} events": (big, [*connector, str(files[big])]),
            f"json.load of {small:,} events (peer)": (small, [
                "-c", f"import json; json.load(open({str(files[small])!r}))"]),
        }
        print("| run | input MB | peak RSS MB | wall s | events/s |\n|---|---|---|---|---|")
        peaks: dict[str, float] = {}
        failed = False
        for label, (count, command) in runs.items():
            peak, wall, code = peak_rss(command)
            failed = failed or code != 0
            peaks[label] = peak
            print(f"| {label} | {sizes[count] / 1e6:,.1f} | {peak:,.1f} | {wall:,.2f} "
                  f"| {count / wall:,.0f} |")
    big_peak = peaks[f"map, {big:,} events"]
    ratio = big_peak / peaks[f"map, {small:,} events"]
    print(f"\npeak for {big:,} events: {big_peak:.1f} MB (target < {TARGET_MB:.0f}): "
          f"{'ok' if big_peak < TARGET_MB else 'MISSED'}; {ratio:.2f}x the peak for "
          f"{small:,} (target <= {FLAT_RATIO}): {'ok' if ratio <= FLAT_RATIO else 'MISSED'}; "
          f"{big_peak / peaks['map, 1 event (floor)']:.2f}x the one-event floor")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
