"""Commands through Graph's bad days: throttling, 5xx, expired tokens, dropped connections.

Faults come from the emulator's Dev Proxy-style fault mode with a fixed seed; the client's waits
are steps of the (frozen) emulator clock, so "no sooner than asked" is measured exactly on the
emulator's own request log, with no wall-clock time in it. Every listing must still equal the
ground truth: nothing missing, nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest

from tests.commands.support import graph_calls, token_requests
from tests.control import EmulatorControl, SteppedClock


@pytest.fixture(scope="module")
def tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    from emulator import Emulator

    with Emulator(seed=5, signins=3000, frozen=True) as emu:
        yield emu, EmulatorControl(emu)


@pytest.fixture(scope="module")
def busy_tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    """Enough risk detections for two pages of 500."""
    from emulator import Emulator

    with Emulator(seed=5, signins=20000) as emu:
        yield emu, EmulatorControl(emu)


@pytest.fixture(autouse=True)
def calm(tenant: tuple[Any, EmulatorControl]) -> Iterator[None]:
    _, control = tenant
    control.faults()
    control.clear_requests()
    yield
    control.faults()


def _time(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["time"])


def _ids(result: dict[str, Any]) -> list[str]:
    return [item["id"] for item in result["raw_data"]["value"]]


def test_retry_after_is_honoured_before_the_same_page_is_asked_again(
        connector: Any, tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    truth = {s["id"] for s in control.records("signIns", select="id")}
    control.faults(rate=1.0, statuses=[429], retry_after=7, max_faults=1, seed=1,
                   path="skiptoken")
    clock = SteppedClock(control)
    result = connector.run("List Sign-In", {}, emu.connection(), options=clock.options())
    ids = _ids(result)
    assert len(ids) == len(set(ids)) == len(truth) and set(ids) == truth
    calls = graph_calls(control, "/auditLogs/signIns")
    throttled = next(i for i, c in enumerate(calls) if c["status"] == 429)
    again = calls[throttled + 1]
    assert again["query"] == calls[throttled]["query"]  # the same nextLink, verbatim
    assert (_time(again) - _time(calls[throttled])).total_seconds() >= 7
    assert not any(c["early_retry"] for c in calls)


@pytest.mark.parametrize("retry_after", [2.128, "date"])
def test_fractional_and_http_date_retry_after(connector: Any, retry_after: Any,
                                              tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    control.faults(rate=1.0, statuses=[429], retry_after=retry_after, max_faults=2, seed=2,
                   path="auditLogs")
    result = connector.run("List Sign-In", {"Top": 5}, emu.connection(),
                           options=SteppedClock(control).options())
    assert result["status"] == "Successful"
    calls = graph_calls(control, "/auditLogs/signIns")
    assert [c["status"] for c in calls] == [429, 429, 200]
    assert not any(c["early_retry"] for c in calls)


def test_throttling_without_retry_after_waits_for_the_next_slot(
        connector: Any, tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    control.faults(rate=1.0, statuses=[429], max_faults=3, seed=3, path="riskDetections")
    clock = SteppedClock(control)
    result = connector.run("List Risk Detections", {"Top": 3}, emu.connection(),
                           options=clock.options())
    assert result["status"] == "Successful"
    calls = graph_calls(control, "/identityProtection/riskDetections")
    assert [c["status"] for c in calls] == [429, 429, 429, 200]
    assert all(c["retry_after"] is None for c in calls)  # identityProtection sends none
    # The emulator clock moves only by the client's waits: each gap is the wait before a retry.
    gaps = [(_time(b) - _time(a)).total_seconds() for a, b in pairwise(calls)]
    assert sum(gaps) == pytest.approx(sum(clock.slept), abs=1e-5)
    # The tenant's shared 1 request/s (issue 10): each retry waits for the next slot, 1-1.5 s
    # later, not a growing backoff (2 µs for the log's microsecond rounding).
    assert all(1.0 - 2e-6 <= gap <= 1.5 + 2e-6 for gap in gaps), gaps


def test_endless_throttling_gives_up_after_bounded_attempts(
        connector: Any, tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    control.faults(rate=1.0, statuses=[429], seed=4, path="riskyUsers")
    clock = SteppedClock(control)
    result = connector.run("List Risky Users", {"Top": 1}, emu.connection(),
                           options=clock.options())
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert error["status_code"] == 429
    assert "throttling this tenant's identityProtection requests" in error["message"]
    calls = graph_calls(control, "/identityProtection/riskyUsers")
    assert 2 <= len(calls) <= 40
    assert sum(clock.slept) <= 60 + 1.1 * len(calls)  # a bounded total wait (plus pacing)


def test_server_errors_then_success(connector: Any, tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    truth = {s["id"] for s in control.records("signIns", select="id")}
    control.faults(rate=1.0, statuses=[500, 502, 503, 504], max_faults=4, seed=5,
                   path="auditLogs")
    result = connector.run("List Sign-In", {}, emu.connection(),
                           options=SteppedClock(control).options())
    ids = _ids(result)
    assert len(ids) == len(set(ids)) and set(ids) == truth
    statuses = [c["status"] for c in graph_calls(control, "/auditLogs/signIns")]
    failed = [s for s in statuses if s != 200]
    assert len(failed) == 4 and set(failed) <= {500, 502, 503, 504}


def test_dropped_connection_mid_paging_loses_nothing(
        connector: Any, tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    truth = {s["id"] for s in control.records("signIns", select="id")}
    control.faults(drop_rate=1.0, max_faults=1, seed=6, path="skiptoken")
    result = connector.run("List Sign-In", {}, emu.connection(),
                           options=SteppedClock(control).options())
    ids = _ids(result)
    assert len(ids) == len(set(ids)) and set(ids) == truth
    assert any(c["status"] is None for c in graph_calls(control, "/auditLogs/signIns"))


class RevokingClock(SteppedClock):
    """Revokes every token the first time the client waits (between two paced pages)."""

    revoked = False

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if not self.revoked:
            self.revoked = True
            self.control.post("tokens", {"revoke_all": True})


def test_a_token_revoked_mid_paging_is_replaced_once(
        connector: Any, busy_tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = busy_tenant
    control.clear_requests()
    truth = {d["id"] for d in control.records("riskDetections")}
    assert len(truth) > 500  # two pages
    clock = RevokingClock(control)
    result = connector.run("List Risk Detections", {}, emu.connection(),
                           options=clock.options())
    ids = _ids(result)
    assert len(ids) == len(set(ids)) and set(ids) == truth
    calls = graph_calls(control, "/identityProtection/riskDetections")
    assert [c["status"] for c in calls] == [200, 401, 200]
    assert len(token_requests(control)) == 2


class AgingClock(SteppedClock):
    """The first wait lasts 500 s on both clocks: longer than the token has left to live."""

    aged = False

    def sleep(self, seconds: float) -> None:
        if not self.aged:
            self.aged = True
            seconds += 500
        super().sleep(seconds)


def test_a_token_that_expires_mid_paging_is_renewed(connector: Any,
                                                     busy_tenant: tuple[Any, EmulatorControl]
                                                     ) -> None:
    emu, control = busy_tenant
    truth = {d["id"] for d in control.records("riskDetections")}
    control.post("tokens", {"lifetime_seconds": 400})
    control.clear_requests()
    try:
        result = connector.run("List Risk Detections", {}, emu.connection(),
                               options=AgingClock(control).options())
    finally:
        control.post("tokens", {"lifetime_seconds": 3600})
    ids = _ids(result)
    assert len(ids) == len(set(ids)) and set(ids) == truth
    assert len(token_requests(control)) == 2  # the first token, and one renewal
    calls = graph_calls(control, "/identityProtection/riskDetections")
    assert [c["status"] for c in calls].count(401) <= 1
    assert calls[-1]["status"] == 200
