"""List Risky Users: every page or at most Top, Filter and Select as given, errors as Graph's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.commands.support import graph_calls, run_cli

PATH = "/v1.0/identityProtection/riskyUsers"


def test_no_top_returns_every_risky_user_once(connector: Any, emulator: Any,
                                              control: Any) -> None:
    truth = {u["id"] for u in control.records("riskyUsers")}
    control.clear_requests()
    result = connector.run("List Risky Users", {}, emulator.connection())
    ids = [u["id"] for u in result["raw_data"]["value"]]
    assert result["status"] == "Successful"
    assert len(ids) == len(set(ids)) and set(ids) == truth
    assert result["return_data"] == len(truth)
    assert "@odata.nextLink" not in result["raw_data"]
    (call,) = graph_calls(control, PATH)  # one request: the largest page the endpoint allows
    assert call["params"] == {"$top": "500"}


def test_top_returns_at_most_top_and_the_continuation_link(emulator: Any, control: Any,
                                                           tmp_path: Path) -> None:
    control.clear_requests()
    code, result, _ = run_cli(emulator.connection(), tmp_path, "run", "list-risky-users",
                              "-i", "Top=3", "-i", "Select=id, riskLevel")
    assert code == 0
    assert [set(u) for u in result["raw_data"]["value"]] == [{"id", "riskLevel"}] * 3
    link = result["raw_data"]["@odata.nextLink"]
    assert link.startswith(emulator.base_url + PATH) and "$skiptoken=" in link
    assert result["key_fields"]["next_link"] == link
    (call,) = graph_calls(control, PATH)
    assert call["params"] == {"$top": "3", "$select": "id,riskLevel"}


def test_filter_is_sent_as_typed_and_applied(connector: Any, emulator: Any,
                                             control: Any) -> None:
    expected = {u["id"] for u in control.records("riskyUsers")
                if u["riskLevel"] == "high" and u["riskState"] == "atRisk"}
    control.clear_requests()
    text = "riskLevel eq 'high' and riskState eq microsoft.graph.riskState'atRisk'"
    result = connector.run("List Risky Users", {"Filter": text}, emulator.connection())
    assert {u["id"] for u in result["raw_data"]["value"]} == expected
    (call,) = graph_calls(control, PATH)
    assert call["params"]["$filter"] == text


def test_missing_permission_is_named(connector: Any, emulator: Any) -> None:
    result = connector.run("List Risky Users", {}, emulator.connection(app="none"))
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert error["failure_indicator"] == "List Risky Users failed."
    assert error["status_code"] == 403
    assert "Insufficient privileges" in error["message"]
    assert "IdentityRiskyUser.Read.All" in error["message"]


def test_china_cloud_is_refused_before_any_request(connector: Any, emulator: Any,
                                                   control: Any) -> None:
    control.clear_requests()
    connection = {**emulator.connection(), "cloud": "china"}
    connection.pop("server_url")
    connection["auth_url"] = "https://login.chinacloudapi.cn/{tenant_id}/oauth2/v2.0/token"
    result = connector.run("List Risky Users", {}, connection)
    assert result["status"] == "Failed"
    assert "China" in result["errors"][0]["message"]
    assert control.graph_requests() == []
