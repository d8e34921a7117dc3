"""Helpers for the command tests: run a command in-process or through the CLI, read requests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml

from tests.conftest import ROOT


def graph_calls(control: Any, fragment: str = "/") -> list[dict[str, Any]]:
    """Graph requests whose path contains ``fragment``, with their query parsed."""
    calls = []
    for entry in control.graph_requests():
        path = entry["path"].lower()
        if not path.startswith(("/v1.0/", "/beta/")) or fragment.lower() not in path:
            continue
        params = {k: v[0] for k, v in parse_qs(entry["query"] or "").items()}
        calls.append({**entry, "params": params})
    return calls


def token_requests(control: Any) -> list[dict[str, Any]]:
    return [e for e in control.graph_requests() if "/oauth2/v2.0/token" in e["path"]]


def run_cli(connection: dict[str, Any], tmp_path: Path, *args: str,
            env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    """``connector.py run ...`` as a platform would: exit code, parsed stdout, stderr."""
    connection_file = tmp_path / "connection.yaml"
    connection_file.write_text(yaml.safe_dump(connection))
    run = subprocess.run([sys.executable, str(ROOT / "connector.py"), *args, "--connection",
                          str(connection_file)], capture_output=True, text=True, timeout=120,
                         env=env)
    return run.returncode, json.loads(run.stdout), run.stderr


def no_sleep(control: Any) -> dict[str, Any]:
    """Options that make the client wait on the emulator's clock instead of the wall clock."""
    return {"sleep": control.advance}
