"""Issue 11 against a hostile Graph: dripped bodies, huge pages, broken 200s, odd items, 401s.

Each test names the issue's case it covers; each failed on the client before the issue's work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from commands.graph.client import REFRESH_PAUSE, GraphClient
from commands.graph.retry import RetryPolicy
from commands.graph.settings import GraphSettings
from commands.graph.transport import MAX_BODY_BYTES
from executor.errors import ApiError, IntegrationError
from executor.redaction import Redactor
from tests.conftest import ROOT
from tests.control import EmulatorControl
from tests.graph_client.conftest import TestClock, graph_calls, token_calls
from tests.hostile import HostileGraph, Reply

RISKY_USERS = "identityProtection/riskyUsers"


def _client(graph: HostileGraph, *, retry: RetryPolicy | None = None,
            **overrides: Any) -> GraphClient:
    settings = GraphSettings.from_connection(graph.connection(**overrides))
    return GraphClient(settings, redactor=Redactor(), retry=retry or RetryPolicy(
        max_attempts=3, base_delay=0, max_total_wait=0), pace=False, sleep=lambda s: None)


def test_case6_a_dripping_body_hits_the_total_deadline() -> None:
    """One byte every 1.5 s with Timeout Seconds 2: once, this took 65 s and succeeded."""
    body = json.dumps({"value": [{"id": "u1"}]}).encode()  # 18 bytes: 27 s at that pace
    with HostileGraph(lambda path, q: Reply(body=body, drip_seconds=1.5)) as graph, \
            _client(graph, retry=RetryPolicy(max_attempts=1), timeout_seconds=2) as client:
        started = time.monotonic()
        with pytest.raises(IntegrationError) as caught:
            client.get(RISKY_USERS)
        took = time.monotonic() - started
    assert "no complete response within the timeout" in caught.value.message
    assert took < 2 * 2 + 1  # the deadline, not 27 s of dripping (a bound, not a benchmark)


def test_case7_a_huge_page_is_refused_while_it_is_read() -> None:
    """A 100 MB page once cost 81 s and 5.4 GB; it is refused at the cap, never buffered."""
    megabyte = b" " * (1 << 20)

    def huge(path: str, query: dict[str, str]) -> Reply:
        def chunks() -> Iterator[bytes]:
            yield b'{"value": ['
            for _ in range(100):
                yield megabyte
            yield b"]}"
        return Reply(chunks=chunks())

    with HostileGraph(huge) as graph, _client(graph) as client, \
            pytest.raises(ApiError) as caught:
        client.get(RISKY_USERS)
    assert caught.value.message == ("Graph sent an unexpected response (the response body is "
                                    f"larger than {MAX_BODY_BYTES >> 20} MB)")
    assert len(graph.graph_requests) == 1  # not retried


def test_case12_invalid_json_on_a_200_is_reported_and_not_retried() -> None:
    """Once retried 6 times and reported as "Cannot reach Microsoft Graph"."""
    with HostileGraph(lambda path, q: Reply(body=b'{"value": [{"id": ')) as graph, \
            _client(graph, retry=RetryPolicy(max_attempts=6, base_delay=0)) as client, \
            pytest.raises(ApiError) as caught:
        client.get(RISKY_USERS)
    assert caught.value.status_code == 200
    assert caught.value.message == "Graph sent an unexpected response (the body is not JSON)"
    assert len(graph.graph_requests) == 1


@pytest.mark.parametrize(("body", "what"), [
    (b"[1, 2]", "the body is a JSON array, not an object"),
    (b'{"value": [{"id": "a"}, "oops"]}', "item 1 of 'value' on page 1 is a str"),
    (b'{"value": 3}', "a page without a 'value' list"),
])
def test_case12_a_list_command_reports_odd_bodies_in_one_line(connector: Any, body: bytes,
                                                              what: str) -> None:
    """One non-object item made every list command fail with ``internal error (TypeError)``."""
    with HostileGraph(lambda path, q: Reply(body=body)) as graph:
        result = connector.run("List Risky Users", {}, graph.connection())
    assert result["status"] == "Failed"
    (error,) = result["errors"]
    assert error["message"].startswith(f"Graph sent an unexpected response ({what}")
    assert "internal error" not in error["message"]
    assert len(graph.graph_requests) == 1


def test_case8_401_renewal_comes_back_after_a_pause(make_client: Callable[..., GraphClient],
                                                    ctl: EmulatorControl,
                                                    clock: TestClock) -> None:
    """After one double 401 the client never renewed on a 401 again (for ~55 minutes)."""
    client = make_client()

    def revoke_every_new_token(response: requests.Response, **_: Any) -> None:
        if response.url.endswith("/oauth2/v2.0/token") and response.ok:
            ctl.post("tokens", {"revoke_all": True})

    hooks = client.transport.session.hooks["response"]
    hooks.append(revoke_every_new_token)
    with pytest.raises(ApiError):
        client.get(RISKY_USERS)  # 401, a new token, 401 again
    hooks.remove(revoke_every_new_token)
    ctl.post("tokens", {"revoke_all": True})  # the token held now is dead as well
    with pytest.raises(ApiError):
        client.get(RISKY_USERS)  # within the pause: no renewal
    assert len(token_calls(ctl)) == 2
    clock.sleep(REFRESH_PAUSE[0])
    assert "value" in client.get(RISKY_USERS)  # after it: renewed, and the request succeeds
    assert len(token_calls(ctl)) == 3
    assert [c["status"] for c in graph_calls(ctl)][-2:] == [401, 200]


def test_case11_the_python_api_prints_nothing_with_verify_tls_off(emulator: Any) -> None:
    """urllib3's InsecureRequestWarning went to stderr although the API promises silence."""
    connection = {**emulator.connection(), "verify_tls": False}
    script = ("import json, sys; from connector import Connector; "
              f"r = Connector.load().run('List Risky Users', {{'Top': 2}}, {connection!r}); "
              "sys.exit(0 if r['status'] == 'Successful' else 1)")
    run = subprocess.run([sys.executable, "-W", "default", "-c", script], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0
    assert (run.stdout, run.stderr) == ("", "")
