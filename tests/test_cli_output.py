"""The human view: --output table|json, commands --details, help with examples, broken pipes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

MANIFEST = yaml.safe_load((ROOT / "integration.yaml").read_text())


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "connector.py"), *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "120"})


@pytest.fixture
def connection_file(emulator: Any, tmp_path: Path) -> str:
    path = tmp_path / "connection.yaml"
    path.write_text(yaml.safe_dump(emulator.connection()))
    return str(path)


def test_json_is_the_default_for_a_pipe(connection_file: str) -> None:
    run = _cli("run", "List Risky Users", "-i", "Top=2", "--connection", connection_file)
    assert run.returncode == 0
    assert json.loads(run.stdout)["status"] == "Successful"


def test_table_shows_status_return_data_key_fields_and_every_row(connection_file: str) -> None:
    args = ("run", "List Risky Users", "-i", "Top=3", "--connection", connection_file)
    result = json.loads(_cli(*args, "--output", "json").stdout)
    table = _cli(*args, "--output", "table")
    assert table.returncode == 0
    text = table.stdout
    assert text.startswith("List Risky Users: Successful")
    assert f"Return Data  {result['return_data']}" in text
    for name in result["key_fields"]:
        assert name in text
    rows = result["raw_data"]["value"]
    assert len(rows) == 3
    for row in rows:  # the same seeded tenant answers both runs alike
        assert row["id"] in text and row["userPrincipalName"] in text
    assert "3 row(s)" in text


def test_table_of_an_action_lists_each_ids_outcome(connection_file: str) -> None:
    listing = json.loads(_cli("run", "List Risky Users", "-i", "Top=1", "--output", "json",
                              "--connection", connection_file).stdout)
    user = listing["raw_data"]["value"][0]["id"]
    unknown = "00000000-0000-4000-8000-00000000abcd"
    run = _cli("run", "Confirm Safe", "-i", f"User IDs={user},{unknown}", "--output", "table",
               "--connection", connection_file)
    assert run.returncode == 3  # partially successful
    lines = run.stdout.splitlines()
    assert lines[0] == "Confirm Safe: Partially Successful"
    outcome = {line.split()[0]: line.split()[1] for line in lines
               if line.strip().startswith((user, unknown))}
    assert outcome == {user: "succeeded", unknown: "failed"}
    assert "Errors" in lines


def test_table_of_a_fetch_shows_each_event(connection_file: str) -> None:
    # A window days back: detections that other tests' actions add meanwhile are newer.
    now = datetime.now(UTC)
    window = ("-i", f"Start Time={(now - timedelta(days=10)):%Y-%m-%dT%H:%M:%SZ}",
              "-i", f"End Time={(now - timedelta(days=3)):%Y-%m-%dT%H:%M:%SZ}")
    run = _cli("fetch", "-i", "Event Type=Risk Detections", "-i",
               "Number of Event(s) Fetched=2", *window, "--connection", connection_file)
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(events) == 2
    table = _cli("fetch", "-i", "Event Type=Risk Detections", "-i",
                 "Number of Event(s) Fetched=2", *window, "--connection", connection_file,
                 "--output", "table").stdout
    assert "Events: 2 row(s)" in table
    for event in events:
        assert event["fields"]["Unique_Event_Key"] in table


def test_a_failed_run_shows_its_error_in_the_table() -> None:
    run = _cli("run", "List Risky Users", "-i", "Top=0", "--output", "table")
    assert run.returncode == 2
    assert run.stdout.startswith("List Risky Users: Failed")
    assert "Top" in run.stdout.split("Errors", 1)[1]


def test_a_terminal_gets_the_table_by_default() -> None:
    """stdout a pseudo-terminal: no --output gives the table."""
    leader, follower = pty.openpty()
    child = subprocess.Popen([sys.executable, str(ROOT / "connector.py"), "commands"],
                             stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        child.wait(timeout=60)
    text = b"".join(chunks).decode()
    assert text.lstrip().startswith("Command")
    assert "List Risky Users" in text and not text.lstrip().startswith("[")


def test_details_give_each_inputs_required_allowed_default_and_example() -> None:
    run = _cli("commands", "--details", "Fetch Event", "--output", "json")
    assert run.returncode == 0
    (details,) = json.loads(run.stdout)
    (command,) = [c for c in MANIFEST["commands"] if c["id"] == "fetch-event"]
    assert [i["name"] for i in details["inputs"]] == [i["display_name"]
                                                      for i in command["inputs"]]
    for given, declared in zip(details["inputs"], command["inputs"], strict=True):
        assert given["required"] == declared["required"]
        assert given["example"] == declared.get("example")
        if isinstance(declared.get("default"), str | int):
            assert given["default"] == declared["default"]
    event_type = next(i for i in details["inputs"] if i["id"] == "event_type")
    values = command["resource_by"]["values"]
    assert event_type["allowed"] == [v["name"] for v in values.values()]


def test_details_table_and_an_unknown_name() -> None:
    table = _cli("commands", "--details", "list-risky-users", "--output", "table")
    assert table.returncode == 0
    header = table.stdout.splitlines()[3].split()
    assert header == ["Input", "Required", "Type", "Allowed", "Default", "Example"]
    unknown = _cli("commands", "--details", "No Such Command")
    assert unknown.returncode == 2
    assert "List Risky Users" in json.loads(unknown.stdout)["errors"][0]["message"]


@pytest.mark.parametrize("verb", ["commands", "validate", "run", "fetch", "map"])
def test_every_verb_has_help_with_examples(verb: str) -> None:
    run = _cli(verb, "--help")
    assert run.returncode == 0
    examples = run.stdout.split("examples:", 1)[1]
    assert f"connector.py {verb}" in examples


def test_run_help_names_every_command_and_its_inputs() -> None:
    text = _cli("run", "--help").stdout
    for command in MANIFEST["commands"]:
        assert command["display_name"] in text
        for spec in command["inputs"]:
            assert spec["display_name"] in text


def test_version_in_a_clone() -> None:
    run = _cli("--version")
    assert run.returncode == 0
    assert run.stdout.split()[0] == "connector.py"
    assert run.stdout.split()[1][0].isdigit()


def test_a_reader_that_goes_away_ends_it_quietly(tmp_path: Path) -> None:
    """`map big.json | head -1`: no traceback, no 'Exception ignored', exit 141 (SIGPIPE)."""
    sign_in = json.loads((ROOT / "tests" / "mapping" / "graph_examples"
                          / "signIns_list_1.normalized.json").read_text())["value"][0]
    saved = tmp_path / "many.json"
    saved.write_text(json.dumps([sign_in] * 3000))  # ~3 MB of output, far over a pipe's buffer
    child = subprocess.Popen([sys.executable, str(ROOT / "connector.py"), "map", str(saved)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    first = child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert json.loads(first)["fields"]
    assert stderr == ""
