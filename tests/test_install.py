"""Install and run anywhere: a clone installed in a fresh venv and run from /; the wheel's files.

The steps of the Dockerfile: build from the clone, create a venv, install with the pinned
dependencies, run the console script (the Dockerfile installs the wheel it builds; here
`pip install <clone>` builds the same wheel on the way, and the wheel is also built on its own
for the checks of its contents). Dependencies come from the package
index (pip's cache makes a second run quick); the venv is created without pip and installed
into by this interpreter's pip (`pip --python`), which saves bootstrapping a pip per run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = "entra-id-protection"
GENERIC_NAMES = {"commands", "executor", "emulator", "connector", "demo", "tests", "bench",
                 "schemas", "field_mappings", "sample_outputs"}
NOT_SHIPPED = ("tests/", "bench/", ".ci/", "deploy/")


def _repo_files() -> list[str]:
    """The clone's files: tracked plus new ones not ignored (what a commit would carry)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return sorted(p for p in listed.splitlines() if (ROOT / p).is_file())


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(venv, wheel): a copy of the clone installed in a fresh venv; the wheel built from it."""
    work = tmp_path_factory.mktemp("install")
    clone = work / "clone"
    for name in _repo_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                  "-w", str(work / "dist"), str(clone)])
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (work / "dist").glob("*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--quiet", str(clone)])
    assert install.returncode == 0, install.stderr[-2000:]
    yield venv, wheel


def _script(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, from /, with nothing of the clone on any path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
    return _run([str(venv / "bin" / SCRIPT), *args], cwd="/", env=env)


def test_version_is_the_wheels(installed: tuple[Path, Path]) -> None:
    venv, wheel = installed
    version = wheel.name.split("-")[1]
    run = _script(venv, "--version")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [SCRIPT, version]


def test_a_command_runs_from_root_against_the_embedded_emulator(
        installed: tuple[Path, Path]) -> None:
    run = _script(installed[0], "run", "List Risky Users", "-i", "Top=1", "--emulator",
                  "--output", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "Successful"
    assert len(result["raw_data"]["value"]) == 1


def test_a_platform_imports_the_connector_from_the_package(installed: tuple[Path, Path]
                                                          ) -> None:
    """Embedding: `Connector.run` in-process; bad input is a Failed result, no request."""
    venv, _ = installed
    code = ("from entra_id_protection.connector import Connector; import json; "
            "r = Connector.load().run('List Risky Users', {'Top': 'many'}, {}); "
            "print(json.dumps(r))")
    run = _run([str(venv / "bin" / "python"), "-c", code], cwd="/",
               env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "Failed" and "Top" in result["errors"][0]["message"]


def test_every_verb_answers_help(installed: tuple[Path, Path]) -> None:
    for verb in ("commands", "validate", "run", "fetch", "map", "emulator", "job"):
        run = _script(installed[0], verb, "--help")
        assert run.returncode == 0, (verb, run.stderr)
        assert "usage:" in run.stdout, verb


def test_the_installed_plugin_validates_itself(installed: tuple[Path, Path]) -> None:
    run = _script(installed[0], "validate")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["ok"] is True


def test_nothing_generic_lands_in_site_packages(installed: tuple[Path, Path]) -> None:
    venv, wheel = installed
    (site,) = (venv / "lib").glob("python3*/site-packages")
    top = {p.name.split(".")[0] for p in site.iterdir()}
    assert not top & GENERIC_NAMES
    assert "entra_id_protection" in top
    with zipfile.ZipFile(wheel) as archive:
        roots = {name.split("/")[0] for name in archive.namelist()}
    assert {r for r in roots if not r.endswith(".dist-info")} == {"entra_id_protection"}


def test_the_wheel_carries_every_plugin_file(installed: tuple[Path, Path]) -> None:
    """Each module and data file of the plugin directory, at its place under the package: a new
    package or data directory must be added to pyproject.toml."""
    _, wheel = installed
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name.removeprefix("entra_id_protection/") for name in archive.namelist()}
    top_level = {"connector.py", "integration.yaml", "connection.example.yaml"}
    wanted = [name for name in _repo_files() if name in top_level or (
        "/" in name and not name.startswith(NOT_SHIPPED)
        and (name.endswith(".py") or re.match(r"(schemas|field_mappings|sample_outputs)/", name)))]
    assert wanted, "no plugin files found"
    assert sorted(set(wanted) - shipped) == []
    assert not [name for name in shipped if name.startswith(("tests/", "bench/"))]


def test_the_wheel_requires_exactly_the_pinned_runtime_dependencies(
        installed: tuple[Path, Path]) -> None:
    _, wheel = installed
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in archive.namelist()
                        if n.endswith(".dist-info/METADATA"))
    required = {line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")}
    pinned = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert required == pinned
