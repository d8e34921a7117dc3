"""The cyclic garbage collector, set for a job that builds and drops a page at a time.

Each sign-in of a page is a dozen dicts and lists, plus its fields and its sink line's dict: the
job holds tens of thousands of new containers at once, then frees them by reference counting
when the page is written (pages hold no cycles). With the default threshold (700 more containers
allocated than freed), the collector ran some 650 times for 40,000 sign-ins, each time walking
the young pages and now and then everything the process holds, modules and manifest included:
about an eighth of the CPU of reading, mapping and encoding them, for garbage that reference
counting frees anyway.
So for the job's lifetime, what setting up made is moved out of the collector's sight
(``gc.freeze``) and a collection waits for 50,000 more containers than were freed, more than a
page's worth: it still runs should memory grow, and still frees cycles, only not per page.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNGEST_THRESHOLD = 50_000


@contextmanager
def collected_per_growth() -> Iterator[None]:
    """The job's setting inside the block; the process's own again after it."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNGEST_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
