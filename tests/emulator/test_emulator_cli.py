"""The `emulator` verb: a real process, its connection file, its flags, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from emulator import Emulator
from emulator.cli import main, write_connection

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the connection file never appeared"
        time.sleep(0.05)


def test_serves_writes_connection_and_stops_cleanly(tmp_path):
    conn_path = tmp_path / "conn.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--seed", "3", "--signins", "300",
         "--now", "2025-03-01T12:00:00Z", "--frozen", "--write-connection", str(conn_path),
         "--fault-rate", "1", "--fault-statuses", "503", "--fault-path", "riskDetections",
         "--fault-retry-after", "date", "--fault-seed", "9", "--rate-limits"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _wait_for(conn_path, proc)
        conn = yaml.safe_load(conn_path.read_text())
        assert set(conn) == {"server_url", "auth_url", "client_id", "client_secret",
                             "ca_bundle", "tenant_id"}
        assert conn["server_url"].startswith("https://127.0.0.1:")
        assert Path(conn["ca_bundle"]).parent == tmp_path  # a copy that outlives the process
        assert oct(conn_path.stat().st_mode & 0o777) == "0o600"
        verify = conn["ca_bundle"]
        token = requests.post(conn["auth_url"], verify=verify, data={
            "grant_type": "client_credentials", "client_id": conn["client_id"],
            "client_secret": conn["client_secret"],
            "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        ok = requests.get(f"{conn['server_url']}/v1.0/identityProtection/riskyUsers",
                          headers=headers, verify=verify)
        assert ok.status_code == 200
        faults = requests.get(f"{conn['server_url']}/_emulator/faults", verify=verify).json()
        assert faults["rate"] == 1 and faults["statuses"] == [503]
        assert faults["retry_after"] == "date" and faults["seed"] == 9
        assert faults["path"] == "riskDetections" and faults["rate_limits"] is True
        requests.post(f"{conn['server_url']}/_emulator/clock", json={"advance_seconds": 5},
                      verify=verify)
        failed = requests.get(f"{conn['server_url']}/v1.0/identityProtection/riskDetections",
                              headers=headers, verify=verify)
        assert failed.status_code == 503
        assert "Retry-After" in failed.headers
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "serving https://127.0.0.1:" in err and "stopped" in err
    assert conn["client_secret"] not in err


def test_refuses_non_loopback_and_bad_flags(capsys):
    assert main(["--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert main(["--fault-rate", "3"]) == 2
    assert main(["--fault-latency-ms", "9,1"]) == 2
    assert main(["--no-such-flag"]) == 2
    assert main(["--help"]) == 0


def test_one_connection_file_per_tenant_for_the_chosen_app(tmp_path):
    out = tmp_path / "conns"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--tenants", "3", "--signins", "50", "--app",
         "expired", "--write-connections", str(out)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _wait_for(out / "tenant-2.yaml", proc)
        conns = [yaml.safe_load((out / f"tenant-{n}.yaml").read_text()) for n in range(3)]
        assert len({c["tenant_id"] for c in conns}) == 3
        assert len({c["client_id"] for c in conns}) == 3
        for conn in conns:
            assert conn["auth_url"].endswith(f"/{conn['tenant_id']}/oauth2/v2.0/token")
            answer = requests.post(conn["auth_url"], verify=conn["ca_bundle"], data={
                "grant_type": "client_credentials", "client_id": conn["client_id"],
                "client_secret": conn["client_secret"],
                "scope": "https://graph.microsoft.com/.default"})
            assert answer.status_code == 401 and answer.json()["error_codes"] == [7000222]
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "3 connection files written" in err


@pytest.mark.parametrize("app", ["readonly", "none", "cert"])
def test_connection_file_for_each_app(tmp_path, app):
    with Emulator(seed=2, signins=20) as emu:
        path = tmp_path / f"{app}.yaml"
        write_connection(emu, path, app)
        conn = yaml.safe_load(path.read_text())
        if app == "cert":
            assert "client_secret" not in conn
            pem = Path(conn["certificate_path"])
            assert pem.parent == tmp_path and oct(pem.stat().st_mode & 0o777) == "0o600"
            assert "PRIVATE KEY" in pem.read_text()
        else:
            assert conn["client_secret"] == emu.connection(app=app)["client_secret"]
    assert main(["--app", "superuser"]) == 2
