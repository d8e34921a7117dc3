"""``job run`` as a process against the emulator: stdout sink, mapping overrides, exit codes and
``job status`` when one connection lacks its permissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    from emulator import Emulator

    with Emulator(seed=5, tenants=1, signins=400) as emulator:
        yield emulator


def job(*argv: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "commands.job_cli", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": path})


def connection_file(emu: Any, tmp: Path, app: str) -> str:
    path = tmp / f"{app}.yaml"
    path.write_text(yaml.safe_dump(emu.connection(app=app)))
    return str(path)


def test_stdout_sink_with_mapping_overrides(emu: Any, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(yaml.safe_dump(
        {"risk_user": {"add": [{"name": "Risk Score", "path": ".riskLevel"}]}}))
    done = job("run", "--connection", connection_file(emu, tmp_path, "full"),
               "--event-type", "Risk Users", "--state", str(tmp_path / "state.db"),
               "--sink", "-", "--mappings", str(overrides), "--no-pace", "--backfill-days", "30")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events and {e["event_type"] for e in events} == {"riskUser"}
    assert all(e["fields"]["__Risk_Score"] == e["raw"]["riskLevel"] for e in events)
    summary = json.loads(done.stderr[done.stderr.index("{"):])  # the summary goes to stderr
    assert summary["delivered"] == len(events)


def test_a_connection_without_permissions_fails_alone(emu: Any, tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    done = job("run", "--connection", connection_file(emu, tmp_path, "full"),
               "--connection", connection_file(emu, tmp_path, "none"),
               "--event-type", "riskDetection", "--state", state,
               "--sink", str(tmp_path / "events.ndjson"), "--no-pace")
    assert done.returncode == 3, done.stderr  # partially successful
    summary = json.loads(done.stdout)
    assert [r["error"] is None for r in summary["runs"]] == [True, False]
    assert "403" in summary["runs"][1]["error"]
    status = json.loads(job("status", "--state", state).stdout)
    failing = [s for s in status["sources"] if s["last_error"]]
    assert len(failing) == 1 and failing[0]["events_delivered"] == 0
    health = {h["ok"] for h in status["health"]}
    assert health == {True, False}
    assert any("IdentityRiskEvent.Read.All" in (h["last_failure"] or "")
               for h in status["health"])
    secret = emu.connection(app="full").get("client_secret", "")
    assert secret and secret not in done.stdout + done.stderr


def test_sink_lines_and_status_name_the_tenant_connection_and_file(emu: Any,
                                                                   tmp_path: Path) -> None:
    named = tmp_path / "prod.yaml"
    named.write_text(yaml.safe_dump({**emu.connection(app="full"), "name": "contoso-prod"}))
    unnamed = connection_file(emu, tmp_path, "readonly")  # labelled by its stem
    state, sink = str(tmp_path / "state.db"), tmp_path / "events.ndjson"
    done = job("run", "--connection", str(named), "--connection", unnamed,
               "--event-type", "Risk Users", "--state", state, "--sink", str(sink),
               "--no-pace", "--backfill-days", "30")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert lines and all(line["tenant_id"] == emu.tenant_ids[0] for line in lines)
    assert {line["connection"] for line in lines} == {"contoso-prod", "readonly"}
    assert f"contoso-prod ({named})" in done.stderr  # log lines name connection and file
    status = json.loads(job("status", "--state", state).stdout)
    assert {s["label"] for s in status["sources"]} == {f"contoso-prod ({named})",
                                                       f"readonly ({unnamed})"}


def test_a_bad_connection_file_is_named(emu: Any, tmp_path: Path) -> None:
    good = connection_file(emu, tmp_path, "full")
    bad = tmp_path / "broken.yaml"
    bad.write_text(yaml.safe_dump({**emu.connection(app="full"), "server_url": "ftp://x"}))
    done = job("run", "--connection", good, "--connection", str(bad), "--state",
               str(tmp_path / "state.db"), "--sink", str(tmp_path / "events.ndjson"))
    assert done.returncode == 2
    assert str(bad) in done.stderr and "Server URL" in done.stderr
