"""No secret in any output, log or error, in any encoding, even at DEBUG.

Every command runs through connector.py at ``--log-level DEBUG`` (plus a wrong secret, and the
certificate credential); stdout and stderr are searched for the client secret (plain,
URL-encoded, JSON-escaped, base64), the private key, bearer tokens and anything JWT-shaped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from executor.redaction import variants
from tests.conftest import ROOT

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def _run(connection: dict[str, Any], tmp_path: Path, *args: str) -> str:
    path = tmp_path / "connection.yaml"
    path.write_text(yaml.safe_dump(connection))
    run = subprocess.run([sys.executable, str(ROOT / "connector.py"), "--log-level", "DEBUG",
                          *args, "--connection", str(path)],
                         capture_output=True, text=True, timeout=120)
    return run.stdout + run.stderr


def _assert_clean(output: str, secrets: list[str]) -> None:
    for secret in secrets:
        for form in variants(secret):
            assert form not in output, f"a form of a secret leaked: {form[:4]}…"
    assert not JWT.search(output), "a token leaked"
    assert not re.search(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{12,}", output)


@pytest.fixture(scope="module")
def risky_user(emulator: Any, control: Any) -> str:
    return control.records("riskyUsers")[0]["id"]


COMMANDS: list[tuple[str, ...]] = [
    ("run", "Test Connection"),
    ("run", "List Risky Users", "-i", "Top=3"),
    ("run", "List Risk Detections", "-i", "Top=3"),
    ("run", "List Sign-In", "-i", "Top=3"),
    ("run", "Fetch Event", "-i", "Number of Event(s) Fetched=3"),
    ("fetch", "-i", "Event Type=Risk Users"),
    ("run", "List History", "-i", "Risky User ID={user}"),
    ("run", "Confirm Compromised", "-i", "User IDs={user}"),
    ("run", "Dismiss Risky User", "-i", "User IDs={user}"),
    ("run", "Confirm Safe", "-i", "User IDs={user}"),
    ("run", "List Risky Users", "-i", "Filter=riskLevel eq"),  # refused input
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_no_secret_at_debug_level(emulator: Any, risky_user: str, tmp_path: Path,
                                  args: tuple[str, ...]) -> None:
    connection = emulator.connection()
    output = _run(connection, tmp_path, *(a.format(user=risky_user) for a in args))
    if "Invalid input" not in output:  # refused inputs send nothing, so log nothing
        assert "DEBUG" in output  # the logs really were at debug level
    _assert_clean(output, [connection["client_secret"]])


def test_no_secret_when_the_secret_is_wrong(emulator: Any, tmp_path: Path) -> None:
    wrong = "Zx9~wrong.SECRET_value-0123456789abcdefgh"
    connection = {**emulator.connection(), "client_secret": wrong}
    for args in (("run", "Test Connection"), ("run", "List Risky Users")):
        output = _run(connection, tmp_path, *args)
        assert "AADSTS7000215" in output
        _assert_clean(output, [wrong])


def test_no_private_key_with_a_certificate_credential(emulator: Any, tmp_path: Path) -> None:
    connection = emulator.connection(app="cert")
    pem = Path(connection["certificate_path"]).read_text()
    key_lines = [line for line in pem.splitlines()
                 if line and not line.startswith("-----")][:40]
    for args in (("run", "Test Connection"), ("run", "List Sign-In", "-i", "Top=2")):
        output = _run(connection, tmp_path, *args)
        assert '"status": "Successful"' in output
        assert not any(line in output for line in key_lines if len(line) > 16)
        _assert_clean(output, [])
