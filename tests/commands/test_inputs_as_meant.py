"""Inputs as the reference means them (issue 12 item 3): URLs with a trailing slash, dates
past the sign-in retention said before any request, and Next Link continuing a list command.

The plugin's clock is injected (a fixed "now" a little after the emulator's tenant time), so the
retention figures do not depend on when the test runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import manifest_facts as facts
from tests.commands.support import graph_calls, run_cli
from tests.conftest import ROOT


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def clocked(now: datetime) -> Any:
    """A connector whose clock is fixed at ``now``."""
    from connector import Connector

    return Connector.load(ROOT, now=lambda: now)


SIGN_IN_RETENTION_DAYS = 30
"""Entra keeps sign-ins 30 days on P1/P2 (shared/reference/graph-api-facts.md §1.2)."""


def _retention_days() -> int:
    """The manifest's figure, checked against the reference's (not taken on trust)."""
    days = int(facts.resource_of("List Sign-In")["retention_days"])
    assert days == SIGN_IN_RETENTION_DAYS
    return days


# -- trailing slashes ---------------------------------------------------------------------------

def test_server_and_auth_urls_with_a_trailing_slash_work(connector: Any, emulator: Any,
                                                         control: Any) -> None:
    connection = emulator.connection()
    connection["server_url"] = connection["server_url"].rstrip("/") + "/"
    connection["auth_url"] = connection["auth_url"].rstrip("/") + "/"
    control.clear_requests()
    result = connector.run("List Risky Users", {"Top": 1}, connection)
    assert result["status"] == "Successful", result["errors"]
    (call,) = graph_calls(control, "/identityProtection/riskyUsers")
    assert "//" not in call["path"]


# -- the sign-in retention ----------------------------------------------------------------------

def test_list_sign_in_refuses_a_filter_older_than_the_retention(clocked: Any, emulator: Any,
                                                               control: Any,
                                                               now: datetime) -> None:
    days = _retention_days()
    control.clear_requests()
    for operator in ("ge", "le", "eq"):
        old = _iso(now - timedelta(days=days, hours=1))
        result = clocked.run("List Sign-In",
                             {"Filter": f"status/errorCode eq 0 and createdDateTime {operator} "
                                        f"{old}"}, emulator.connection())
        assert result["status"] == "Failed" and result["return_data"] == "Failed"
        (error,) = result["errors"]
        assert error["message"].startswith("Invalid input 'Filter': createdDateTime")
        assert f"{days}-day retention" in error["message"]
        oldest = _iso(now - timedelta(days=days))
        assert oldest in error["message"]
        assert "\n" not in error["message"]
    assert graph_calls(control) == []
    recent = clocked.run("List Sign-In", {
        "Filter": f"createdDateTime ge {_iso(now - timedelta(days=days - 1))}", "Top": 1},
        emulator.connection())
    assert recent["status"] == "Successful", recent["errors"]


def test_the_refusal_is_exit_2_on_the_command_line(emulator: Any, control: Any,
                                                   tmp_path: Path) -> None:
    control.clear_requests()
    old = _iso(datetime.now(UTC) - timedelta(days=_retention_days() + 5))
    code, result, stderr = run_cli(emulator.connection(), tmp_path, "run", "List Sign-In",
                                   "-i", f"Filter=createdDateTime ge {old}")
    assert code == 2 and result["status"] == "Failed"
    assert "Traceback" not in stderr
    assert graph_calls(control) == []


def test_fetch_event_starts_an_old_window_at_the_oldest_sign_in_kept(
        clocked: Any, emulator: Any, control: Any, now: datetime) -> None:
    days = _retention_days()
    control.clear_requests()
    result = clocked.run("Fetch Event", {"Start Time": _iso(now - timedelta(days=45)),
                                         "Number of Event(s) Fetched": 1},
                         emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    oldest = _iso(now - timedelta(days=days))
    (warning,) = result["warnings"]
    assert "Start Time" in warning and f"{days}-day retention" in warning and oldest in warning
    (call,) = graph_calls(control, "/auditLogs/signIns")
    assert f"createdDateTime ge {oldest}" in call["params"]["$filter"]
    # other event types keep their window: the retention is the sign-ins' resource's
    detections = clocked.run("Fetch Event", {"Event Type": "Risk Detections",
                                             "Start Time": _iso(now - timedelta(days=45))},
                             emulator.connection())
    assert "warnings" not in detections
    assert _iso(now - timedelta(days=45)) in detections["context_data"]["filter"]


def test_fetch_event_refuses_a_window_that_ends_before_the_retention(
        clocked: Any, emulator: Any, control: Any, now: datetime) -> None:
    control.clear_requests()
    result = clocked.run("Fetch Event", {"Start Time": _iso(now - timedelta(days=50)),
                                         "End Time": _iso(now - timedelta(days=40))},
                         emulator.connection())
    assert result["status"] == "Failed"
    assert "End Time" in result["errors"][0]["message"]
    assert "retention" in result["errors"][0]["message"]
    assert graph_calls(control) == []
    recent = clocked.run("Fetch Event", {"Number of Event(s) Fetched": 1},
                         emulator.connection())
    assert recent["status"] == "Successful" and "warnings" not in recent


# -- Next Link ----------------------------------------------------------------------------------

def _all_ids(connector: Any, name: str, connection: dict[str, Any],
             inputs: dict[str, Any]) -> list[str]:
    return [i["id"] for i in connector.run(name, inputs, connection)["raw_data"]["value"]]


@pytest.mark.parametrize("name", sorted(n for n in facts.list_commands()
                                        if "{" not in facts.resource_of(n)["path"]))
def test_next_link_continues_every_list_command_without_loss_or_repeat(
        name: str, connector: Any, emulator: Any) -> None:
    connection = emulator.connection()
    everything = _all_ids(connector, name, connection, {})
    seen: list[str] = []
    inputs: dict[str, Any] = {"Top": 7}
    for _ in range(len(everything)):
        result = connector.run(name, inputs, connection)
        assert result["status"] == "Successful", result["errors"]
        seen += [i["id"] for i in result["raw_data"]["value"]]
        fields = result["key_fields"]
        if not fields["more"]:
            break
        inputs = {"Top": 7, "Next Link": fields["next_link"],
                  "Next Link Skip": fields.get("next_link_skip", 0)}
    assert seen == everything


def test_next_link_continues_list_history(connector: Any, emulator: Any,
                                          control: Any) -> None:
    connection = emulator.connection()
    user = control.records("riskyUsers", select="id")[0]["id"]
    first = connector.run("List History", {"Risky User ID": user, "Top": 1}, connection)
    if not first["key_fields"]["more"]:
        pytest.skip("the first risky user has one history item")
    rest = connector.run("List History", {"Risky User ID": user,
                                          "Next Link": first["key_fields"]["next_link"]},
                         connection)
    assert rest["status"] == "Successful", rest["errors"]
    ids = [i["id"] for i in first["raw_data"]["value"] + rest["raw_data"]["value"]]
    assert ids == _all_ids(connector, "List History", connection, {"Risky User ID": user})


@pytest.mark.parametrize("link, problem", [
    ("http://{host}/v1.0/identityProtection/riskyUsers?$skiptoken=x", "https://"),
    ("https://graph.evil.example/v1.0/identityProtection/riskyUsers?$skiptoken=x",
     "not to this connection's Server URL"),
    ("https://{host}/v1.0/auditLogs/signIns?$skiptoken=x", "not for this command's collection"),
    ("https://{host}/beta/identityProtection/riskyUsers?$skiptoken=x",
     "not for this command's collection"),
    ("https://user:pw@{host}/v1.0/identityProtection/riskyUsers", "user information"),
    ("not a link", "Next Link"),
])
def test_a_foreign_next_link_is_refused_before_any_request(link: str, problem: str,
                                                           connector: Any, emulator: Any,
                                                           control: Any) -> None:
    connection = emulator.connection()
    host = connection["server_url"].split("://", 1)[1].rstrip("/")
    control.clear_requests()
    result = connector.plugin.run("List Risky Users", {"Next Link": link.format(host=host)},
                                  connection)
    assert result.exit_code == 2
    (error,) = result.to_dict()["errors"]
    assert "Next Link" in error["message"] and problem in error["message"]
    assert graph_calls(control) == []


def test_next_link_is_not_mixed_with_filter_or_select(connector: Any, emulator: Any,
                                                      control: Any) -> None:
    connection = emulator.connection()
    first = connector.run("List Risky Users", {"Top": 1}, connection)
    control.clear_requests()
    for extra in ({"Filter": "riskLevel eq 'high'"}, {"Select": "id"}):
        result = connector.plugin.run("List Risky Users",
                                      {"Next Link": first["key_fields"]["next_link"], **extra},
                                      connection)
        assert result.exit_code == 2 and "Next Link" in result.errors[0].message
    skip_alone = connector.plugin.run("List Risky Users", {"Next Link Skip": 2}, connection)
    assert skip_alone.exit_code == 2 and "Next Link Skip" in skip_alone.errors[0].message
    assert graph_calls(control) == []


# -- inputs a Fetch Event type does not use; Risk Event Type as an open string ------------------

def test_the_python_api_warns_in_the_result_only(connector: Any, emulator: Any,
                                                 capfd: Any) -> None:
    capfd.readouterr()
    result = connector.run("Fetch Event", {"Event Type": "Risk Users", "Risk Level": "High",
                                           "Risk Event Type": "Unlikely Travel"},
                           emulator.connection())
    assert result["status"] == "Successful", result["errors"]
    (warning,) = result["warnings"]  # Risk Level applies to risky users; Risk Event Type not
    assert warning.startswith("Input 'Risk Event Type' ignored") and "Risk Users" in warning
    assert "riskLevel eq 'high'" in result["context_data"]["filter"]
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("value", ["x' or riskLevel eq 'high", "unlikelyTravel'", "a b", "x" * 200])
def test_a_risk_event_type_that_is_no_token_is_refused_before_any_request(
        value: str, connector: Any, emulator: Any, control: Any) -> None:
    control.clear_requests()
    result = connector.plugin.run("Fetch Event", {"Event Type": "Risk Detections",
                                                  "Risk Event Type": value},
                                  emulator.connection())
    assert result.exit_code == 2
    (error,) = result.errors
    assert "'Risk Event Type'" in error.message and "\n" not in error.message
    assert graph_calls(control) == []


def test_commands_details_suggest_the_known_risk_event_types(connector: Any,
                                                             tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    run = subprocess.run([sys.executable, str(ROOT / "connector.py"), "commands", "--details",
                          "Fetch Event", "--output", "json"], capture_output=True, text=True,
                         timeout=120, check=True)
    (details,) = json.loads(run.stdout)
    inputs = {i["name"]: i for i in details["inputs"]}
    spec = next(i for i in connector.plugin.manifest.command_named("Fetch Event").inputs
                if i.display_name == "Risk Event Type")
    assert inputs["Risk Event Type"]["allowed"] == []
    assert inputs["Risk Event Type"]["suggested"] == [a.display_name
                                                      for a in spec.allowed_values]
    assert inputs["Risk Level"]["only_when"]["otherwise"] == "ignored"
    assert inputs["User Principal Names"]["only_when"]["otherwise"] == "refused"


def test_the_table_view_lists_the_warnings(emulator: Any, tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    connection_file = tmp_path / "connection.yaml"
    connection_file.write_text(yaml.safe_dump(emulator.connection()))
    run = subprocess.run([sys.executable, str(ROOT / "connector.py"), "run", "Fetch Event",
                          "-i", "Risk Level=High", "-i", "Number of Event(s) Fetched=1",
                          "--output", "table", "--connection", str(connection_file)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    warning = lines[lines.index("Warnings") + 1].strip()
    assert warning.startswith("Input 'Risk Level' ignored")
    assert f"warning: {warning}" in run.stderr.splitlines()
