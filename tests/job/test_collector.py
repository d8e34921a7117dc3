"""The job's garbage-collector setting: pages built and dropped cost no collection; cycles are
still collected once memory grows; the process's setting is back afterwards."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from executor.job.collector import collected_per_growth


@contextmanager
def counted_collections() -> Iterator[list[int]]:
    found = [0]

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            found[0] += 1

    gc.callbacks.append(count)
    try:
        yield found
    finally:
        gc.callbacks.remove(count)


def pages_built_and_dropped(pages: int = 10) -> None:
    """Like the job's pages: 1,000 records of a dozen containers, freed when the next comes."""
    for _ in range(pages):
        page = [{"id": str(i), "status": {"errorCode": 0}, "location": {"city": "x", "geo": {}},
                 "policies": [{"id": "p", "result": []} for _ in range(4)]}
                for i in range(1000)]
        del page


def test_pages_cost_no_collection_inside_and_do_outside() -> None:
    with counted_collections() as outside:
        pages_built_and_dropped()
    with collected_per_growth(), counted_collections() as inside:
        pages_built_and_dropped()
    assert outside[0] >= 10  # the default threshold: several per page
    assert inside[0] == 0


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_cycles_are_still_collected_when_memory_grows() -> None:
    with collected_per_growth(), counted_collections() as inside:
        first = Node()
        first.other = Node()
        first.other.other = first  # garbage only a collection frees
        freed = weakref.ref(first)
        del first
        kept: list[list[int]] = [[] for _ in range(60_000)]  # growth past the threshold
        assert inside[0] >= 1 and freed() is None
        del kept


def test_the_setting_is_restored() -> None:
    before = gc.get_threshold()
    with collected_per_growth():
        assert gc.get_threshold()[0] > before[0] and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
