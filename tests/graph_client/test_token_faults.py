"""The token endpoint's live failures (issue 10): an expired secret, a throttled endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from commands.graph.client import GraphClient
from executor.errors import ConfigurationError, RetriableError
from tests.control import EmulatorControl
from tests.graph_client.conftest import graph_calls, token_calls


def test_an_expired_secret_says_to_create_a_new_one(make_client: Callable[..., GraphClient],
                                                    ctl: EmulatorControl,
                                                    graph_emu: Any) -> None:
    expired = graph_emu.create_app(roles=("AuditLog.Read.All",), secret_expired=True)
    client = make_client(expired["app"])
    with pytest.raises(ConfigurationError) as caught:
        client.get("auditLogs/signIns", {"$top": 1})
    message = caught.value.message
    assert message.startswith("The client secret has expired: create a new one")
    assert "AADSTS7000222" in message
    assert expired["client_secret"] not in message
    assert graph_calls(ctl) == []


def test_a_throttled_token_endpoint_is_reported_with_its_retry_after(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl) -> None:
    client = make_client()
    ctl.post("faults", {"token_throttle": True})
    try:
        with pytest.raises(RetriableError) as caught:
            client.get("auditLogs/signIns", {"$top": 1})
    finally:
        ctl.post("faults", {"token_throttle": False})
    assert caught.value.status_code == 429
    assert "token endpoint is throttling" in caught.value.message
    assert "try again in 60 s" in caught.value.message
    assert graph_calls(ctl) == []
    assert len(token_calls(ctl)) == 1  # not hammered


def test_a_throttled_renewal_keeps_the_valid_token_until_retry_after(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl, clock: Any) -> None:
    ctl.post("tokens", {"lifetime_seconds": 600})
    client = make_client()
    client.get("auditLogs/signIns", {"$top": 1})
    clock.sleep(400)  # inside MSAL's five-minute margin: renewal is due, the token still valid
    ctl.post("faults", {"token_throttle": True})
    try:
        client.get("auditLogs/signIns", {"$top": 1})
        client.get("auditLogs/signIns", {"$top": 1})
    finally:
        ctl.post("faults", {"token_throttle": False})
    assert len(token_calls(ctl)) == 2  # one first token, one throttled renewal, no third ask
    assert [c["status"] for c in graph_calls(ctl)] == [200, 200, 200]
