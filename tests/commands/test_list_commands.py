"""Every list command (a manifest entry on the generic list handler), against the emulator.

Commands, resources, page sizes and permissions come from the manifest (tests/manifest_facts);
results are compared with the emulator's ground truth (its control API).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import manifest_facts as facts
from tests.commands.support import graph_calls, run_cli

TOP_LEVEL = {name: c for name, c in facts.list_commands().items()
             if "{" not in facts.resource_of(name)["path"]}
"""List commands on a top-level collection (List History needs a parent id: its own module)."""


def _path(name: str) -> str:
    return "/v1.0/" + facts.resource_of(name)["path"]


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_no_top_returns_every_record_once_in_pages_of_page_size(
        name: str, connector: Any, emulator: Any, control: Any) -> None:
    resource = facts.resource_of(name)
    truth = {r["id"] for r in control.records(resource["id"], select="id")}
    control.clear_requests()
    result = connector.run(name, {}, emulator.connection())
    ids = [item["id"] for item in result["raw_data"]["value"]]
    assert result["status"] == result["return_data"] == "Successful"
    assert len(ids) == len(set(ids)) and set(ids) == truth
    assert result["key_fields"]["count"] == len(truth)
    assert result["key_fields"]["more"] is False
    assert "@odata.nextLink" not in result["raw_data"]
    calls = graph_calls(control, _path(name))
    assert calls[0]["params"] == {"$top": str(resource["page_size"])}
    assert len(calls) == max(1, -(-len(truth) // resource["page_size"]))


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_and_select_return_at_most_top_and_the_link(name: str, emulator: Any,
                                                        control: Any, tmp_path: Path) -> None:
    resource = facts.resource_of(name)
    select = ["id", resource["properties"][1]]
    control.clear_requests()
    code, result, _ = run_cli(emulator.connection(), tmp_path, "run", name, "-i", "Top=3",
                              "-i", "Select=" + ", ".join(select))
    assert code == 0
    items = result["raw_data"]["value"]
    assert len(items) <= 3 and all(set(i) <= set(select) and "id" in i for i in items)
    (call,) = graph_calls(control, _path(name))
    assert call["params"] == {"$top": "3", "$select": ",".join(select)}
    if result["key_fields"]["more"]:
        link = result["raw_data"]["@odata.nextLink"]
        assert link.lower().startswith((emulator.base_url + _path(name)).lower())
        assert "$skiptoken=" in link


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_above_the_endpoints_cap_is_refused_before_any_request(
        name: str, connector: Any, emulator: Any, control: Any) -> None:
    cap = facts.resource_of(name)["max_top"]
    control.clear_requests()
    result = connector.plugin.run(name, {"Top": cap + 1}, emulator.connection())
    assert result.exit_code == 2
    assert f"between 1 and {cap}" in result.errors[0].message
    assert control.graph_requests() == []


@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_missing_permission_is_named(name: str, connector: Any, emulator: Any) -> None:
    result = connector.run(name, {"Top": 1}, emulator.connection(app="none"))
    assert result["status"] == result["return_data"] == "Failed"
    (error,) = result["errors"]
    assert error["failure_indicator"] == facts.commands()[name]["failure_indicator"]
    assert error["status_code"] == 403
    assert any(p in error["message"] for p in facts.resource_of(name)["permissions"])


CLOUD_BOUND = sorted(n for n in TOP_LEVEL if facts.resource_of(n).get("unavailable_in_clouds"))


@pytest.mark.parametrize("name", CLOUD_BOUND)
def test_a_cloud_without_the_resource_is_refused_before_any_request(
        name: str, connector: Any, emulator: Any, control: Any) -> None:
    control.clear_requests()
    connection = {**emulator.connection(), "cloud": "china"}
    connection.pop("server_url")
    connection["auth_url"] = "https://login.chinacloudapi.cn/{tenant_id}/oauth2/v2.0/token"
    result = connector.run(name, {}, connection)
    assert result["status"] == "Failed"
    assert "'china' cloud" in result["errors"][0]["message"]
    assert control.graph_requests() == []


def test_risky_users_filter_is_sent_as_typed_and_applied(connector: Any, emulator: Any,
                                                         control: Any) -> None:
    expected = {u["id"] for u in control.records("riskyUsers")
                if u["riskLevel"] == "high" and u["riskState"] == "atRisk"}
    control.clear_requests()
    text = "riskLevel eq 'high' and riskState eq microsoft.graph.riskState'atRisk'"
    result = connector.run("List Risky Users", {"Filter": text}, emulator.connection())
    assert {u["id"] for u in result["raw_data"]["value"]} == expected
    (call,) = graph_calls(control, "/v1.0/identityProtection/riskyUsers")
    assert call["params"]["$filter"] == text
