"""identityProtection's 1 request/s is per tenant, shared with other apps, and its 429s carry no
Retry-After (issue 10): the client retries slot by slot and, when the budget runs out, says the
tenant is throttled."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from commands.graph.client import GraphClient
from commands.graph.retry import RetryPolicy
from executor.errors import RetriableError
from tests.control import EmulatorControl
from tests.graph_client.conftest import TestClock, graph_calls, when


@pytest.fixture
def background(ctl: EmulatorControl) -> Iterator[Callable[[float], None]]:
    def load(rps: float) -> None:
        ctl.post("behaviour", {"identity_protection_background_rps": rps})

    yield load
    load(0.0)


def test_other_apps_load_is_waited_out_slot_by_slot(make_client: Callable[..., GraphClient],
                                                    ctl: EmulatorControl, clock: TestClock,
                                                    background: Callable[[float], None]) -> None:
    background(0.7)
    client = make_client(pace=True)  # our own pacing: every 429 is other apps' doing
    for _ in range(5):
        assert client.get("identityProtection/riskyUsers", {"$top": 1})["value"]
    calls = graph_calls(ctl)
    taken = [c for c in calls if c["status"] == 429]
    assert taken, calls
    assert all(c["fault"] == "background_load" and not c["retry_after"] for c in taken)
    assert [c["status"] for c in calls].count(200) == 5
    for a, b in itertools.pairwise(calls):
        if a["status"] == 429:  # one slot later, not an exponential backoff
            assert 1.0 <= when(b) - when(a) <= 1.5 + 1e-3
    assert max(clock.sleeps) <= 1.5


def test_a_tenant_throttled_by_others_gets_a_clear_error(make_client: Callable[..., GraphClient],
                                                         ctl: EmulatorControl,
                                                         clock: TestClock,
                                                         background: Callable[[float], None]
                                                         ) -> None:
    background(1.0)
    policy = RetryPolicy()
    with pytest.raises(RetriableError) as caught:
        make_client(retry=policy).get("identityProtection/riskDetections", {"$top": 1})
    error = caught.value
    assert (error.status_code, error.code) == (429, "tenantThrottled")
    assert error.message.startswith("Microsoft Graph is throttling this tenant's "
                                    "identityProtection requests")
    assert "shared by every app on the tenant" in error.message
    calls = graph_calls(ctl)
    assert len(calls) <= policy.shared_attempts
    assert sum(clock.sleeps) <= policy.shared_wait
    assert len(calls) >= policy.shared_wait / 1.5 - 1  # the whole budget was used, slot by slot
