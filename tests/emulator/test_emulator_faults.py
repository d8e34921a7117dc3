"""Dev Proxy-style faults and Graph's rate limits, reproducible from their seed."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest
import requests

from emulator import Emulator
from emulator.timefmt import parse_iso
from tests.emulator.support import Client

SIGNINS = "/v1.0/auditLogs/signIns"
RISKY = "/v1.0/identityProtection/riskyUsers"


def _statuses(client, path: str, n: int, query: dict[str, Any]) -> list[tuple[int, str | None]]:
    out = []
    for _ in range(n):
        response = client.get(path, query=query)
        out.append((response.status_code, response.headers.get("Retry-After")))
        # Step past any Retry-After window so the next request is a fresh draw.
        client.control("POST", "clock", {"advance_seconds": 30})
    return out


def test_faults_are_reproducible_from_seed(fresh):
    fresh.token()
    config = {"rate": 0.5, "seed": 1234, "statuses": [429, 500, 503]}
    fresh.control("POST", "faults", config)
    first = _statuses(fresh, SIGNINS, 24, query={"$top": 1})
    fresh.control("POST", "faults", config)  # re-arming restarts the seeded sequence
    second = _statuses(fresh, SIGNINS, 24, query={"$top": 1})
    assert first == second
    codes = {s for s, _ in first}
    assert 200 in codes and codes - {200} and codes <= {200, 429, 500, 503}
    fresh.control("POST", "faults", {**config, "seed": 99})
    assert _statuses(fresh, SIGNINS, 24, query={"$top": 1}) != first
    fresh.control("POST", "faults", {})
    assert {s for s, _ in _statuses(fresh, SIGNINS, 5, query={"$top": 1})} == {200}


def test_statuses_per_method(fresh):
    fresh.token()
    fresh.control("POST", "faults", {"rate": 1, "seed": 5})
    gets = set()
    for _ in range(40):
        gets.add(fresh.get(RISKY).status_code)
        fresh.control("POST", "clock", {"advance_seconds": 30})
    assert gets <= {429, 500, 502, 503, 504} and len(gets) >= 4
    posts = set()
    for _ in range(60):
        posts.add(fresh.post(f"{RISKY}/dismiss", {"userIds": ["x"]}).status_code)
        fresh.control("POST", "clock", {"advance_seconds": 30})
    assert 507 in posts and posts <= {429, 500, 502, 503, 504, 507}
    fresh.control("POST", "faults", {"rate": 1, "statuses": [502]})
    assert fresh.get(SIGNINS, query={"$top": 1}).status_code == 502


def test_injected_error_body_and_headers(fresh):
    fresh.token()
    fresh.control("POST", "faults", {"rate": 1, "statuses": [503], "retry_after": 7})
    response = fresh.get(SIGNINS, headers={"client-request-id": "abc"}, query={"$top": 1})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    error = response.json()["error"]
    assert error["innerError"]["client-request-id"] == "abc"
    assert error["innerError"]["request-id"] == response.headers["request-id"]


@pytest.mark.parametrize("retry_after,check", [
    (7, lambda v, now: v == "7"),
    (2.128, lambda v, now: v == "2.128"),
    (None, lambda v, now: v is None),
    ("date", lambda v, now: email.utils.parsedate_to_datetime(v).timestamp()
     == now + 5),
    ("date:12", lambda v, now: email.utils.parsedate_to_datetime(v).timestamp()
     == now + 12),
])
def test_retry_after_forms_on_signins(fresh, retry_after, check):
    fresh.token()
    fresh.control("POST", "faults", {"rate": 1, "statuses": [429], "retry_after": retry_after})
    response = fresh.get(SIGNINS, query={"$top": 1})
    now = parse_iso(fresh.control("GET", "clock")["now"]) // 10**7
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "TooManyRequests"
    assert check(response.headers.get("Retry-After"), now), response.headers.get("Retry-After")


def test_identity_protection_429_has_no_retry_after(fresh):
    fresh.token()
    fresh.control("POST", "faults", {"rate": 1, "statuses": [429], "retry_after": 7})
    for path in (RISKY, "/v1.0/identityProtection/riskDetections", "/beta/riskyUsers"):
        response = fresh.get(path)
        assert response.status_code == 429
        assert "Retry-After" not in response.headers


def test_early_retries_are_throttled_and_logged(fresh):
    fresh.token()
    fresh.control("POST", "faults", {"rate": 1, "statuses": [429], "retry_after": 10,
                                     "max_faults": 1})
    seq = fresh.last_seq()
    first = fresh.get(SIGNINS, query={"$top": 1})
    assert first.status_code == 429 and first.headers["Retry-After"] == "10"
    fresh.control("POST", "clock", {"advance_seconds": 6})
    early = fresh.get(SIGNINS, query={"$top": 1})
    assert early.status_code == 429  # too early: throttled again, window extended to +10 s
    fresh.control("POST", "clock", {"advance_seconds": 6})
    assert fresh.get(SIGNINS, query={"$top": 1}).status_code == 429  # still inside the new window
    # Another workload of the same tenant is not affected.
    assert fresh.get(RISKY).status_code == 200
    fresh.control("POST", "clock", {"advance_seconds": 10})
    assert fresh.get(SIGNINS, query={"$top": 1}).status_code == 200
    log = [e for e in fresh.requests_log(seq) if e["path"] == SIGNINS]
    assert [e["early_retry"] for e in log] == [False, True, True, False]
    assert [e["fault"] for e in log] == ["random", "early_retry", "early_retry", None]
    assert log[0]["retry_after"] == "10"


def test_drop_closes_the_connection(fresh):
    fresh.token()
    fresh.control("POST", "faults", {"drop_rate": 1})
    with pytest.raises(requests.ConnectionError):
        fresh.get(SIGNINS, query={"$top": 1})
    log = fresh.requests_log()
    assert log[-1]["fault"] == "drop" and log[-1]["status"] is None
    fresh.control("POST", "faults", {})
    assert fresh.get(SIGNINS, query={"$top": 1}).status_code == 200


def test_latency_holds_each_response_back_within_the_range():
    held: list[float] = []
    with Emulator(signins=10, sleep=held.append) as emu:
        client = Client(emu)
        client.token()
        client.control("POST", "faults", {"latency_ms": [300, 310]})
        assert client.get(RISKY).status_code == 200
        assert client.get(RISKY).status_code == 200
    assert len(held) == 2 and all(0.3 <= s <= 0.31 for s in held)


def test_path_regex_widens_to_token_endpoint_but_never_control(fresh):
    fresh.control("POST", "faults", {"rate": 1, "statuses": [503], "path": "oauth2"})
    assert fresh.token_response().status_code == 503
    assert fresh.control("GET", "clock")["now"]  # control API untouched
    fresh.control("POST", "faults", {"rate": 1, "statuses": [503], "path": "_emulator|oauth2"})
    assert fresh.control("GET", "clock")["now"]
    fresh.control("POST", "faults", {})
    assert fresh.token_response().status_code == 200


def test_path_regex_targets_a_page(fresh):
    fresh.token()
    body = fresh.get(SIGNINS, query={"$top": 50}).json()
    fresh.control("POST", "faults", {"rate": 1, "statuses": [500], "path": "skiptoken"})
    assert fresh.get(SIGNINS, query={"$top": 50}).status_code == 200
    assert fresh.get(body["@odata.nextLink"]).status_code == 500


def test_after_handler_applies_the_action(fresh):
    fresh.token()
    user = next(u for u in fresh.truth("riskyUsers") if u["riskState"] == "atRisk")
    fresh.control("POST", "faults", {"rate": 1, "statuses": [504], "after_handler": True,
                                     "max_faults": 1})
    response = fresh.post(f"{RISKY}/dismiss", {"userIds": [user["id"]]})
    assert response.status_code == 504
    state = {u["id"]: u for u in fresh.truth("riskyUsers")}[user["id"]]["riskState"]
    assert state == "dismissed"  # the gateway timed out, but the backend had done it
    assert fresh.post(f"{RISKY}/dismiss", {"userIds": [user["id"]]}).status_code == 204


def test_max_faults_then_success(fresh):
    fresh.token()
    fresh.control("POST", "faults", {"rate": 1, "statuses": [503], "retry_after": 3,
                                     "max_faults": 1})
    assert fresh.get(RISKY).status_code == 503
    fresh.control("POST", "clock", {"advance_seconds": 3})
    assert fresh.get(RISKY).status_code == 200


def test_rate_limits(fresh):
    fresh.token()
    fresh.token(app="readonly")
    fresh.control("POST", "faults", {"rate_limits": True})
    # identityProtection: 1 request per second per tenant, 429 without Retry-After.
    assert fresh.get(RISKY).status_code == 200
    second = fresh.get("/v1.0/identityProtection/riskDetections")
    assert second.status_code == 429 and "Retry-After" not in second.headers
    other_app = fresh.get(RISKY, app="readonly")
    assert other_app.status_code == 429  # the limit is per tenant, for all apps
    fresh.control("POST", "clock", {"advance_seconds": 1})
    assert fresh.get(RISKY).status_code == 200
    # signIns: 5 requests per 10 s per app, 429 with Retry-After = seconds left.
    codes = [fresh.get(SIGNINS, query={"$top": 1}).status_code for _ in range(5)]
    assert codes == [200] * 5
    fresh.control("POST", "clock", {"advance_seconds": 3})
    limited = fresh.get(SIGNINS, query={"$top": 1})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert fresh.get(SIGNINS, app="readonly", query={"$top": 1}).status_code == 200  # per app
    fresh.control("POST", "clock", {"advance_seconds": 7})
    assert fresh.get(SIGNINS, query={"$top": 1}).status_code == 200
    log = fresh.requests_log()
    assert any(e["fault"] == "rate_limit" for e in log)
    fresh.control("POST", "faults", {"rate_limits": False})
    assert all(fresh.get(RISKY).status_code == 200 for _ in range(3))


def test_rate_limits_are_per_app_for_signins(fresh):
    fresh.token()
    fresh.token(app="readonly")
    fresh.control("POST", "faults", {"rate_limits": True})
    assert [fresh.get(SIGNINS, query={"$top": 1}).status_code for _ in range(6)][-1] == 429
    fresh.control("POST", "clock", {"advance_seconds": 20})
    assert [fresh.get(SIGNINS, app="readonly", query={"$top": 1}).status_code
            for _ in range(5)] == [200] * 5


def test_rate_limit_sequence_is_reproducible(fresh):
    def run():
        fresh.control("POST", "faults", {"rate_limits": True})
        out = []
        for step in (0, 0.5, 0.5, 1, 0.2, 0.9, 0.1, 2):
            fresh.control("POST", "clock", {"advance_seconds": step})
            out.append(fresh.get(RISKY).status_code)
        fresh.control("POST", "faults", {})
        return out

    fresh.token()
    assert run() == run() == [200, 429, 200, 200, 429, 200, 429, 200]


def test_bad_fault_configs(fresh):
    for body in ({"rate": 2}, {"statuses": [404]}, {"latency_ms": [5, 1]}, {"drop_rate": -1},
                 {"retry_after": "soon"}, {"path": "("}, {"colour": "red"},
                 {"trickle": "everything"}, {"trickle": "body", "trickle_ms": 0}):
        response = fresh.session.post(f"{fresh.base}/_emulator/faults", json=body)
        assert response.status_code == 400, body


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickled_response_still_arrives_whole(fresh, part):
    """The trickle fault only slows a response: given time, the client reads the same answer."""
    fresh.token()
    query = {"$top": 1, "$select": "id"}
    plain = fresh.get(RISKY, query=query)
    fresh.control("POST", "faults", {"trickle": part, "trickle_ms": 1, "path": "riskyUsers"})
    # A read timeout, so that a response that never completes fails rather than hangs.
    slow = fresh.session.get(fresh.base + RISKY, params=query, timeout=30,
                             headers={"Authorization": f"Bearer {fresh.token()}"})
    fresh.control("POST", "faults", {})
    assert slow.status_code == plain.status_code == 200
    assert slow.json() == plain.json() and slow.json()["value"]
    assert slow.headers["Content-Type"] == plain.headers["Content-Type"]
