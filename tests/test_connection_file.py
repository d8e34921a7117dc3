"""Connection files: ${ENV} references, the secret from ENTRA_CLIENT_SECRET, clear refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT


def _test_connection(connection: dict[str, Any], tmp_path: Path,
                     env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "connection.yaml"
    path.write_text(yaml.safe_dump(connection))
    return subprocess.run([sys.executable, str(ROOT / "connector.py"), "run", "Test Connection",
                           "--connection", str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_values_may_reference_the_environment(emulator: Any, tmp_path: Path) -> None:
    connection = emulator.connection()
    secret = connection["client_secret"]
    connection.update(client_secret="${MY_ENTRA_SECRET}", client_id="${MY_ENTRA_APP}")
    run = _test_connection(connection, tmp_path, {"MY_ENTRA_SECRET": secret,
                                                  "MY_ENTRA_APP": emulator.connection()[
                                                      "client_id"]})
    assert run.returncode == 0, run.stdout


def test_the_secret_may_come_from_entra_client_secret(emulator: Any, tmp_path: Path) -> None:
    connection = emulator.connection()
    secret = connection.pop("client_secret")
    run = _test_connection(connection, tmp_path, {"ENTRA_CLIENT_SECRET": secret})
    assert run.returncode == 0, run.stdout


def test_a_missing_environment_variable_is_named(emulator: Any, tmp_path: Path) -> None:
    connection = {**emulator.connection(), "client_secret": "${NOT_SET_ANYWHERE_123}"}
    run = _test_connection(connection, tmp_path, {})
    assert run.returncode == 2
    assert "Invalid input 'Client Secret': environment variable NOT_SET_ANYWHERE_123 is not set" \
        in run.stdout


def test_an_unknown_parameter_and_a_bad_api_version_are_refused(emulator: Any,
                                                                tmp_path: Path) -> None:
    run = _test_connection({**emulator.connection(), "colour": "blue"}, tmp_path, {})
    assert run.returncode == 2 and "Invalid input 'colour'" in run.stdout
    run = _test_connection({**emulator.connection(), "api_version": "v2.0"}, tmp_path, {})
    assert run.returncode == 2
    assert "Invalid input 'Api Version': 'v2.0' is not one of v1.0, beta" in run.stdout
