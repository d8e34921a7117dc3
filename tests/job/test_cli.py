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
from commands.job_sources import GraphConnection, job_source, window_query
from executor.errors import UsageError
from executor.job import FileSink, Job, StateStore, Window
from executor.job.instants import key_of
from tests.job.emu import event_types, plugin
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
    types = event_types()
    assert types.resolve("Risk Detections") == "riskDetection"
    assert types.resolve("sign-in logs") == "signIn"
    assert types.resolve("RISK_USERS") == "riskUser"
    with pytest.raises(UsageError, match="Sign-in Logs, Risk Detections, Risk Users"):
        types.resolve("audit")
    source = job_source("riskDetection")
    assert source.cursor_field == "lastUpdatedDateTime"
    assert source.overlap == timedelta(hours=48)
    window = Window(key_of(T0), key_of(T0 + timedelta(hours=1)))
    # identityProtection documents no $orderby (graph-api-facts §1.2): Graph's own order.
    assert not job_source("riskUser").ordered and not source.ordered
    assert window_query(SOURCES["riskUser"], window) == {
        "$filter": "riskLastUpdatedDateTime ge 2026-11-01T00:00:00Z and "
                   "riskLastUpdatedDateTime le 2026-11-01T01:00:00Z", "$top": "500"}
    assert "$orderby" not in window_query(SOURCES["riskDetection"], window)
    assert job_source("signIn").ordered
    assert window_query(SOURCES["signIn"], window)["$orderby"] == "createdDateTime asc"


def test_event_types_and_permissions_come_from_the_manifest() -> None:
    fetch = plugin().manifest.command_named("fetch-event")
    types = event_types()
    spec = fetch.input_named("event_type")
    assert types.names == tuple(a.value for a in spec.allowed_values)
    for allowed in spec.allowed_values:
        assert types.resolve(allowed.display_name) == allowed.value
        assert types.permissions(allowed.value) == fetch.permissions.by_value[allowed.value]
    # Test Connection's role rules: a ReadWrite role grants its Read permission.
    assert types.lacking(["IdentityRiskyUser.ReadWrite.All"], ["riskUser"]) == []
    assert types.lacking(["AuditLog.Read.All"], ["signIn", "riskUser"]) == [
        "IdentityRiskyUser.Read.All"]


class _FakeClient:
    """Just enough of GraphClient for GraphConnection's clock and health check."""

    def __init__(self, roles: tuple[str, ...], ticks: dict[str, float]) -> None:
        from types import SimpleNamespace

        self.settings = SimpleNamespace(tenant="t", client_id="c")
        self.roles = roles
        self.ticks = ticks
        self.server_date: Any = None
        self.server_date_at: float | None = None

    def monotonic(self) -> float:
        return self.ticks["t"]

    def token_info(self) -> Any:
        from types import SimpleNamespace

        self.server_date, self.server_date_at = T0, self.ticks["t"]  # the token answer's Date
        return SimpleNamespace(roles=self.roles, expires_at=None)

    def close(self) -> None:
        pass


def test_windows_follow_graphs_clock_not_a_skewed_local_one() -> None:
    ticks = {"t": 100.0}
    skewed = T0 + timedelta(minutes=10)  # the local clock runs ten minutes fast
    conn = GraphConnection(_FakeClient(("IdentityRiskEvent.Read.All",), ticks), event_types(),
                           local_now=lambda: skewed, event_types=("signIn",))
    assert conn.now() == T0  # from the token answer's Date header
    ticks["t"] += 30
    assert conn.now() == T0 + timedelta(seconds=30)
    with pytest.raises(PermissionError, match=r"AuditLog\.Read\.All"):
        conn.health_check()


def test_graph_client_keeps_the_last_answers_date() -> None:
    """``GraphClient.server_date``: the ``Date`` of the last answer, on the client's clock."""
    from types import SimpleNamespace

    from commands.graph.client import GraphClient
    from commands.graph.settings import GraphSettings
    from executor.redaction import Redactor

    settings = GraphSettings.from_connection({
        "tenant_id": "00000000-0000-4000-8000-000000000001",
        "client_id": "00000000-0000-4000-8000-000000000002", "client_secret": "s3cret-value"})
    ticks = {"t": 7.0}
    client = GraphClient(settings, redactor=Redactor(), monotonic=lambda: ticks["t"],
                         pace=False)
    answers = iter(["Sun, 01 Nov 2026 00:00:00 GMT", "Sun, 01 Nov 2026 00:00:09 GMT"])

    def request(*args: Any, **kwargs: Any) -> Any:
        ticks["t"] += 1
        return SimpleNamespace(status_code=200, headers={"Date": next(answers)},
                               content=b'{"value": []}', close=lambda: None)

    client.transport.request = request  # type: ignore[method-assign]
    client.auth.token = lambda: "token"  # type: ignore[method-assign]
    assert client.server_date is None
    client.get("auditLogs/signIns")
    assert (client.server_date, client.server_date_at) == (T0, 8.0)
    client.get("auditLogs/signIns")
    assert (client.server_date, client.server_date_at) == (T0 + timedelta(seconds=9), 9.0)
    client.close()


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = job_cli.main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_unusable_paths_are_one_line_and_exit_2(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    conn = str(tmp_path / "missing-connection.yaml")
    code, err = _cli(["run", "--connection", conn, "--state", str(tmp_path / "s.db"),
                      "--sink", "/proc/nope/x.ndjson"], capsys)
    assert code == 2 and err.count("\n") == 1 and "/proc/nope/x.ndjson" in err, err
    code, err = _cli(["run", "--connection", conn, "--state", "/proc/nope/s.db",
                      "--sink", str(tmp_path / "e.ndjson")], capsys)
    assert code == 2 and err.count("\n") == 1 and "/proc/nope/s.db" in err, err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, not at all" * 100)
    code, err = _cli(["run", "--connection", conn, "--state", str(garbage),
                      "--sink", str(tmp_path / "e.ndjson")], capsys)
    assert code == 2 and err.count("\n") == 1 and "garbage.db" in err, err
    code, err = _cli(["status", "--state", str(garbage)], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a job state" in err, err
    code, err = _cli(["run", "--connection", conn, "--state", str(tmp_path / "s.db"),
                      "--sink", str(tmp_path / "e.ndjson")], capsys)
    assert code == 2 and err.count("\n") == 1 and "missing-connection.yaml" in err, err


def test_a_failure_inside_the_run_is_one_line_and_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    conn = tmp_path / "connection.yaml"
    conn.write_text("tenant_id: 00000000-0000-4000-8000-000000000001\n"
                    "client_id: 00000000-0000-4000-8000-000000000002\n"
                    "client_secret: s3cret-value\n")
    argv = ["run", "--connection", str(conn), "--state", str(tmp_path / "s.db"),
            "--sink", str(tmp_path / "e.ndjson")]
    for exc in (sqlite3.OperationalError("disk I/O error"), OSError(28, "No space left"),
                RuntimeError("s3cret-value leaked")):
        def boom(self: Any, exc: BaseException = exc) -> Any:
            raise exc

        monkeypatch.setattr(Job, "run_cycle", boom)
        code, err = _cli(argv, capsys)
        assert code == 1 and err.count("\n") == 1 and err.startswith("error: "), err
        assert "s3cret-value" not in err


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
