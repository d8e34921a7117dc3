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

from executor.job.model import Checkpoint, Connection, Source, Window
from executor.job.runner import CycleReport, Job, SourceRun
from executor.job.schedule import run_forever, stop_on_signals
from executor.job.sink import FileSink, SinkInUse, StreamSink
from executor.job.state import StateStore
from executor.job.step import fetch_step, finish_window, plan_window

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
