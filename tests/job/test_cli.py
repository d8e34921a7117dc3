"""``job`` command line without a tenant: usage errors, ``job status``, the import rule."""

from __future__ import annotations

import ast
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from commands import job_cli
from commands.fetch_event import SOURCES
from commands.job_sources import event_type, job_source, window_query
from executor.job import FileSink, Job, StateStore, Window
from executor.job.instants import key_of
from tests.job.fakes import T0, FakeConnection

ROOT = Path(__file__).resolve().parents[2]


def test_executor_job_knows_no_commands_or_emulator() -> None:
    for path in (ROOT / "executor" / "job").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("commands", "emulator")), (path.name, name)


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert job_cli.main(["run", "--state", "s.db"]) == 2
    assert "required" in capsys.readouterr().err
    assert job_cli.main(["status", "--state", str(tmp_path / "missing.db")]) == 2
    assert "no job state" in capsys.readouterr().err


def test_status_reports_each_source_and_connection(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    conn = FakeConnection(now_value=T0 + timedelta(hours=1), health_ok=False)
    conn.add("signIn", "a", T0, field_name="createdDateTime")
    store = StateStore(tmp_path / "state.db")
    sink = FileSink(tmp_path / "events.ndjson")
    Job([job_source("signIn")], [conn], store, sink, lambda r: {}, health_every=60).run_cycle()
    store.close()
    sink.close()
    assert job_cli.main(["status", "--state", str(tmp_path / "state.db")]) == 0
    status = json.loads(capsys.readouterr().out)
    (source,) = status["sources"]
    assert source["connection"] == "tenant-a/app" and source["event_type"] == "signIn"
    assert source["events_delivered"] == 1 and source["last_error"] is None
    assert source["cursor"] == key_of(T0 + timedelta(minutes=59))
    assert status["health"][0]["ok"] is False
    assert list(status["sinks"].values()) == [(tmp_path / "events.ndjson").stat().st_size]


def test_event_type_names_and_window_query() -> None:
    assert event_type("Risk Detections") == "riskDetection"
    assert event_type("sign-in logs") == "signIn"
    with pytest.raises(ValueError):
        event_type("audit")
    source = job_source("riskDetection")
    assert source.cursor_field == "lastUpdatedDateTime"
    assert source.overlap == timedelta(hours=48)
    window = Window(key_of(T0), key_of(T0 + timedelta(hours=1)))
    query = window_query(SOURCES["riskUser"], window)
    assert query == {
        "$filter": "riskLastUpdatedDateTime ge 2026-11-01T00:00:00Z and "
                   "riskLastUpdatedDateTime le 2026-11-01T01:00:00Z",
        "$orderby": "riskLastUpdatedDateTime asc", "$top": "500"}


class _Response:
    def __init__(self, date: str) -> None:
        self.headers = {"Date": date}


class _FakeClient:
    """Just enough of GraphClient for GraphConnection's clock and health check."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        from types import SimpleNamespace

        self.settings = SimpleNamespace(tenant="t", client_id="c")
        self.transport = SimpleNamespace(request=lambda *a, **k: _Response(
            "Sun, 01 Nov 2026 00:00:00 GMT"))
        self.roles = roles

    def token_info(self) -> Any:
        from types import SimpleNamespace

        self.transport.request("POST", "token")
        return SimpleNamespace(roles=self.roles, expires_at=None)

    def close(self) -> None:
        pass


def test_windows_follow_graphs_clock_not_a_skewed_local_one() -> None:
    from commands.job_sources import GraphConnection

    ticks = {"t": 100.0}
    skewed = T0 + timedelta(minutes=10)  # the local clock runs ten minutes fast
    conn = GraphConnection(_FakeClient(("AuditLog.Read.All",)), local_now=lambda: skewed,
                           monotonic=lambda: ticks["t"], event_types=("signIn",))
    assert conn.now() == T0  # from the token answer's Date header
    ticks["t"] += 30
    assert conn.now() == T0 + timedelta(seconds=30)
    with pytest.raises(PermissionError, match=r"Directory\.Read\.All"):
        conn.health_check()


def test_health_checks_also_run_while_waiting_for_the_next_cycle(tmp_path: Path) -> None:
    import threading

    from executor.job import StreamSink, run_forever

    stop = threading.Event()
    conn = FakeConnection(now_value=T0)
    checks: list[str] = []

    def check() -> str:
        checks.append("checked")
        conn.now_value += timedelta(seconds=10)
        if len(checks) == 3:
            stop.set()
        return "ok"

    conn.health_check = check  # type: ignore[method-assign]
    store = StateStore(tmp_path / "state.db")
    job = Job([job_source("signIn")], [conn], store, StreamSink(io.BytesIO()), lambda r: {},
              health_every=0.001, stop=stop, clock=lambda: conn.now_value)
    assert run_forever(job, 3600.0) == 1  # one cycle; the checks went on during the wait
    assert len(checks) == 3
    store.close()
