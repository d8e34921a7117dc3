"""The scheduled fetch job's runtime: generic, with no knowledge of any particular API.

    store = StateStore("job.db")
    job = Job(sources, connections, store, FileSink("events.ndjson", owner=store.identity),
              mapper)
    job.run_cycle()

A :class:`~executor.job.model.Source` says which record field the cursor runs on, how far back
to re-read and whether its records come oldest first; a :class:`~executor.job.model.Connection`
turns (source, window) into pages of records. The rest (windows, dedup, checkpoints, durable
delivery) is here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from executor.job.model import Checkpoint, Connection, Source, Window
    from executor.job.runner import CycleReport, Job, SourceRun
    from executor.job.schedule import run_forever, stop_on_signals
    from executor.job.sink import FileSink, SinkInUse, StreamSink
    from executor.job.state import StateStore
    from executor.job.step import fetch_step, finish_window, plan_window

_HOMES = {
    "model": ("Checkpoint", "Connection", "Source", "Window"),
    "runner": ("CycleReport", "Job", "SourceRun"),
    "schedule": ("run_forever", "stop_on_signals"),
    "sink": ("FileSink", "SinkInUse", "StreamSink"),
    "state": ("StateStore",),
    "step": ("fetch_step", "finish_window", "plan_window"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """The package's names, imported on first use: a one-off command that only needs a leaf
    module (``executor.job.instants``) does not pay for the runner, the sink and SQLite."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Checkpoint",
    "Connection",
    "CycleReport",
    "FileSink",
    "Job",
    "SinkInUse",
    "Source",
    "SourceRun",
    "StateStore",
    "StreamSink",
    "Window",
    "fetch_step",
    "finish_window",
    "plan_window",
    "run_forever",
    "stop_on_signals",
]
