"""The Makefile's set-up: Python >= 3.11 checked first, .venv rebuilt for another interpreter.

Only `make -n` (print, do not run) and an interpreter that fails its check: nothing is
installed or removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)


def test_an_old_python_is_refused_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\n"
                   "case \"$*\" in *--version*) echo 'Python 3.10.13';; *) echo 0;; esac\n")
    old.chmod(0o755)
    run = _make(f"PYTHON={old}", "install")
    assert run.returncode != 0
    (line,) = [line for line in run.stderr.splitlines() if "Python >= 3.11" in line]
    assert "Python 3.10.13" in line
    assert "pip" not in run.stdout + run.stderr


def test_another_interpreter_rebuilds_the_venv_from_scratch(tmp_path: Path) -> None:
    same = _make("-n", "install")  # the default PYTHON, as `make test` ran it
    if "venv" in same.stdout:
        pytest.skip(".venv was not made by `make install` with the default interpreter")
    python = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                            capture_output=True, text=True, check=True).stdout.strip()
    other = tmp_path / "python3"  # the same version under another path: another interpreter
    other.symlink_to(python)
    run = _make("-n", f"PYTHON={other}", "install")
    assert run.returncode == 0, run.stderr
    steps = run.stdout.splitlines()
    assert steps[0].startswith("rm -rf .venv")
    assert any(f"{other} -m venv .venv" in step for step in steps)
