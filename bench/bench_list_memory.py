"""Benchmark: memory a list result holds against the JSON size of what it returns.

`List Sign-In` with no Top against an emulator tenant of N sign-ins (default 5,000; the emulator
in its own process, so its memory is not counted). tracemalloc measures, in this process, what
the finished result holds and the peak while it was built; both are divided by the size of the
result's `raw_data.value` as compact JSON. Side by side, the peer: `json.loads` of that same JSON
(what any reader of the answer would hold).

Target: the result holds at most 3x its JSON size (issue 12; it held 152 MB, ~15x, for 5,000
sign-ins before). Run: `.venv/bin/python bench/bench_list_memory.py [--signins N]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from emulator_process import EmulatorProcess  # noqa: E402

TARGET_RATIO = 3.0


def measure(connector: Any, connection: dict[str, Any]) -> tuple[Any, int, int]:
    """The result of List Sign-In (no Top), what it holds and the peak while it was built."""
    gc.collect()
    tracemalloc.start()
    result = connector.plugin.run("List Sign-In", {}, connection)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, held, peak


def peer(text: str) -> int:
    """What `json.loads` of the same JSON holds."""
    gc.collect()
    tracemalloc.start()
    loaded = json.loads(text)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del loaded
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signins", type=int, default=5000)
    args = parser.parse_args()
    from connector import Connector

    connector = Connector.load()
    emulator = EmulatorProcess(args.signins)
    try:
        connector.run("List Risky Users", {"Top": 1}, emulator.connection)  # imports, token
        result, held, peak = measure(connector, emulator.connection)
    finally:
        emulator.stop()
    assert result.status.value == "Successful", result.errors
    text = json.dumps(result.raw_data["value"], ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode())
    loads_held = peer(text)
    mb = 1024 * 1024
    print(f"List Sign-In, no Top: {len(result.raw_data['value'])} sign-ins, "
          f"JSON {size / mb:.1f} MiB")
    print(f"  result holds {held / mb:.1f} MiB = {held / size:.2f}x the JSON "
          f"(target <= {TARGET_RATIO}x); peak while building {peak / mb:.1f} MiB = "
          f"{peak / size:.2f}x")
    print(f"  peer json.loads of the same JSON holds {loads_held / mb:.1f} MiB = "
          f"{loads_held / size:.2f}x")
    print("PASS" if held <= TARGET_RATIO * size else "FAIL")


if __name__ == "__main__":
    main()
