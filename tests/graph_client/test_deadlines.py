"""Timeout Seconds is the total for one request, against the emulator's trickle fault.

The emulator sends the status line and headers (or the body) one byte every 300 ms: each read
arrives well inside any per-read timeout, so only a total deadline ends the request. The bounds
asserted are the deadline plus generous slack, never a measurement of speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from commands.graph.client import GraphClient
from commands.graph.retry import RetryPolicy
from executor.errors import IntegrationError
from tests.control import EmulatorControl
from tests.graph_client.conftest import graph_calls

RISKY_USERS = "identityProtection/riskyUsers"
SLACK = 5.0
"""What a loaded machine may add to a 1 s deadline; a trickled head takes minutes without it."""


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickled_response_ends_at_the_total_deadline(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl, part: str) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1), timeout_seconds=1)
    client.get(RISKY_USERS, {"$top": 1})  # the token first: only Graph's answer trickles
    ctl.post("faults", {"trickle": part, "trickle_ms": 300, "path": "riskyUsers"})
    started = time.monotonic()
    with pytest.raises(IntegrationError) as caught:
        client.get(RISKY_USERS, {"$top": 1})
    took = time.monotonic() - started
    assert "no complete response within the timeout" in caught.value.message
    assert took < 1 + SLACK
    assert len(graph_calls(ctl)) == 2  # reached the emulator, then abandoned; not retried
    ctl.post("faults", {})
    assert client.get(RISKY_USERS, {"$top": 1})["value"]  # the next request is not disturbed


def test_a_trickled_token_response_ends_at_the_total_deadline(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1), timeout_seconds=1)
    ctl.post("faults", {"trickle": "headers", "trickle_ms": 300, "path": "oauth2"})
    started = time.monotonic()
    with pytest.raises(IntegrationError) as caught:
        client.get(RISKY_USERS, {"$top": 1})
    assert time.monotonic() - started < 1 + SLACK
    assert "within the timeout" in caught.value.message, caught.value.message
    assert graph_calls(ctl) == []
