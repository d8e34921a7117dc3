"""Throttling and transient faults against the emulator's fault mode, on the emulator clock."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from commands.graph.client import GraphClient
from commands.graph.retry import RetryPolicy
from executor.errors import ApiError, RetriableError
from tests.control import EmulatorControl
from tests.graph_client.conftest import TestClock, graph_calls, truth_ids, when

SIGNINS = "auditLogs/signIns"
RISKY_USERS = "identityProtection/riskyUsers"


def list_ids(client: GraphClient, path: str, top: int) -> list[str]:
    return [r["id"] for page in client.iter_pages(path, {"$top": top}) for r in page["value"]]


def gaps_after_throttling(calls: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(asked wait, actual gap) for each throttled request and the next one."""
    pairs = []
    for failed, following in itertools.pairwise(calls):
        if failed["status"] == 429 or failed["retry_after"]:
            pairs.append((failed["retry_after"], when(following) - when(failed)))
    return pairs


@pytest.mark.parametrize(("retry_after", "expected_wait"), [
    (7, 7.0), (2.128, 2.128), ("date:7", 7.0), (0, 0.0),
])
def test_429_retry_after_on_page_2_is_obeyed(make_client: Callable[..., GraphClient],
                                             ctl: EmulatorControl, clock: TestClock,
                                             retry_after: Any, expected_wait: float) -> None:
    ctl.post("faults", {"rate": 1.0, "statuses": [429], "retry_after": retry_after,
                        "path": "skiptoken", "max_faults": 1})
    ids = list_ids(make_client(), SIGNINS, 500)
    assert ids == truth_ids(ctl, "signIns")
    calls = graph_calls(ctl)
    assert [c["status"] for c in calls] == [200, 429, 200, 200, 200, 200]
    assert not any(c["early_retry"] for c in calls)
    assert (calls[1]["path"], calls[1]["query"]) == (calls[2]["path"], calls[2]["query"])
    assert when(calls[2]) - when(calls[1]) >= expected_wait - 1e-6
    assert clock.sleeps[0] == pytest.approx(expected_wait, abs=1.0)
    assert clock.sleeps[0] >= expected_wait
    if retry_after == "date:7":
        assert calls[1]["retry_after"].endswith("GMT")


def test_503_retry_after_on_identity_protection_paging(make_client: Callable[..., GraphClient],
                                                       ctl: EmulatorControl,
                                                       clock: TestClock) -> None:
    ctl.post("faults", {"rate": 1.0, "statuses": [503], "retry_after": 7,
                        "path": "riskDetections.*skiptoken", "max_faults": 1})
    ids = list_ids(make_client(pace=True), "identityProtection/riskDetections", 20)
    assert ids == truth_ids(ctl, "riskDetections")
    calls = graph_calls(ctl)
    assert [c["status"] for c in calls].count(503) == 1
    assert not any(c["early_retry"] or c["status"] == 429 for c in calls)
    assert all(gap >= 7.0 for _, gap in gaps_after_throttling(calls))


def test_429_without_retry_after_backs_off_with_growing_waits(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl,
        clock: TestClock) -> None:
    """Sign-ins (a per-app limit): growing waits; identityProtection: see test_shared_limit."""
    ctl.post("faults", {"rate": 1.0, "statuses": [429], "path": "signIns", "retry_after": None})
    client = make_client(retry=RetryPolicy(max_attempts=5))
    with pytest.raises(RetriableError) as caught:
        client.get(SIGNINS, {"$top": 5})
    calls = graph_calls(ctl)
    assert len(calls) == 5 and all(c["status"] == 429 and not c["retry_after"] for c in calls)
    gaps = [when(b) - when(a) for a, b in itertools.pairwise(calls)]
    assert all(a < b for a, b in itertools.pairwise(gaps)), gaps
    assert clock.sleeps == pytest.approx(gaps, abs=1e-3)
    error = caught.value
    assert error.status_code == 429 and error.request_id == calls[-1]["request_id"]
    assert "5 attempts" in error.message and calls[-1]["request_id"] in error.message


def test_transient_5xx_and_429_on_a_ten_page_listing(make_client: Callable[..., GraphClient],
                                                     ctl: EmulatorControl,
                                                     clock: TestClock) -> None:
    ctl.post("faults", {"rate": 0.5, "statuses": [429, 500, 502, 503, 504], "seed": 4,
                        "retry_after": 1})
    policy = RetryPolicy(max_attempts=6)
    ids = list_ids(make_client(retry=policy), SIGNINS, 250)
    truth = truth_ids(ctl, "signIns")
    assert ids == truth and len(set(ids)) == len(ids) == 2500
    calls = graph_calls(ctl)
    failures = Counter(c["status"] for c in calls if c["status"] != 200)
    assert sum(failures.values()) >= 5 and len(failures) >= 3  # the faults really happened
    per_request = Counter((c["path"].lower(), c["query"]) for c in calls)
    assert len(per_request) == 10 and max(per_request.values()) <= policy.max_attempts
    assert not any(c["early_retry"] for c in calls)


def test_retry_after_beyond_the_budget_fails_at_once(make_client: Callable[..., GraphClient],
                                                     ctl: EmulatorControl,
                                                     clock: TestClock) -> None:
    ctl.post("faults", {"rate": 1.0, "statuses": [429], "retry_after": 86400,
                        "path": "signIns"})
    with pytest.raises(RetriableError) as caught:
        make_client().get(SIGNINS, {"$top": 5})
    assert clock.sleeps == []
    assert len(graph_calls(ctl)) == 1
    assert "86400" in caught.value.message and "budget" in caught.value.message


def test_next_links_are_requested_verbatim(make_client: Callable[..., GraphClient],
                                          ctl: EmulatorControl) -> None:
    """Every paging request is exactly a nextLink Graph gave: nothing re-encoded or rebuilt."""
    query = {"$filter": "startswith(userPrincipalName,'a') or riskState eq 'none'",
             "$select": "id,userPrincipalName", "$top": 100}
    links = []
    for page in make_client().iter_pages(SIGNINS, query):
        if "@odata.nextLink" in page:
            links.append(page["@odata.nextLink"])
    assert len(links) >= 3
    calls = graph_calls(ctl)
    asked = [f"{c['path']}?{c['query']}" for c in calls[1:]]
    assert asked == ["/" + link.split("/", 3)[3] for link in links]


def test_dropped_connections_mid_paging(make_client: Callable[..., GraphClient],
                                        ctl: EmulatorControl) -> None:
    ctl.post("faults", {"drop_rate": 1.0, "path": "skiptoken", "max_faults": 2})
    ids = list_ids(make_client(), SIGNINS, 500)
    assert ids == truth_ids(ctl, "signIns")
    statuses = [c["status"] for c in graph_calls(ctl)]
    assert statuses.count(None) == 2 and statuses.count(200) == 5


def _a_risky_user(client: GraphClient, ctl: EmulatorControl, state: str) -> str:
    users = client.get(RISKY_USERS, {"$filter": f"riskState eq '{state}'", "$top": 1})["value"]
    assert users, f"the seeded tenant has no user in state {state}"
    ctl.clear_requests()
    return users[0]["id"]


def test_post_503_with_retry_after_is_sent_twice(make_client: Callable[..., GraphClient],
                                                 ctl: EmulatorControl,
                                                 clock: TestClock) -> None:
    client = make_client()
    user = _a_risky_user(client, ctl, "atRisk")
    ctl.post("faults", {"rate": 1.0, "statuses": [503], "retry_after": 3,
                        "path": "confirmCompromised", "max_faults": 1})
    assert client.post_action(f"{RISKY_USERS}/confirmCompromised", {"userIds": [user]}) == 204
    posts = [c for c in graph_calls(ctl) if c["method"] == "POST"]
    assert [p["status"] for p in posts] == [503, 204]
    assert posts[0]["body"] == posts[1]["body"] == {"userIds": [user]}
    assert when(posts[1]) - when(posts[0]) >= 3.0
    state = client.get(f"{RISKY_USERS}/{user}")
    assert (state["riskState"], state["riskDetail"]) == ("confirmedCompromised",
                                                         "adminConfirmedUserCompromised")


@pytest.mark.parametrize("fault", [{"drop_rate": 1.0}, {"rate": 1.0, "statuses": [504]},
                                   {"rate": 1.0, "statuses": [500]}])
def test_post_that_may_have_been_applied_is_not_repeated(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl,
        fault: dict[str, Any]) -> None:
    client = make_client()
    user = _a_risky_user(client, ctl, "atRisk")
    ctl.post("faults", {**fault, "path": "dismiss", "after_handler": True, "max_faults": 1})
    with pytest.raises(ApiError) as caught:
        client.post_action(f"{RISKY_USERS}/dismiss", {"userIds": [user]})
    posts = [c for c in graph_calls(ctl) if c["method"] == "POST"]
    assert len(posts) == 1
    if "drop_rate" in fault:
        assert isinstance(caught.value, RetriableError)
        assert caught.value.code == "outcomeUnknown" and "unknown" in caught.value.message
    else:
        assert caught.value.status_code == fault["statuses"][0]
    assert client.get(f"{RISKY_USERS}/{user}")["riskState"] == "dismissed"  # it was applied


def test_post_connection_refused_is_retried(make_client: Callable[..., GraphClient],
                                            ctl: EmulatorControl, clock: TestClock,
                                            graph_emu: Any) -> None:
    """A POST that never left (nothing listening) is retried; the wait grows; then it fails."""
    client = make_client(server_url="https://127.0.0.1:9")
    client.auth.token()
    with pytest.raises(RetriableError) as caught:
        client.post_action(f"{RISKY_USERS}/confirmSafe", {"userIds": ["x"]})
    assert "connection refused" in caught.value.message
    assert len(clock.sleeps) == 5 and all(a < b for a, b in itertools.pairwise(clock.sleeps))
