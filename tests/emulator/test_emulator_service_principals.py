"""Risky service principals (workload identities), Graph v1.0: lists, history, detections,
the two bound actions, roles, and the control API's records for both collections."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.emulator.support import Client, reference_dir

SPS = "/v1.0/identityProtection/riskyServicePrincipals"
DETECTIONS = "/v1.0/identityProtection/servicePrincipalRiskDetections"


def csdl_properties(entity: str) -> set[str]:
    """Property names of an entity type in the shared CSDL subset (plus the inherited id)."""
    root = ET.parse(reference_dir() / "graph-v1.0-subset.csdl.xml").getroot()
    for node in root.iter():
        if node.tag == "EntityType" and node.get("Name") == entity:
            return {p.get("Name", "") for p in node if p.tag == "Property"} | {"id"}
    raise AssertionError(f"{entity} not in the CSDL subset")


def ids(records: list[dict[str, Any]]) -> list[str]:
    return sorted(r["id"] for r in records)


def test_list_is_the_ground_truth_with_the_csdl_shape(client: Client) -> None:
    listed = client.all_pages(SPS, query={"$top": 5})
    truth = client.truth("riskyServicePrincipals", version="v1.0")
    assert listed and ids(listed) == ids(truth)
    expected = csdl_properties("riskyServicePrincipal")
    assert all(set(r) - {"@odata.type"} == expected for r in listed)
    assert {r["riskState"] for r in listed} >= {"atRisk", "dismissed"}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", r["appId"]) for r in listed)


def test_detections_list_and_shape(client: Client) -> None:
    listed = client.all_pages(DETECTIONS)
    truth = client.truth("servicePrincipalRiskDetections", version="v1.0")
    assert listed and ids(listed) == ids(truth)
    expected = csdl_properties("servicePrincipalRiskDetection")
    assert all(set(r) == expected for r in listed)
    principals = {r["id"] for r in client.truth("riskyServicePrincipals")}
    assert {r["servicePrincipalId"] for r in listed} <= principals
    # activityType.servicePrincipal is an evolvable member: hidden unless the caller opts in.
    assert {r["activity"] for r in listed} == {"unknownFutureValue"}
    opted = client.get(DETECTIONS, headers={"Prefer": "include-unknown-enum-members"})
    assert {r["activity"] for r in opted.json()["value"]} == {"servicePrincipal"}


def test_history_belongs_to_its_principal(client: Client) -> None:
    principal = client.truth("riskyServicePrincipals")[0]
    response = client.get(f"{SPS}/{principal['id']}/history")
    assert response.status_code == 200, response.text
    body = response.json()
    assert f"riskyServicePrincipals('{principal['id']}')/history" in body["@odata.context"]
    items = body["value"]
    assert items and all(i["servicePrincipalId"] == principal["id"] for i in items)
    assert all(set(i) >= {"activity", "initiatedBy", "riskState", "appId"} for i in items)
    assert client.get(f"{SPS}/00000000-0000-0000-0000-000000000000/history").status_code == 404


def test_get_one_and_top_limit(client: Client) -> None:
    principal = client.truth("riskyServicePrincipals")[1]
    one = client.get(f"{SPS}/{principal['id']}")
    assert one.status_code == 200 and one.json()["id"] == principal["id"]
    too_many = client.get(SPS, query={"$top": 501})
    assert too_many.status_code == 400


@pytest.mark.parametrize(("app", "path", "status"), [
    ("readonly", SPS, 200),
    ("readonly", DETECTIONS, 200),
    ("none", SPS, 403),
    ("none", DETECTIONS, 403),
])
def test_read_roles(client: Client, app: str, path: str, status: int) -> None:
    assert client.get(path, app=app).status_code == status


def test_readonly_app_cannot_act(client: Client) -> None:
    principal = client.truth("riskyServicePrincipals")[0]
    response = client.post(f"{SPS}/dismiss", {"servicePrincipalIds": [principal["id"]]},
                           app="readonly")
    assert response.status_code == 403


@pytest.mark.parametrize(("action", "state"), [("confirmCompromised", "confirmedCompromised"),
                                               ("dismiss", "dismissed")])
def test_action_changes_state_history_and_detections(fresh: Client, action: str,
                                                     state: str) -> None:
    target = next(p for p in fresh.truth("riskyServicePrincipals")
                  if p["riskState"] == "atRisk")
    before = len(fresh.get(f"{SPS}/{target['id']}/history").json()["value"])
    response = fresh.post(f"{SPS}/{action}", {"servicePrincipalIds": [target["id"]]})
    assert response.status_code == 204, response.text
    after = fresh.get(f"{SPS}/{target['id']}").json()
    assert after["riskState"] == state
    history = fresh.get(f"{SPS}/{target['id']}/history").json()["value"]
    assert len(history) == before + 1
    detections = [d for d in fresh.truth("servicePrincipalRiskDetections")
                  if d["servicePrincipalId"] == target["id"]]
    if action == "dismiss":
        assert all(d["riskState"] != "atRisk" for d in detections)
        changed = [d for d in detections if d["riskState"] == state]
        assert changed and all(d["riskDetail"] == "adminDismissedAllRiskForServicePrincipal"
                               for d in changed)
    else:
        assert any(d["riskEventType"] == "adminConfirmedServicePrincipalCompromised"
                   for d in detections)


def test_unknown_id_fails_the_batch_unchanged(fresh: Client) -> None:
    target = next(p for p in fresh.truth("riskyServicePrincipals")
                  if p["riskState"] == "atRisk")
    response = fresh.post(f"{SPS}/dismiss", {"servicePrincipalIds": [
        target["id"], "11111111-1111-4111-8111-111111111111"]})
    assert response.status_code == 404
    assert fresh.get(f"{SPS}/{target['id']}").json()["riskState"] == "atRisk"


def test_sixty_ids_per_call_and_the_parameter_name(fresh: Client) -> None:
    known = [p["id"] for p in fresh.truth("riskyServicePrincipals")]
    many = (known * 61)[:61]
    assert fresh.post(f"{SPS}/dismiss", {"servicePrincipalIds": many}).status_code == 400
    assert fresh.post(f"{SPS}/dismiss", {"userIds": known[:1]}).status_code == 400
    assert fresh.post(f"{SPS}/dismiss",
                      {"servicePrincipalIds": (known * 60)[:60]}).status_code == 204


def test_control_api_adds_records_to_both_collections(fresh: Client) -> None:
    added = fresh.control("POST", "records/riskyServicePrincipals", {"records": [
        {"displayName": "Added by test", "riskLevel": "high"}]})["value"][0]
    assert added["riskState"] == "atRisk" and added["displayName"] == "Added by test"
    det = fresh.control("POST", "records/servicePrincipalRiskDetections", {"records": [
        {"servicePrincipalId": added["id"], "riskEventType": "leakedCredentials"}]})["value"][0]
    listed = fresh.all_pages(DETECTIONS)
    assert det["id"] in {d["id"] for d in listed}
    mine = next(d for d in listed if d["id"] == det["id"])
    assert mine["servicePrincipalDisplayName"] == "Added by test"
    assert added["id"] in {p["id"] for p in fresh.all_pages(SPS)}


def test_confirm_compromised_needs_readwrite_and_is_logged(fresh: Client) -> None:
    target = fresh.truth("riskyServicePrincipals")[2]
    fresh.control("DELETE", "requests")
    assert fresh.post(f"{SPS}/confirmCompromised",
                      {"servicePrincipalIds": [target["id"]]}).status_code == 204
    log = fresh.control("GET", "requests")["value"]
    posted = [e for e in log if e["method"] == "POST"]
    assert posted[-1]["body"] == {"servicePrincipalIds": [target["id"]]}


def test_switches_apply_to_service_principal_actions(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"unknown_ids": "204", "action_delay_seconds": 10})
    target = next(p for p in fresh.truth("riskyServicePrincipals")
                  if p["riskState"] == "atRisk")
    response = fresh.post(f"{SPS}/confirmCompromised", {"servicePrincipalIds": [
        target["id"], "22222222-2222-4222-8222-222222222222"]})
    assert response.status_code == 204
    pending = fresh.get(f"{SPS}/{target['id']}").json()
    assert (pending["riskState"], pending["isProcessing"]) == ("atRisk", True)
    fresh.control("POST", "clock", {"advance_seconds": 10})
    settled = fresh.get(f"{SPS}/{target['id']}").json()
    assert (settled["riskState"], settled["isProcessing"]) == ("confirmedCompromised", False)


def test_control_api_history_and_detections_follow_the_named_principal(fresh: Client) -> None:
    """A history item takes its risky principal's state; one for no risky principal is
    refused; a detection naming an unknown principal keeps that id."""
    owner = fresh.truth("riskyServicePrincipals")[0]
    item = fresh.control("POST", "records/servicePrincipalHistory", {"records": [
        {"servicePrincipalId": owner["id"]}]})["value"][0]
    assert (item["servicePrincipalId"], item["displayName"], item["appId"]) == (
        owner["id"], owner["displayName"], owner["appId"])
    stranger = "33333333-3333-4333-8333-333333333333"
    refused = fresh.session.post(f"{fresh.base}/_emulator/records/servicePrincipalHistory",
                                 json={"records": [{"servicePrincipalId": stranger}]})
    assert refused.status_code == 400 and "servicePrincipalId" in refused.text
    det = fresh.control("POST", "records/servicePrincipalRiskDetections", {"records": [
        {"servicePrincipalId": stranger}]})["value"][0]
    assert det["servicePrincipalId"] == stranger
    assert det["appId"] not in {p["appId"] for p in fresh.truth("riskyServicePrincipals")}
