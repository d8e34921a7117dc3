"""A list result holds at most 3x the JSON size of what it returns (issue 12; `make bench`'s
bench_list_memory.py measures the full 5,000 sign-ins). tracemalloc counts allocations, which is
deterministic for a seeded tenant; the emulator serves from this process, so allocations made
under emulator/ frames are left out."""

from __future__ import annotations

import gc
import json
import tracemalloc
from typing import Any

from tests.conftest import ROOT

RATIO = 3.0


def test_a_list_result_holds_at_most_three_times_its_json(connector: Any,
                                                          emulator: Any) -> None:
    connection = emulator.connection()
    connector.run("List Sign-In", {"Top": 1}, connection)  # imports, token, emulator caches
    gc.collect()
    tracemalloc.start(12)
    try:
        result = connector.plugin.run("List Sign-In", {"Top": 500}, connection)
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ours = snapshot.filter_traces([
        tracemalloc.Filter(False, str(ROOT / "emulator" / "*"), all_frames=True),
        tracemalloc.Filter(False, tracemalloc.__file__)])
    held = sum(stat.size for stat in ours.statistics("filename"))
    items = result.raw_data["value"]
    assert result.status.value == "Successful" and len(items) == 500
    size = len(json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode())
    assert held <= RATIO * size, f"holds {held / size:.2f}x its JSON"
