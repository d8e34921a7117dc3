"""confirmCompromised / dismiss / confirmSafe: effects on users, detections and history."""

from __future__ import annotations

import uuid

import pytest

BASE = "/v1.0/identityProtection/riskyUsers"
PREFER = {"Prefer": "include-unknown-enum-members"}


def _user(client, uid):
    return client.get(f"{BASE}/{uid}", headers=PREFER).json()


def _at_risk(client, n=1):
    users = [u for u in client.truth("riskyUsers") if u["riskState"] == "atRisk"]
    assert len(users) >= n
    return users[:n]


@pytest.mark.parametrize("action,state,detail,level", [
    ("confirmCompromised", "confirmedCompromised", "adminConfirmedUserCompromised", "high"),
    ("dismiss", "dismissed", "adminDismissedAllRiskForUser", "none"),
    ("confirmSafe", "confirmedSafe", "adminConfirmedAccountSafe", "none"),
])
def test_action_changes_state_and_history(fresh, action, state, detail, level):
    user = _at_risk(fresh)[0]
    uid = user["id"]
    history_before = fresh.all_pages(f"{BASE}/{uid}/history")
    detections_before = [d for d in fresh.truth("riskDetections") if d["userId"] == uid]
    fresh.control("POST", "clock", {"advance_seconds": 90})
    now = fresh.control("GET", "clock")["now"]
    response = fresh.post(f"{BASE}/{action}", {"userIds": [uid]})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["request-id"]

    after = _user(fresh, uid)
    assert (after["riskState"], after["riskDetail"], after["riskLevel"]) == (state, detail, level)
    assert after["riskLastUpdatedDateTime"].rstrip("Z").startswith(now.rstrip("Z")[:19])

    history = fresh.all_pages(f"{BASE}/{uid}/history")
    new_items = [h for h in history if h["id"] not in {b["id"] for b in history_before}]
    assert len(new_items) == 1
    item = new_items[0]
    assert item["riskState"] == state and item["userId"] == uid
    assert item["initiatedBy"]
    assert item["id"].startswith(uid) and item["id"] != uid

    detections = [d for d in fresh.truth("riskDetections") if d["userId"] == uid]
    if action == "confirmCompromised":
        added = [d for d in detections if d["id"] not in {b["id"] for b in detections_before}]
        assert [d["riskEventType"] for d in added] == ["adminConfirmedUserCompromised"]
    else:
        assert not [d for d in detections if d["riskState"] == "atRisk"]
        changed = [d for d in detections if d["riskState"] == state]
        assert changed and all(d["riskDetail"] == detail for d in changed)


def test_visible_in_filters_and_ordering_after_action(fresh):
    user = _at_risk(fresh)[0]
    fresh.control("POST", "clock", {"advance_seconds": 3600})
    assert fresh.post(f"{BASE}/dismiss", {"userIds": [user["id"]]}).status_code == 204
    users = fresh.all_pages(BASE, query={"$top": 500})
    newest = max(users, key=lambda u: u["riskLastUpdatedDateTime"])
    assert newest["id"] == user["id"]
    dismissed = fresh.all_pages(BASE, query={"$filter": "riskState eq 'dismissed'"})
    assert user["id"] in {u["id"] for u in dismissed}


def test_several_users_and_duplicates(fresh):
    users = _at_risk(fresh, 2)
    ids = [users[0]["id"], users[1]["id"], users[0]["id"].upper()]
    assert fresh.post(f"{BASE}/confirmCompromised", {"userIds": ids}).status_code == 204
    for user in users:
        assert _user(fresh, user["id"])["riskState"] == "confirmedCompromised"


def test_unknown_ids_404_and_no_change(fresh):
    user = _at_risk(fresh)[0]
    before = fresh.truth("riskyUsers")
    history = fresh.truth("history")
    response = fresh.post(f"{BASE}/dismiss", {"userIds": [user["id"], str(uuid.uuid4())]})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "User IDs Not Found."
    assert fresh.truth("riskyUsers") == before
    assert fresh.truth("history") == history


def test_non_risky_directory_user_is_not_found(fresh):
    risky = {u["id"] for u in fresh.truth("riskyUsers")}
    other = next(s["userId"] for s in fresh.truth("signIns", select="userId")
                 if s["userId"] not in risky)
    response = fresh.post(f"{BASE}/confirmCompromised", {"userIds": [other]})
    assert response.status_code == 404


@pytest.mark.parametrize("body,raw", [
    (None, b"not json"),
    (None, b'["a"]'),
    ({}, None),
    ({"userIds": "abc"}, None),
    ({"userIds": []}, None),
    ({"userIds": [1, 2]}, None),
    ({"userIds": ["a"], "extra": 1}, None),
    ({"userIds": [str(uuid.uuid4()) for _ in range(61)]}, None),
])
def test_bad_bodies(fresh, body, raw):
    before = fresh.truth("riskyUsers")
    if raw is not None:
        response = fresh.post(f"{BASE}/dismiss", data=raw,
                              headers={"Content-Type": "application/json"})
    else:
        response = fresh.post(f"{BASE}/dismiss", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BadRequest"
    assert fresh.truth("riskyUsers") == before


def test_sixty_ids_is_the_limit(fresh):
    users = [u["id"] for u in fresh.truth("riskyUsers")]
    ids = (users * 60)[:60]
    assert fresh.post(f"{BASE}/dismiss", {"userIds": ids}).status_code == 204


def test_actions_need_post(fresh):
    response = fresh.get(f"{BASE}/dismiss")
    assert response.status_code == 405


def test_action_body_in_request_log(fresh):
    user = _at_risk(fresh)[0]
    seq = fresh.last_seq()
    fresh.post(f"{BASE}/microsoft.graph.dismiss", {"userIds": [user["id"]]})
    entry = fresh.requests_log(seq)[-1]
    assert entry["method"] == "POST" and entry["status"] == 204
    assert entry["body"] == {"userIds": [user["id"]]}
    assert entry["token_present"] is True
    assert entry["app_id"] == fresh.emu.connection()["client_id"]
