"""Command Timeout Seconds: one command run's total, every request, retry and wait included.

Waits go through an injected clock that also moves the emulator's, so nothing really sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest

from commands.graph.retry import RetryPolicy
from tests.commands.support import graph_calls
from tests.control import SteppedClock

PATIENT = RetryPolicy(max_attempts=100, max_total_wait=10_000)
"""A retry policy that never gives up first: only the command's total can end the run."""


def _list_sign_ins(connector: Any, emulator: Any, control: Any,
                   **connection: Any) -> tuple[dict[str, Any], SteppedClock]:
    control.faults(rate=1.0, statuses=[503], retry_after=25, path="signIns")
    control.clear_requests()
    clock = SteppedClock(control)
    try:
        result = connector.run("List Sign-In", {"Top": 5},
                               {**emulator.connection(), **connection},
                               options={**clock.options(), "retry": PATIENT, "pace": False})
    finally:
        control.faults()
    return result, clock


def test_a_command_ends_failed_when_its_total_would_pass(connector: Any, emulator: Any,
                                                         control: Any) -> None:
    result, clock = _list_sign_ins(connector, emulator, control, command_timeout_seconds=60)
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert "Command Timeout Seconds (60 s)" in error["message"], error["message"]
    assert "a retry of 25 s would pass it" in error["message"]
    assert sum(clock.slept) <= 60  # it stopped before the wait that would overrun
    assert len(graph_calls(control, "signIns")) == 3  # 0 s, 25 s, 50 s; not a 4th at 75 s


def test_the_default_total_is_ten_minutes(connector: Any, emulator: Any,
                                          control: Any) -> None:
    result, clock = _list_sign_ins(connector, emulator, control)
    assert result["status"] == "Failed"
    assert "Command Timeout Seconds (600 s)" in result["errors"][0]["message"]
    assert 575 <= sum(clock.slept) <= 600
    assert len(graph_calls(control, "signIns")) == 24


@pytest.mark.parametrize("value", [5, 86401, "soon", True, float("nan")])
def test_a_bad_command_timeout_is_refused_before_any_request(
        connector: Any, emulator: Any, control: Any, value: Any) -> None:
    control.clear_requests()
    result = connector.run("List Sign-In", {"Top": 5},
                           {**emulator.connection(), "command_timeout_seconds": value})
    assert result["status"] == "Failed"
    assert "Invalid input 'Command Timeout Seconds'" in result["errors"][0]["message"]
    assert control.graph_requests() == []


@pytest.fixture(scope="module")
def own_tenant() -> Any:
    """Actions change state: a small tenant of this module's own."""
    from emulator import Emulator
    from tests.control import EmulatorControl

    with Emulator(seed=5, signins=10) as emu:
        yield emu, EmulatorControl(emu)


def test_time_running_out_during_the_read_back_leaves_an_accepted_action_unverified(
        connector: Any, own_tenant: tuple[Any, Any]) -> None:
    emulator, control = own_tenant
    control.post("behaviour", {"action_delay_seconds": 3600})  # riskState lags for an hour
    ids = [r["id"] for r in control.records("riskyUsers")[:2]]
    clock = SteppedClock(control)
    result = connector.run("Confirm Compromised", {"User IDs": ids, "Read Back Seconds": 300},
                           {**emulator.connection(), "command_timeout_seconds": 20},
                           options={**clock.options(), "pace": False})
    assert result["status"] == "Successful", result["errors"]  # Graph accepted both
    outcomes = result["context_data"]["results"]
    assert [o["id"] for o in outcomes] == ids
    assert all("Command Timeout Seconds passed during the read back" in o["message"]
               for o in outcomes), outcomes
    assert sum(clock.slept) <= 20


def test_a_bulk_action_out_of_time_fails_only_the_ids_not_sent(
        connector: Any, own_tenant: tuple[Any, Any]) -> None:
    """Paced at Graph's one identityProtection request per second, 12 batches of 60 take 11 s:
    with 10 s, the first batches are accepted and the rest fail, naming the deadline."""
    emulator, control = own_tenant
    control.post("behaviour", {"action_delay_seconds": 0})
    have = control.records("riskyUsers")
    control.post("records/riskyUsers", {"records": [{}] * (720 - len(have))})
    ids = [r["id"] for r in control.records("riskyUsers")][:720]
    clock = SteppedClock(control)
    result = connector.run("Dismiss Risky User", {"User IDs": ids},
                           {**emulator.connection(), "command_timeout_seconds": 10},
                           options={**clock.options(), "pace": True})
    assert result["status"] == "Partially Successful", result["errors"]
    outcomes = {o["id"]: o for o in result["context_data"]["results"]}
    failed = [i for i in ids if outcomes[i]["outcome"] == "failed"]
    assert len(ids) - len(failed) >= 60 and len(failed) >= 60
    assert failed == ids[-len(failed):]  # the batches not sent yet, nothing else
    assert all("Command Timeout Seconds (10 s)" in outcomes[i]["message"] for i in failed)
    assert sum(clock.slept) <= 10
