"""Retries are visible: a WARNING per throttle or retry with its wait and cause; an unresolvable
host name is not retried; a failed result carries Graph's request-id."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.control import SteppedClock


def test_each_throttle_is_a_warning_with_its_wait_and_cause(
        connector: Any, emulator: Any, control: Any, caplog: pytest.LogCaptureFixture) -> None:
    control.faults(rate=1.0, statuses=[429], max_faults=2, seed=7, path="riskyUsers")
    clock = SteppedClock(control)
    try:
        with caplog.at_level(logging.WARNING, logger="commands.graph"):
            result = connector.run("List Risky Users", {"Top": 1}, emulator.connection(),
                                   options={**clock.options(), "pace": False})
    finally:
        control.faults()
    assert result["status"] == "Successful", result["errors"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert all("429" in w and "throttled" in w and "request-id" in w for w in warnings)
    # each line names the wait actually slept
    assert [f"waiting {s:.3f}s" in w for s, w in zip(clock.slept, warnings, strict=True)] \
        == [True, True]


def test_an_unresolvable_host_is_not_retried(connector: Any, emulator: Any) -> None:
    slept: list[float] = []
    connection = {**emulator.connection(), "server_url": "https://graph.nonexistent.invalid"}
    result = connector.run("List Risky Users", {"Top": 1}, connection,
                           options={"sleep": slept.append})
    assert result["status"] == "Failed"
    assert "cannot be resolved" in result["errors"][0]["message"]
    assert slept == []


def test_a_graph_error_carries_its_request_id(connector: Any, emulator: Any,
                                              control: Any) -> None:
    control.faults(rate=1.0, statuses=[500], retry_after=None, seed=9, path="riskyUsers")
    control.clear_requests()
    try:
        result = connector.run("List Risky Users", {"Top": 1}, emulator.connection(),
                               options={"sleep": lambda seconds: None})
    finally:
        control.faults()
    (error,) = result["errors"]
    assert error["status_code"] == 500
    logged = [e for e in control.graph_requests() if "riskyUsers" in e["path"]]
    assert error["request_id"] == logged[-1]["request_id"]  # the last attempt's
