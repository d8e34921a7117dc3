"""Client-side pacing keeps bursts under Graph's per-tenant limits (emulator rate_limits on)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest

from commands.graph.client import GraphClient
from commands.graph.pacing import Limit, Pacer
from tests.control import EmulatorControl
from tests.graph_client.conftest import TestClock, graph_calls, truth_ids, when


def burst(client: GraphClient) -> list[str]:
    for _ in range(6):
        client.get("identityProtection/riskyUsers", {"$top": 5})
    ids = [r["id"] for page in client.iter_pages("auditLogs/signIns", {"$top": 250})
           for r in page["value"]]
    for _ in range(4):
        client.get("identityProtection/riskDetections", {"$top": 5})
    return ids


def test_paced_burst_is_never_throttled(make_client: Callable[..., GraphClient],
                                        ctl: EmulatorControl, clock: TestClock) -> None:
    ctl.post("faults", {"rate_limits": True})
    ids = burst(make_client(pace=True))
    assert ids == truth_ids(ctl, "signIns")
    calls = graph_calls(ctl)
    assert len(calls) == 20 and all(c["status"] == 200 for c in calls)
    protection = [when(c) for c in calls if "/identityProtection/" in c["path"]]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(protection))
    sign_ins = [when(c) for c in calls if "/auditLogs/" in c["path"].replace("auditlogs",
                                                                             "auditLogs")]
    assert len(sign_ins) == 10
    assert all(later - first >= 10.0 for first, later in zip(sign_ins, sign_ins[5:],
                                                              strict=False))
    assert sum(clock.sleeps) < 40  # paced, not crawling: 10 sign-in pages need about 22 s


def test_unpaced_burst_is_throttled(make_client: Callable[..., GraphClient],
                                    ctl: EmulatorControl) -> None:
    """The control: the same burst without pacing meets the limits (and recovers by retrying)."""
    ctl.post("faults", {"rate_limits": True})
    ids = burst(make_client(pace=False))
    assert ids == truth_ids(ctl, "signIns")
    assert any(c["status"] == 429 for c in graph_calls(ctl))


def test_pacer_windows_per_tenant_and_workload() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(sleep=sleep, monotonic=lambda: now[0], limits={"w": Limit(2, 10.0)},
                  margin=0.1)
    assert [pacer.wait("t", "w") for _ in range(2)] == [0.0, 0.0]
    assert pacer.wait("t", "w") == pytest.approx(11.0)  # waits for the stretched window
    assert pacer.wait("other-tenant", "w") == 0.0
    assert pacer.wait("t", "unlimited") == 0.0
    now[0] += 5  # t = 16: the window holds the requests at 0 and 11
    assert pacer.wait("t", "w") == 0.0
    assert pacer.wait("t", "w") == pytest.approx(6.0)  # until 11 + 11
    assert slept == pytest.approx([11.0, 6.0])


def test_a_sleeping_request_holds_no_other_tenant_or_workload() -> None:
    """The slot is reserved under the lock, the sleep happens outside it."""
    now = [0.0]
    asleep, wake = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        asleep.set()
        assert wake.wait(30)  # a bound, not a pause: the test releases it at once
        now[0] += seconds

    pacer = Pacer(sleep=sleep, monotonic=lambda: now[0], limits={"w": Limit(1, 1.0)})
    pacer.wait("t", "w")
    sleeper = threading.Thread(target=pacer.wait, args=("t", "w"))
    sleeper.start()
    assert asleep.wait(30)
    assert pacer.wait("other-tenant", "w") == 0.0  # while tenant t's request sleeps
    wake.set()
    sleeper.join(30)
    assert pacer.wait("t", "w") == pytest.approx(1.1)  # queued behind the sleeper's slot


def test_sign_ins_are_paced_per_app_identity_protection_per_tenant() -> None:
    now = [0.0]
    pacer = Pacer(sleep=lambda s: None, monotonic=lambda: now[0])
    assert sum(pacer.wait("t", "auditLogs", "app-1") for _ in range(5)) == 0.0
    assert pacer.wait("t", "auditLogs", "app-2") == 0.0  # another app has its own five
    assert pacer.wait("t", "auditLogs", "app-1") == pytest.approx(11.0)
    assert pacer.wait("t", "identityProtection", "app-1") == 0.0
    assert pacer.wait("t", "identityProtection", "app-2") == pytest.approx(1.1)  # shared


def test_recent_requests_carry_over_to_a_new_pacer() -> None:
    """What one run sent (on the wall clock) makes the next run's pacer wait for it."""
    first = Pacer(sleep=lambda s: None, monotonic=lambda: 100.0)
    first.wait("t", "identityProtection")
    for _ in range(5):
        first.wait("t", "auditLogs", "app")
    sent = first.recent(wall_now=5000.0)
    assert len(sent) == 6
    later = Pacer(sleep=lambda s: None, monotonic=lambda: 7.0)  # another process's clock
    later.remember(sent, wall_now=5000.5)  # half a second later on the wall clock
    assert later.wait("t", "identityProtection") == pytest.approx(0.6)
    assert later.wait("t", "auditLogs", "app") == pytest.approx(10.5)
    assert Pacer(sleep=lambda s: None, monotonic=lambda: 0.0).recent(1.0) == []
    stale = Pacer(sleep=lambda s: None, monotonic=lambda: 0.0)
    stale.remember(sent, wall_now=5100.0)  # long after: nothing to wait for
    assert stale.wait("t", "auditLogs", "app") == 0.0


def test_requests_saved_by_two_connections_of_a_tenant_count_once() -> None:
    first = Pacer(sleep=lambda s: None, monotonic=lambda: 50.0)
    for _ in range(3):
        first.wait("t", "auditLogs", "app")
    sent = first.recent(wall_now=900.0)
    later = Pacer(sleep=lambda s: None, monotonic=lambda: 0.0)
    later.remember(sent, wall_now=900.0)
    later.remember(sent, wall_now=900.0)  # the other connection's copy of the same requests
    assert [later.wait("t", "auditLogs", "app") for _ in range(3)] == [0.0, 0.0, 11.0]


def test_a_request_counts_from_its_answer() -> None:
    """Graph counts a request when it arrives, at the latest when it is answered: the next
    one waits the window from the answer, not from the sending."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(sleep=sleep, monotonic=lambda: now[0], limits={"w": Limit(1, 1.0)})
    pacer.wait("t", "w")
    now[0] = 0.5
    pacer.answered()
    assert pacer.wait("t", "w") == pytest.approx(1.1)  # until 0.5 + 1.1


def test_a_late_answer_holds_back_the_request_queued_behind_it() -> None:
    """Another thread's request reserved its slot 1.1 s after this one was sent; this one's
    answer comes at 0.6 s, so the queued one looks again after its sleep and waits to 1.7 s."""
    now = [0.0]
    sent, answer, answered = threading.Event(), threading.Event(), threading.Event()
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 1:
            now[0] = 0.6
            answer.set()  # the first request's answer arrives while the second sleeps
            assert answered.wait(30)
            now[0] = 1.1
        else:
            now[0] += seconds

    pacer = Pacer(sleep=sleep, monotonic=lambda: now[0], limits={"w": Limit(1, 1.0)})

    def first() -> None:
        pacer.wait("t", "w")
        sent.set()
        assert answer.wait(30)
        pacer.answered()
        answered.set()

    thread = threading.Thread(target=first)
    thread.start()
    assert sent.wait(30)
    assert pacer.wait("t", "w") == pytest.approx(1.7)
    assert pauses == pytest.approx([1.1, 0.6])
    thread.join(30)
