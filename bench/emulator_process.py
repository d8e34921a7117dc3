"""An emulator tenant in its own process, so that benchmarks can tell its CPU from theirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Prints its connection (and start-up time), then answers "cpu" with its CPU seconds.
SERVER = """
import gc, json, sys, time
from emulator import Emulator
started = time.perf_counter()
pinned = {"now": "2025-03-01T12:00:00Z", "frozen": True} if sys.argv[2] == "pinned" else {}
emu = Emulator(seed=1, signins=int(sys.argv[1]), **pinned)
emu.start()
gc.freeze()  # as the emulator verb does once serving
print(json.dumps({**emu.connection(), "startup": time.perf_counter() - started}), flush=True)
for line in sys.stdin:
    if line.strip() == "cpu":
        print(time.process_time(), flush=True)
emu.stop()
"""


class EmulatorProcess:
    def __init__(self, records: int, *, pinned: bool = False) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(records), "pinned" if pinned else "live"],
            cwd=ROOT, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        started = json.loads(self.process.stdout.readline())
        self.startup: float = started.pop("startup")
        self.connection: dict[str, Any] = started

    def cpu(self) -> float:
        """The emulator process's CPU seconds so far."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("cpu\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
