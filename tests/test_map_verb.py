"""The map verb reads events in any shape a user has, one at a time, and says when nothing
matched; `validate --mappings/--connection/--sample` checks a user's own files offline."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

EXAMPLES = ROOT / "tests" / "mapping" / "graph_examples"
RESPONSE = json.loads((EXAMPLES / "signIns_list_1.normalized.json").read_text())
SIGN_IN = RESPONSE["value"][0]
DETECTIONS = json.loads((EXAMPLES / "riskDetections_list_1.json").read_text())


def _cli(*args: str, stdin: str = "", env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "connector.py"), *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _sign_ins(count: int) -> list[dict[str, Any]]:
    """Distinct copies of Microsoft's example sign-in (own id and IP address each)."""
    return [{**SIGN_IN, "id": f"00000000-0000-0000-0000-{n:012d}",
             "ipAddress": f"10.0.{n // 256}.{n % 256}"} for n in range(count)]


SHAPES: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    "graph response": lambda events: json.dumps({"@odata.context": "x", "value": events}),
    "response with value last": lambda events: json.dumps(
        {"@odata.nextLink": "https://graph/next", "value": events}),
    "bare array": json.dumps,
    "NDJSON": lambda events: "".join(json.dumps(e) + "\n" for e in events),
    "pretty array": lambda events: json.dumps(events, indent=2),
    "saved result": lambda events: json.dumps(
        {"command": "List Sign-In", "status": "Successful", "raw_data": {"value": events}}),
    "saved result of an array": lambda events: json.dumps(
        {"command": "x", "status": "Successful", "key_fields": {}, "raw_data": events}),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_maps_each_event_in_order(shape: str) -> None:
    events = _sign_ins(3)
    run = _cli("map", "--event-type", "Sign-in Logs", stdin=SHAPES[shape](events))
    assert run.returncode == 0, run.stdout
    mapped = _lines(run.stdout)
    assert [m["fields"]["Source_IP_address"] for m in mapped] == [e["ipAddress"] for e in events]
    assert {m["event_type"] for m in mapped} == {"signIn"}


def test_a_single_event_maps() -> None:
    run = _cli("map", "--event-type", "signIn", stdin=json.dumps(SIGN_IN, indent=2))
    assert run.returncode == 0, run.stdout
    (mapped,) = _lines(run.stdout)
    assert mapped["fields"]["City"] == SIGN_IN["location"]["city"]
    assert mapped["fields"]["Unique_Event_Key"] == SIGN_IN["id"]


def test_a_single_risk_detection_gets_its_specific_source() -> None:
    detection = {**DETECTIONS["value"][0], "eventType": "riskDetection"}
    run = _cli("map", stdin=json.dumps(detection))
    (mapped,) = _lines(run.stdout)
    assert mapped["event_type"] == "riskDetection"
    assert mapped["fields"]["Event_Type"] == detection["riskEventType"]


def test_map_reads_a_file_argument(tmp_path: Path) -> None:
    saved = tmp_path / "saved.ndjson"
    saved.write_text("".join(json.dumps(e) + "\n" for e in _sign_ins(2)))
    run = _cli("map", str(saved))
    assert run.returncode == 0, run.stdout
    assert len(_lines(run.stdout)) == 2


def test_a_missing_file_is_one_line_with_exit_2(tmp_path: Path) -> None:
    run = _cli("map", str(tmp_path / "nope.json"))
    assert run.returncode == 2
    assert "nope.json" in json.loads(run.stdout)["errors"][0]["message"]
    assert "Traceback" not in run.stderr


def test_nothing_matched_is_an_error_without_partial_output() -> None:
    run = _cli("map", stdin=json.dumps([{"colour": "blue"}, {"shape": "round"}]))
    assert run.returncode == 1
    result = json.loads(run.stdout)  # the whole of stdout is the one result object
    assert result["status"] == "Failed"
    assert "none of the 2 event(s) matched" in result["errors"][0]["message"]


def test_events_before_the_first_match_are_kept() -> None:
    events = [{"colour": "blue"}, *_sign_ins(1)]
    run = _cli("map", stdin=json.dumps(events))
    assert run.returncode == 0
    mapped = _lines(run.stdout)
    assert [bool(m["fields"]) for m in mapped] == [False, True]


@pytest.mark.parametrize(("stdin", "says"), [
    ("", "holds no events"),
    ("[]", "holds no events"),
    ('{"value": []}', "holds no events"),
    ("42", "a single JSON value"),
    ('{"value": [{"id": ', "not JSON"),
    ("not json at all", "not JSON"),
])
def test_input_without_events_is_refused_with_exit_2(stdin: str, says: str) -> None:
    run = _cli("map", stdin=stdin)
    assert run.returncode == 2
    message = json.loads(run.stdout)["errors"][0]["message"]
    assert says in message and "NDJSON" in message  # names the shapes it reads
    assert "Traceback" not in run.stderr


def test_input_cut_short_maps_the_whole_events_then_fails() -> None:
    """Streaming: the events read before the damage are out; the result says where it broke."""
    cut = json.dumps({"value": _sign_ins(2)})[:-40]
    run = _cli("map", "--event-type", "signIn", stdin=cut)
    assert run.returncode == 2
    first, rest = run.stdout.split("\n", 1)
    assert json.loads(first)["fields"]["Unique_Event_Key"] == _sign_ins(1)[0]["id"]
    assert "not JSON" in json.loads(rest)["errors"][0]["message"]


def test_events_are_written_as_they_arrive() -> None:
    """The first event's line comes out while the array is still open (a pipe fed slowly)."""
    child = subprocess.Popen([sys.executable, str(ROOT / "connector.py"), "map",
                              "--event-type", "signIn"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(b'{"value": [' + json.dumps(SIGN_IN).encode() + b",")
        child.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "no output while the input was still open"
        first = json.loads(child.stdout.readline())
        assert first["fields"]["Unique_Event_Key"] == SIGN_IN["id"]
        child.stdin.write(json.dumps(SIGN_IN).encode() + b"]}")
        child.stdin.close()
        assert len(_lines(child.stdout.read().decode())) == 1
        assert child.wait(timeout=60) == 0
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize("path", ["$.riskLevelAggregated", "$.value[*].riskLevelAggregated"])
def test_a_dollar_rooted_override_path_is_refused_with_the_relative_one(tmp_path: Path,
                                                                        path: str) -> None:
    overrides = tmp_path / "mine.yaml"
    overrides.write_text(yaml.safe_dump(
        {"default": {"add": [{"name": "Risk Score", "path": path}]}}))
    run = _cli("map", "--mappings", str(overrides), stdin=json.dumps(SIGN_IN))
    assert run.returncode == 2
    message = json.loads(run.stdout)["errors"][0]["message"]
    assert "mine.yaml" in message and "write '.riskLevelAggregated'" in message
    fixed = tmp_path / "fixed.yaml"  # the path the hint gives maps
    fixed.write_text(overrides.read_text().replace(path, ".riskLevelAggregated"))
    (mapped,) = _lines(_cli("map", "--mappings", str(fixed), stdin=json.dumps(SIGN_IN)).stdout)
    assert mapped["fields"]["__Risk_Score"] == SIGN_IN["riskLevelAggregated"]


# validate with a user's own files


def _write(path: Path, data: Any) -> str:
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_validate_a_users_files_reports_the_coverage_of_their_fields(tmp_path: Path) -> None:
    mappings = _write(tmp_path / "mine.yaml", {"default": {"add": [
        {"name": "Risk Score", "path": ".riskLevelAggregated"},
        {"name": "Never There", "path": ".noSuchProperty"}]}})
    sample = tmp_path / "sample.json"  # more than one batch of the counting
    events = [{k: v for k, v in e.items() if n % 3 or k != "riskLevelAggregated"}
              for n, e in enumerate(_sign_ins(2500))]
    sample.write_text(json.dumps({"value": events}))
    run = _cli("validate", "--mappings", mappings, "--connection",
               str(ROOT / "connection.example.yaml"), "--sample", str(sample),
               env={"ENTRA_CLIENT_SECRET": "s3cret-Value-never-shown"})
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    fields = {f["name"]: f for s in report["mapping_coverage"]["sources"] for f in s["fields"]}
    with_score = sum(1 for e in events if "riskLevelAggregated" in e)
    assert fields["Risk Score"]["matched"] == with_score and fields["Risk Score"]["custom"]
    assert report["mapping_coverage"]["events"] == 2500
    assert fields["Never There"]["matched"] == 0
    assert any("Never There" in note for note in report["notes"])
    assert "s3cret-Value-never-shown" not in run.stdout + run.stderr


@pytest.mark.parametrize(("connection", "says"), [
    ({"client_id": "x", "tenant_id": "t", "colour": "blue"}, "colour"),
    ({"tenant_id": "t", "client_secret": "x"}, "Client ID"),
    ({"client_id": "c", "tenant_id": "t", "client_secret": "${NOT_SET_ANYWHERE_42}"},
     "NOT_SET_ANYWHERE_42"),
])
def test_validate_a_broken_connection_file_names_it_and_the_parameter(
        tmp_path: Path, connection: dict[str, Any], says: str) -> None:
    path = _write(tmp_path / "tenant.yaml", connection)
    run = _cli("validate", "--connection", path)
    assert run.returncode == 1
    problems = json.loads(run.stdout)["problems"]
    assert len(problems) == 1 and "tenant.yaml" in problems[0] and says in problems[0]


def test_validate_reports_every_problem_of_an_overrides_file(tmp_path: Path) -> None:
    mappings = _write(tmp_path / "mine.yaml", {"default": {
        "add": [{"name": "A", "path": "$.a"}, {"name": "B", "path": ".b[?(@.x"}],
        "remove": ["No Such Field"]}})
    run = _cli("validate", "--mappings", mappings)
    assert run.returncode == 1
    problems = " | ".join(json.loads(run.stdout)["problems"])
    assert "'.a'" in problems and "'B'" in problems and "No Such Field" in problems
