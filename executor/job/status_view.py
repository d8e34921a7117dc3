"""``job status``: what a state says about its job, as JSON or as a table for a person.

Per connection and source: the cursor, the last run and its outcome, events delivered, clock
skew, the last gap the job had to clamp (a cursor older than the service keeps), dead letters,
and whether the source is stale. Job-wide: whether a job holds the state's lock now (running),
and for ``job start`` its period and next cycle (recorded in the state as it runs).

A source is stale when its last success (or, before any, its first run) is older than
:func:`stale_after`: three periods of the running schedule (at least 15 minutes), else one day
(``job run`` from cron: the state does not know the period).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from executor.datetimes import parse_instant
from executor.job.state import StateStore, job_running

SCHEDULE_KEY = "schedule"
"""The meta entry ``job start`` keeps: ``{"every": seconds, "next_run": instant}``."""
STALE_PERIODS = 3
STALE_MINIMUM = timedelta(minutes=15)
STALE_WITHOUT_SCHEDULE = timedelta(days=1)


def stale_after(every_seconds: float | None) -> timedelta:
    if every_seconds is None:
        return STALE_WITHOUT_SCHEDULE
    return max(STALE_MINIMUM, timedelta(seconds=STALE_PERIODS * every_seconds))


def _is_stale(entry: dict[str, Any], limit: timedelta, now: datetime) -> bool:
    since = parse_instant(entry.get("last_success")) or parse_instant(entry.get("last_run_started"))
    return since is not None and now - since > limit


def status_report(path: str, now: datetime) -> dict[str, Any]:
    """The JSON of ``job status`` (the state opened read-only; ``UsageError`` when missing)."""
    running = job_running(path)
    state = StateStore(path, readonly=True)
    try:
        sources = [asdict(s) for s in state.sources()]
        health, sinks = state.health(), state.sinks()
        schedule = json.loads(state.meta(SCHEDULE_KEY) or "null")
    finally:
        state.close()
    every = schedule.get("every") if isinstance(schedule, dict) and running else None
    limit = stale_after(every)
    for entry in sources:
        entry["event_type"] = entry.pop("source")
        entry["stale"] = _is_stale(entry, limit, now)
    return {"state": str(Path(path).resolve()), "running": running,
            "schedule": ({"every_seconds": every, "next_run": schedule.get("next_run")}
                         if every is not None else None),
            "stale_after_seconds": limit.total_seconds(),
            "sources": sources, "health": health, "sinks": sinks}


def _skew(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:+.1f}s"


def _last_run(entry: dict[str, Any], running: bool) -> str:
    started, finished = entry.get("last_run_started"), entry.get("last_run_finished")
    if started and (not finished or started > finished):  # utc_text sorts as time does
        return f"{started} ({'running' if running else 'interrupted'})"
    if not finished:
        return "never"
    return f"{finished} ({'failed' if entry.get('last_error') else 'ok'})"


def render_status(report: dict[str, Any]) -> str:
    """The human view of :func:`status_report`."""
    from executor.table_view import table

    schedule = report.get("schedule")
    lines = [f"State    {report['state']}",
             "Job      " + ("running (it holds the state's lock)" if report["running"]
                            else "not running (no job holds the state's lock)")]
    if schedule:
        lines.append(f"Schedule every {schedule['every_seconds']:g} s; next run "
                     f"{schedule.get('next_run') or 'when the current cycle ends'}")
    else:
        lines.append("Schedule none known (next run: when `job run` or `job start` is next "
                     "started)")
    stale_hours = report["stale_after_seconds"] / 3600
    lines += ["", f"Sources (stale: no success for {stale_hours:g} h)"]
    rows = [(e.get("label") or e["connection"], e["event_type"], _last_run(e, report["running"]),
             e.get("last_success") or "never", e.get("cursor"), e.get("events_delivered"),
             "STALE" if e.get("stale") else "",
             f"{e['gap_from']} .. {e['gap_to']}" if e.get("gap_from") else "",
             _skew(e.get("clock_skew_seconds")), e.get("dead_letters") or "")
            for e in report["sources"]]
    if rows:
        lines += ["  " + line for line in table(
            ("Connection", "Event type", "Last run", "Last success", "Cursor", "Events",
             "Stale", "Clamped gap", "Clock skew", "Dead letters"), rows, cut=60)]
    else:
        lines.append("  (no source has run yet)")
    errors = [(e.get("label") or e["connection"], e["event_type"], e.get("last_error_at"),
               e.get("last_error")) for e in report["sources"] if e.get("last_error")]
    if errors:
        lines += ["", "Last errors"]
        lines += ["  " + line for line in table(
            ("Connection", "Event type", "At", "Error"), errors, cut=100)]
    if report.get("health"):
        lines += ["", "Health checks"]
        lines += ["  " + line for line in table(
            ("Connection", "Checked", "Result", "Message"),
            [(h.get("label") or h["connection"], h.get("checked_at"),
              {True: "ok", False: "FAILED", None: ""}[h.get("ok")], h.get("message"))
             for h in report["health"]], cut=100)]
    return "\n".join(lines) + "\n"
