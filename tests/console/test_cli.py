"""``connector.py console`` as a process: the URL first on stdout, loopback only, usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.conftest import ROOT

CONSOLE = [sys.executable, str(ROOT / "connector.py"), "console"]


def test_the_first_line_is_the_tokened_loopback_url(tmp_path: Path) -> None:
    connection = tmp_path / "tenant-a.yaml"
    connection.write_text("client_id: abc\nclient_secret: s3cr3t-value-123\n"
                          "tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47\n")
    process = subprocess.Popen([*CONSOLE, "--connection", str(connection)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
        assert parts.query.startswith("token=") and len(parts.query) > 40
        session = requests.Session()
        session.trust_env = False
        assert session.get(f"http://127.0.0.1:{parts.port}/commands").status_code == 401
        page = session.get(url, timeout=10)
        assert page.status_code == 200 and "Test Command" in page.text
        connections = session.get(f"http://127.0.0.1:{parts.port}/connections", timeout=10)
        assert "tenant-a" in connections.text and "abc" in connections.text
        assert "s3cr3t-value-123" not in connections.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def _usage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CONSOLE, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_a_missing_connection_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _usage("--connection", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "nope.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_port_is_one_line_and_exit_2() -> None:
    for args in (["--port", "70000"], ["--port", "eighty"], ["--bogus"]):
        done = _usage(*args)
        assert done.returncode == 2 and done.stdout == "", args
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
