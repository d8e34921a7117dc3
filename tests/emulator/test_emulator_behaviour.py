"""`GET/POST /_emulator/behaviour`: each switch value driven over HTTPS, plus the apps and
token-endpoint cases of issue 10 (apps on demand, expired secret, throttled token endpoint)."""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.support import GRAPH_SCOPE, Client

SIGNINS = "/v1.0/auditLogs/signIns"
RISKY = "/v1.0/identityProtection/riskyUsers"
DETECTIONS = "/v1.0/identityProtection/riskDetections"
DEFAULTS = {"paging": "offset", "signin_time_precision": "seconds",
            "string_compare": "insensitive", "unknown_ids": "404", "action_delay_seconds": 0.0,
            "licence": "P2", "identity_protection_background_rps": 0.0,
            "filters": "documented", "forbidden_code": "Forbidden"}


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["error"]


# -- the endpoint -------------------------------------------------------------------------------


def test_defaults_are_the_documented_graph(client: Client) -> None:
    assert client.control("GET", "behaviour") == DEFAULTS


@pytest.mark.parametrize("body", [
    {"paging": "cursor"}, {"licence": "E5"}, {"unknown_ids": 500}, {"nope": 1},
    {"action_delay_seconds": -1}, {"action_delay_seconds": "5"},
    {"identity_protection_background_rps": 1e9}, ["paging"],
])
def test_bad_switches_are_refused_and_change_nothing(fresh: Client, body: Any) -> None:
    response = fresh.session.post(f"{fresh.base}/_emulator/behaviour", json=body)
    assert response.status_code == 400
    assert fresh.control("GET", "behaviour") == DEFAULTS


def test_switches_combine_and_read_back(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"paging": "keyset", "unknown_ids": "204"})
    state = fresh.control("POST", "behaviour", {"licence": "P1"})
    assert state == {**DEFAULTS, "paging": "keyset", "unknown_ids": "204", "licence": "P1"}


# -- filters: documented | lenient --------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "status/errorCode ne 0", "not (riskState eq 'none')", "startswith(appId, '1')",
    "createdDateTime gt 2025-02-20T00:00:00Z", "isInteractive eq true",
    "appDisplayName in ('Azure Portal')",
    "appliedConditionalAccessPolicies/any(p: p/result eq 'failure')",
    "riskEventTypes_v2/any(t: t ne 'x')",
])
def test_signin_filters_outside_the_documented_table_are_refused(client: Client,
                                                                 text: str) -> None:
    error = error_of(client.get(SIGNINS, query={"$filter": text}), 400)
    assert (error["code"], error["message"]) == ("BadRequest", "Invalid filter clause")


@pytest.mark.parametrize("text", [
    "startswith(appDisplayName, 'Micro')", "status/errorCode eq 0",
    "createdDateTime ge 2025-02-20T00:00:00Z and createdDateTime le 2025-02-21T00:00:00Z",
    "riskEventTypes_v2/any(t: startswith(t, 'unf'))", "riskEventTypes/any(t: t eq 'generic')",
    "startswith(location/city, 'Red') or deviceDetail/operatingSystem eq 'Windows 10'",
])
def test_documented_signin_filters_pass(client: Client, text: str) -> None:
    assert client.get(SIGNINS, query={"$filter": text, "$top": 5}).status_code == 200


@pytest.mark.parametrize(("path", "text", "detail"), [
    (RISKY, "riskLevel ne 'high'", "The operator 'ne' is not supported for 'riskLevel'"),
    (DETECTIONS, "startswith(userPrincipalName, 'a')", "The operator 'startswith'"),
    (DETECTIONS, "location/city eq 'Redmond'", "Filtering on 'location/city'"),
])
def test_identity_protection_refuses_with_invalid_filter_clause(client: Client, path: str,
                                                                text: str, detail: str) -> None:
    error = error_of(client.get(path, query={"$filter": text}), 400)
    assert error["code"] == "BadRequest"
    assert error["message"].startswith(f"Invalid filter clause: {detail}")


def test_documented_identity_protection_filters(client: Client) -> None:
    truth = client.truth("riskDetections")
    cut = sorted(r["lastUpdatedDateTime"] for r in truth)[len(truth) // 2]
    got = client.all_pages(DETECTIONS, query={
        "$filter": f"riskLevel eq 'high' and lastUpdatedDateTime ge {cut}"})
    expected = {r["id"] for r in truth if r["riskLevel"] == "high"
                and r["lastUpdatedDateTime"] >= cut}
    assert expected and {r["id"] for r in got} == expected


def test_lenient_filters_evaluate_what_graph_refuses(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"filters": "lenient"})
    got = fresh.all_pages(RISKY, query={"$filter": "riskLevel ne 'high'"})
    expected = {r["id"] for r in fresh.truth("riskyUsers", version="v1.0")
                if r["riskLevel"] != "high"}
    assert expected and {r["id"] for r in got} == expected


# -- string_compare -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "matches"), [("insensitive", True), ("sensitive", False)])
def test_string_compare(fresh: Client, mode: str, matches: bool) -> None:
    fresh.control("POST", "behaviour", {"string_compare": mode})
    upn = next(r["userPrincipalName"] for r in fresh.truth("signIns", select="userPrincipalName")
               if "'" not in r["userPrincipalName"])
    for text in (f"userPrincipalName eq '{upn.upper()}'",
                 f"startswith(userPrincipalName, '{upn[:4].upper()}')"):
        assert bool(fresh.all_pages(SIGNINS, query={"$filter": text})) is matches, text
    assert fresh.all_pages(SIGNINS, query={"$filter": f"userPrincipalName eq '{upn}'"})


# -- signin_time_precision ----------------------------------------------------------------------


def test_whole_seconds_with_bursts_of_ties_by_default(client: Client) -> None:
    times = [r["createdDateTime"] for r in client.truth("signIns", select="createdDateTime")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in times)
    ties = collections.Counter(times)
    assert max(ties.values()) >= 50  # a burst: many sign-ins in one second
    served = client.get(SIGNINS, query={"$top": 1000}).json()["value"]
    assert all("." not in r["createdDateTime"] for r in served)


def test_ticks_precision_and_back(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"signin_time_precision": "ticks"})
    ticks = [r["createdDateTime"] for r in fresh.get(SIGNINS).json()["value"]]
    assert sum("." in t for t in ticks) > len(ticks) // 2
    assert ticks == sorted(ticks, reverse=True) or len(set(ticks)) > 1
    fresh.control("POST", "behaviour", {"signin_time_precision": "seconds"})
    seconds = [r["createdDateTime"] for r in fresh.get(SIGNINS).json()["value"]]
    assert not any("." in t for t in seconds)
    assert [t[:19] for t in ticks] == [t[:19] for t in seconds]  # the same sign-ins, cut


# -- unknown_ids and action_delay_seconds -------------------------------------------------------


def _at_risk(client: Client) -> str:
    return next(u["id"] for u in client.truth("riskyUsers") if u["riskState"] == "atRisk")


@pytest.mark.parametrize(("mode", "status", "applied"), [
    ("404", 404, False), ("400", 400, False), ("204", 204, True)])
def test_unknown_ids_modes(fresh: Client, mode: str, status: int, applied: bool) -> None:
    fresh.control("POST", "behaviour", {"unknown_ids": mode})
    known = _at_risk(fresh)
    response = fresh.post(f"{RISKY}/dismiss", {"userIds": [
        known, "99999999-9999-4999-8999-999999999999"]})
    assert response.status_code == status, response.text
    state = fresh.get(f"{RISKY}/{known}").json()["riskState"]
    assert state == ("dismissed" if applied else "atRisk")


def test_action_delay_lags_the_204(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"action_delay_seconds": 30})
    user = _at_risk(fresh)
    history_before = len(fresh.get(f"{RISKY}/{user}/history").json()["value"])
    assert fresh.post(f"{RISKY}/confirmCompromised", {"userIds": [user]}).status_code == 204
    pending = fresh.get(f"{RISKY}/{user}").json()
    assert (pending["riskState"], pending["isProcessing"]) == ("atRisk", True)
    fresh.control("POST", "clock", {"advance_seconds": 29})
    assert fresh.get(f"{RISKY}/{user}").json()["riskState"] == "atRisk"
    fresh.control("POST", "clock", {"advance_seconds": 2})
    settled = fresh.get(f"{RISKY}/{user}").json()
    assert (settled["riskState"], settled["isProcessing"]) == ("confirmedCompromised", False)
    assert len(fresh.get(f"{RISKY}/{user}/history").json()["value"]) > history_before


def test_no_delay_settles_at_once(fresh: Client) -> None:
    user = _at_risk(fresh)
    assert fresh.post(f"{RISKY}/dismiss", {"userIds": [user]}).status_code == 204
    now = fresh.get(f"{RISKY}/{user}").json()
    assert (now["riskState"], now["isProcessing"]) == ("dismissed", False)


# -- licence ------------------------------------------------------------------------------------


def test_p1_serves_sign_ins_and_detections_with_risk_hidden(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"licence": "P1"})
    signins = fresh.get(SIGNINS, query={"$top": 50}).json()["value"]
    assert signins and {s["riskLevelAggregated"] for s in signins} == {"hidden"}
    assert {s["riskDetail"] for s in signins} == {"hidden"}
    detections = fresh.get(DETECTIONS).json()["value"]
    assert detections and {d["riskLevel"] for d in detections} == {"hidden"}
    error = error_of(fresh.get(RISKY), 403)
    assert error["code"] == "Forbidden" and "not licensed" in error["message"]
    assert fresh.post(f"{RISKY}/dismiss", {"userIds": [_at_risk(fresh)]}).status_code == 403


def test_free_tenant_gets_no_sign_ins_and_no_risk_data(fresh: Client) -> None:
    fresh.control("POST", "behaviour", {"licence": "free"})
    error = error_of(fresh.get(SIGNINS), 403)
    assert error["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
    for path in (RISKY, DETECTIONS, "/v1.0/identityProtection/riskyServicePrincipals"):
        assert error_of(fresh.get(path), 403)["code"] == "Forbidden"


def test_p2_shows_risk(client: Client) -> None:
    levels = {s["riskLevelAggregated"] for s in client.get(SIGNINS).json()["value"]}
    assert levels - {"hidden"}


# -- identity_protection_background_rps ---------------------------------------------------------


def _statuses(client: Client, seconds: int) -> list[int]:
    out = []
    for _ in range(seconds):
        client.control("POST", "clock", {"advance_seconds": 1})
        response = client.get(RISKY, query={"$top": 1})
        out.append(response.status_code)
        if response.status_code == 429:
            assert "Retry-After" not in response.headers
            assert response.json()["error"]["code"] == "TooManyRequests"
    return out


@pytest.mark.parametrize(("rps", "low", "high"), [(0, 0, 0), (0.5, 3, 17), (1, 20, 20)])
def test_background_load_shares_the_tenant_budget(fresh: Client, rps: float, low: int,
                                                  high: int) -> None:
    fresh.control("POST", "behaviour", {"identity_protection_background_rps": rps})
    throttled = _statuses(fresh, 20).count(429)
    assert low <= throttled <= high
    log = fresh.control("GET", "requests")["value"]
    assert sum(e["fault"] == "background_load" for e in log) == throttled


# -- forbidden_code -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["Forbidden", "Authorization_RequestDenied"])
def test_forbidden_code(fresh: Client, code: str) -> None:
    fresh.control("POST", "behaviour", {"forbidden_code": code})
    assert error_of(fresh.get(RISKY, app="none"), 403)["code"] == code
    assert error_of(fresh.get(SIGNINS, app="none"), 403)["code"] == "Authorization_RequestDenied"


# -- apps on demand, expired secret, throttled token endpoint -----------------------------------


def _token(client: Client, conn: dict[str, str]) -> Any:
    return client.session.post(conn["auth_url"], data={
        "grant_type": "client_credentials", "client_id": conn["client_id"],
        "client_secret": conn["client_secret"], "scope": GRAPH_SCOPE})


def test_app_with_chosen_roles(fresh: Client) -> None:
    conn = fresh.control("POST", "apps", {"roles": ["IdentityRiskyUser.Read.All"]})
    assert conn["tenant_id"] == fresh.emu.tenant_ids[0] and conn["client_secret"]
    response = _token(fresh, conn)
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert fresh.get(RISKY, token=token).status_code == 200
    assert fresh.get(SIGNINS, token=token).status_code == 403
    assert fresh.get(DETECTIONS, token=token).status_code == 403


def test_expired_secret_is_aadsts7000222(fresh: Client) -> None:
    conn = fresh.control("POST", "apps", {"roles": [], "secret_expired": True})
    response = _token(fresh, conn)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000222]
    assert body["error_description"].startswith(
        f"AADSTS7000222: The provided client secret keys for app '{conn['client_id']}' are "
        "expired.")
    assert conn["client_secret"] not in response.text


def test_certificate_app(fresh: Client) -> None:
    conn = fresh.control("POST", "apps", {"roles": ["IdentityRiskEvent.Read.All"],
                                          "certificate": True})
    assert "client_secret" not in conn and len(conn["certificate_thumbprint"]) == 40
    pem = Path(conn["certificate_path"]).read_text()
    app = fresh.msal_app(0, conn["app"], {"private_key": pem,
                                          "thumbprint": conn["certificate_thumbprint"]})
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert fresh.get(DETECTIONS, token=result["access_token"]).status_code == 200


@pytest.mark.parametrize("body", [{"roles": "x"}, {"certificate": "yes"}, {"colour": 1},
                                  {"secret_expired": True, "certificate": True}])
def test_bad_app_bodies(fresh: Client, body: dict[str, Any]) -> None:
    assert fresh.session.post(f"{fresh.base}/_emulator/apps", json=body).status_code == 400


def test_throttled_token_endpoint(fresh: Client) -> None:
    fresh.control("POST", "faults", {"token_throttle": True})
    response = fresh.token_response()
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    fresh.control("POST", "faults", {})
    assert fresh.token_response().status_code == 200
