"""List Sign-In: every page to the end, or at most Top with the link to continue."""

from __future__ import annotations

from typing import Any

from tests import manifest_facts as facts
from tests.commands.support import graph_calls

PATH = "/v1.0/auditLogs/signIns"


def test_every_page_is_followed_and_each_sign_in_comes_once(connector: Any, emulator: Any,
                                                            control: Any) -> None:
    truth = {s["id"] for s in control.records("signIns", select="id")}
    control.clear_requests()
    result = connector.run("List Sign-In", {}, emulator.connection())
    ids = [s["id"] for s in result["raw_data"]["value"]]
    assert len(ids) == len(truth) == len(set(ids))
    assert set(ids) == truth
    calls = graph_calls(control, PATH.lower())
    page_size = facts.resource_of("List Sign-In")["page_size"]
    assert len(calls) == -(-len(truth) // page_size)  # pages of the declared page size
    assert calls[0]["params"] == {"$top": str(page_size)}
    assert all("$skiptoken" in c["params"] for c in calls[1:])
    created = [s["createdDateTime"] for s in result["raw_data"]["value"]]
    assert created == sorted(created, reverse=True)  # most recent first


def test_top_stops_after_one_page_and_returns_the_link(connector: Any, emulator: Any,
                                                       control: Any) -> None:
    control.clear_requests()
    result = connector.run("List Sign-In", {"Top": 25, "Filter": "status/errorCode eq 50126"},
                           emulator.connection())
    values = result["raw_data"]["value"]
    assert len(values) == 25 and all(s["status"]["errorCode"] == 50126 for s in values)
    assert "$skiptoken=" in result["raw_data"]["@odata.nextLink"]
    (call,) = graph_calls(control, PATH.lower())
    assert call["params"] == {"$top": "25", "$filter": "status/errorCode eq 50126"}


def test_graphs_invalid_filter_clause_is_reported_as_graph_said(connector: Any,
                                                                emulator: Any) -> None:
    # Valid OData on a real property, but a value the enum does not have: Graph's 400.
    result = connector.run("List Sign-In", {"Filter": "riskLevelAggregated eq 'extreme'"},
                           emulator.connection())
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert error == {"failure_indicator": "List Sign-In failed.", "status_code": 400,
                     "message": error["message"], "request_id": error["request_id"]}
    assert "Invalid filter clause" in error["message"]
    assert error["request_id"]  # Graph's request-id header, for a support case


def test_a_short_page_before_top_keeps_an_exact_continuation(emulator: Any,
                                                              control: Any) -> None:
    """Graph may send pages shorter than $top before the end; Top N still loses nothing."""
    import requests

    from connector import Connector

    text = "status/errorCode eq 50126"
    truth = [s["id"] for s in sorted(
        (s for s in control.records("signIns") if s["status"]["errorCode"] == 50126),
        key=lambda s: (s["createdDateTime"], s["id"]), reverse=True)]
    budget = emulator.graph_api.scan_budget
    emulator.graph_api.scan_budget = 150  # the emulator stops scanning early: short pages
    try:
        result = Connector.load().run("List Sign-In", {"Top": 40, "Filter": text},
                                      emulator.connection())
    finally:
        emulator.graph_api.scan_budget = budget
    first = [s["id"] for s in result["raw_data"]["value"]]
    assert first == truth[:40]
    keys = result["key_fields"]
    assert keys["more"] is True
    link, skip = keys["next_link"], keys.get("next_link_skip", 0)
    connection = emulator.connection()
    token = requests.post(connection["auth_url"], verify=emulator.ca_bundle, timeout=30, data={
        "grant_type": "client_credentials", "client_id": connection["client_id"],
        "client_secret": connection["client_secret"],
        "scope": "https://graph.microsoft.com/.default"}).json()["access_token"]
    page = requests.get(link, headers={"Authorization": f"Bearer {token}"},
                        verify=emulator.ca_bundle, timeout=30).json()
    following = [s["id"] for s in page["value"]][skip:]
    assert following and following == truth[40:40 + len(following)]
