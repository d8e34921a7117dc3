"""The control API: clock, records with visible_from, ground truth, request log, tenants."""

from __future__ import annotations

import re

import requests

from emulator import Emulator
from emulator.clock import EmulatorClock
from emulator.timefmt import TICKS_PER_SECOND, parse_iso
from tests.emulator.support import Client

NOW = "2025-03-01T12:00:00Z"


def test_clock(fresh):
    assert fresh.control("GET", "clock") == {"now": "2025-03-01T12:00:00.000000Z",
                                             "frozen": True}
    assert fresh.control("POST", "clock", {"advance_seconds": 90.5})["now"] == \
        "2025-03-01T12:01:30.500000Z"
    assert fresh.control("POST", "clock", {"now": "2025-04-01T00:00:00Z"})["now"] == \
        "2025-04-01T00:00:00.000000Z"
    ticking = fresh.control("POST", "clock", {"frozen": False})
    assert ticking["frozen"] is False
    for bad in ({}, {"now": "yesterday"}, {"advance_seconds": "x"},
                {"now": NOW, "advance_seconds": 1}, {"tick": 1}):
        assert fresh.session.post(f"{fresh.base}/_emulator/clock", json=bad).status_code == 400


def test_clock_ticks_with_real_time_unless_frozen():
    real_ns = [5_000_000_000]
    start = parse_iso(NOW)
    clock = EmulatorClock(start, monotonic_ns=lambda: real_ns[0])
    real_ns[0] += 50_000_000  # 50 ms pass
    assert clock.now() == start + TICKS_PER_SECOND // 20
    clock.set_frozen(True)
    real_ns[0] += 50_000_000
    assert clock.now() == start + TICKS_PER_SECOND // 20
    clock.advance(2)
    clock.set_frozen(False)
    real_ns[0] += 100_000_000
    assert clock.now() == start + TICKS_PER_SECOND // 20 + 2 * TICKS_PER_SECOND \
        + TICKS_PER_SECOND // 10


def test_late_signin_with_visible_from(fresh):
    path = "/v1.0/auditLogs/signIns"
    late = fresh.control("POST", "records/signIns", {
        "records": [{"createdDateTime": "2025-03-01T11:56:00Z",
                     "userPrincipalName": "late@contoso.test"}],
        "visible_from": "2025-03-01T12:10:00Z"})["value"][0]
    assert late["visible_from"] == "2025-03-01T12:10:00Z"
    assert late["appDisplayName"] and late["correlationId"] and late["status"]  # completed
    window = {"$filter": "createdDateTime ge 2025-03-01T11:50:00Z"}
    assert late["id"] not in {r["id"] for r in fresh.all_pages(path, query=window)}
    assert fresh.get(f"{path}/{late['id']}").status_code == 404
    truth = {r["id"]: r for r in fresh.truth("signIns")}
    assert truth[late["id"]]["visible_from"] == "2025-03-01T12:10:00Z"
    fresh.control("POST", "clock", {"now": "2025-03-01T12:10:00Z"})
    assert late["id"] in {r["id"] for r in fresh.all_pages(path, query=window)}
    got = fresh.get(f"{path}/{late['id']}").json()
    assert got["userPrincipalName"] == "late@contoso.test"
    assert got["createdDateTime"] == "2025-03-01T11:56:00Z"


def test_late_offline_detection(fresh):
    path = "/v1.0/identityProtection/riskDetections"
    user = fresh.truth("riskyUsers")[0]
    det = fresh.control("POST", "records/riskDetections", {
        "records": [{"userId": user["id"], "riskEventType": "leakedCredentials",
                     "detectionTimingType": "offline", "activity": "user",
                     "activityDateTime": "2025-02-27T11:00:00Z",
                     "detectedDateTime": "2025-02-27T13:00:00Z",
                     "lastUpdatedDateTime": "2025-03-01T12:00:00Z"}],
        "visible_from": "2025-03-01T12:00:00Z"})["value"][0]
    assert det["userPrincipalName"] == user["userPrincipalName"]  # completed from directory
    rows = fresh.all_pages(path, query={"$filter": "lastUpdatedDateTime ge 2025-03-01T11:00:00Z"})
    assert det["id"] in {r["id"] for r in rows}
    old = fresh.all_pages(path, query={"$filter": "detectedDateTime gt 2025-03-01T00:00:00Z"})
    assert det["id"] not in {r["id"] for r in old}


def test_update_existing_risky_user(fresh):
    user = next(u for u in fresh.truth("riskyUsers") if u["riskState"] == "atRisk")
    fresh.control("POST", "records/riskyUsers", {"records": [{
        "id": user["id"], "riskState": "dismissed", "riskLevel": "none",
        "riskLastUpdatedDateTime": "2025-03-01T12:00:00Z"}],
        "visible_from": "2025-03-01T12:05:00Z"})
    current = fresh.get(f"/v1.0/identityProtection/riskyUsers/{user['id']}").json()
    assert current["riskState"] == "atRisk"  # the update has not arrived yet
    fresh.control("POST", "clock", {"advance_seconds": 300})
    current = fresh.get(f"/v1.0/identityProtection/riskyUsers/{user['id']}").json()
    assert (current["riskState"], current["userPrincipalName"]) == (
        "dismissed", user["userPrincipalName"])
    assert len(fresh.truth("riskyUsers")) == len({u["id"] for u in fresh.truth("riskyUsers")})


def test_add_history_item_and_risky_user(fresh):
    user = fresh.truth("riskyUsers")[0]
    item = fresh.control("POST", "records/history", {"records": [{
        "userId": user["id"], "riskState": "remediated",
        "activity": {"detail": "userPerformedSecuredPasswordReset", "riskEventTypes": []}}]}
    )["value"][0]
    assert item["id"].startswith(user["id"])
    history = fresh.all_pages(f"/v1.0/identityProtection/riskyUsers/{user['id']}/history")
    assert item["id"] in {h["id"] for h in history}
    new = fresh.control("POST", "records/riskyUsers", {"records": [{
        "userPrincipalName": "new.person@contoso.test", "riskLevel": "high"}]})["value"][0]
    got = fresh.get(f"/v1.0/identityProtection/riskyUsers/{new['id']}").json()
    assert got["riskLevel"] == "high" and got["riskState"] == "atRisk"


def test_record_errors(fresh):
    def post(resource, body):
        return fresh.session.post(f"{fresh.base}/_emulator/records/{resource}", json=body)

    existing = fresh.truth("signIns", select="id")[0]["id"]
    assert post("signIns", {"records": [{"id": existing}]}).status_code == 409
    assert post("signIns", {"records": [{"colour": "red"}]}).status_code == 400
    assert post("signIns", {"records": [{"riskState": "terrible"}]}).status_code == 400
    assert post("signIns", {"records": [{"createdDateTime": "soon"}]}).status_code == 400
    assert post("signIns", {"records": {}}).status_code == 400
    assert post("history", {"records": [{"riskState": "none"}]}).status_code == 400
    assert post("widgets", {"records": []}).status_code == 404
    assert fresh.session.get(f"{fresh.base}/_emulator/records/signIns",
                             params={"select": "nope"}).status_code == 400


def test_ground_truth_select_and_stream(client):
    response = client.session.get(f"{client.base}/_emulator/records/signIns",
                                  params={"select": "id,createdDateTime"}, stream=True)
    assert response.headers.get("Transfer-Encoding") == "chunked"
    rows = response.json()["value"]
    assert len(rows) == 5000
    assert set(rows[0]) == {"id", "createdDateTime"}
    full = client.truth("riskDetections")
    assert {"riskType", "mitreTechniqueId"} <= set(full[0])  # beta superset by default
    v1 = client.truth("riskDetections", version="v1.0")
    assert "riskType" not in v1[0]


def test_request_log(fresh):
    fresh.control("DELETE", "requests")
    assert fresh.requests_log() == []
    token = fresh.token(fresh=True)
    fresh.get("/v1.0/auditLogs/signIns", headers={"client-request-id": "crid-1"},
              query={"$top": 2, "$filter": "riskState eq 'atRisk'"})
    log = fresh.requests_log()
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    token_call, graph_call = log[-2], log[-1]
    assert token_call["path"].endswith("/oauth2/v2.0/token")
    assert token_call["token_present"] is False and token_call["status"] == 200
    assert graph_call["method"] == "GET" and graph_call["path"] == "/v1.0/auditLogs/signIns"
    assert "%24top=2" in graph_call["query"] or "$top=2" in graph_call["query"]
    assert graph_call["token_present"] is True
    assert graph_call["tenant"] == fresh.emu.tenant_ids[0]
    assert graph_call["app_id"] == fresh.emu.connection()["client_id"]
    assert graph_call["client_request_id"] == "crid-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", graph_call["time"])
    assert fresh.requests_log(since=graph_call["seq"]) == []
    assert fresh.requests_log(since=graph_call["seq"] - 1) == [graph_call]
    text = requests.compat.json.dumps(log)
    assert token not in text and fresh.emu.connection()["client_secret"] not in text
    assert fresh.control("DELETE", "requests")["cleared"] == len(log)


def test_tenants():
    with Emulator(seed=4, tenants=2, signins=100, now=NOW, frozen=True) as emu:
        client = Client(emu)
        assert len(emu.tenant_ids) == 2 and emu.tenant_ids[0] != emu.tenant_ids[1]
        first = {r["id"] for r in client.truth("signIns", select="id")}
        second = {r["id"] for r in client.truth("signIns", select="id",
                                                tenant=emu.tenant_ids[1])}
        assert first and second and not first & second
        rows = client.all_pages("/v1.0/auditLogs/signIns", app="full")
        assert {r["id"] for r in rows} == first
        token = client.token(tenant=1)
        other = client.get("/v1.0/auditLogs/signIns", token=token).json()["value"]
        assert {r["id"] for r in other} == second
        missing = client.session.get(f"{client.base}/_emulator/records/signIns",
                                     params={"tenant": "nope"})
        assert missing.status_code == 404


def test_token_control_validation(fresh):
    for bad in ({}, {"lifetime_seconds": 0}, {"lifetime_seconds": "1"}, {"revoke_all": "yes"}):
        response = fresh.session.post(f"{fresh.base}/_emulator/tokens", json=bad)
        assert response.status_code == 400, bad


def test_loopback_only():
    import pytest

    with pytest.raises(ValueError):
        Emulator(host="0.0.0.0")
    with pytest.raises(ValueError):
        Emulator(host="192.168.1.10")


def test_keep_alive_serves_several_requests_on_one_connection(client):
    import http.client
    import ssl
    from urllib.parse import urlsplit

    context = ssl.create_default_context(cafile=client.emu.ca_bundle)
    parts = urlsplit(client.base)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, context=context)
    headers = {"Authorization": f"Bearer {client.token()}"}
    try:
        for path in ("/v1.0/identityProtection/riskyUsers", "/v1.0/auditLogs/signIns?$top=5",
                     "/v1.0/identityProtection/riskDetections"):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection", "keep-alive").lower() != "close"
            response.read()
        assert connection.sock is not None  # still the first socket
    finally:
        connection.close()
