"""The deployment recipes run commands the job's own parser accepts (docker is not needed)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = "entra-id-protection"


def _joined(path: Path) -> str:
    """The file with backslash-continued lines joined."""
    return re.sub(r"\\\n\s*", " ", path.read_text())


def _line(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.M)
    assert match, f"no line matches {pattern}"
    return match.group(1)


def _dockerfile_command() -> list[str]:
    text = _joined(ROOT / "Dockerfile")
    entrypoint = json.loads(_line(r"^ENTRYPOINT (\[.*\])$", text))
    command = json.loads(_line(r"^CMD (\[.*\])$", text))
    return [*entrypoint, *command]


def _systemd_command() -> list[str]:
    text = _joined(ROOT / "deploy" / "entra-id-protection-job.service")
    return shlex.split(_line(r"^ExecStart=(.*)$", text))


def _cron_command() -> list[str]:
    lines = [line for line in (ROOT / "deploy" / "entra-id-protection.cron").read_text()
             .splitlines() if line.strip() and not line.startswith(("#", "SHELL="))]
    (line,) = lines
    words = shlex.split(line.split(">>")[0])
    return words[next(i for i, w in enumerate(words) if w.endswith(f"/{SCRIPT}")):]


@pytest.mark.parametrize(("recipe", "verb"), [
    (_dockerfile_command, "start"), (_systemd_command, "start"), (_cron_command, "run")])
def test_each_recipe_runs_a_job_command_the_job_accepts(recipe: object, verb: str) -> None:
    from commands.job_cli import GraphJobHooks
    from executor.job.cli import build_parser

    argv = recipe()  # type: ignore[operator]
    assert Path(argv[0]).name == SCRIPT
    assert argv[1] == "job"
    args = build_parser(GraphJobHooks()).parse_args(argv[2:])
    assert args.verb == verb
    assert args.connection and args.state and args.sink


def test_the_dockerfile_builds_as_the_install_test_does() -> None:
    text = _joined(ROOT / "Dockerfile")
    assert re.search(r"pip wheel --no-deps\b.* \.$", text, re.M)
    assert re.search(r"python -m venv /opt/entra-id-protection", text)
    assert re.search(r"pip install .*\.whl", text)
    assert "--emulator" not in _dockerfile_command()  # the default command talks to Graph
