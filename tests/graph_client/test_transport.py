"""TLS, CA bundle, proxy and path safety, against the emulator over real HTTPS."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import certifi
import pytest

from commands.graph.client import GraphClient
from executor.errors import ConfigurationError, InvalidInput
from tests.control import EmulatorControl
from tests.graph_client.conftest import graph_calls, token_calls
from tests.graph_client.proxy import connect_proxy

RISKY_USERS = "identityProtection/riskyUsers"


def test_connection_ca_bundle_wins_over_requests_ca_bundle(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a bundle without the test CA
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    client = make_client()
    assert client.get(RISKY_USERS, {"$top": 1})["value"]
    assert len(token_calls(ctl)) == 1 and len(graph_calls(ctl)) == 1


def test_without_the_ca_the_connection_fails_with_a_certificate_error(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl, graph_emu: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Even with the emulator's CA in the environment: only the connection decides.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", graph_emu.ca_bundle)
    monkeypatch.setenv("SSL_CERT_FILE", graph_emu.ca_bundle)
    client = make_client(ca_bundle=None)
    with pytest.raises(ConfigurationError) as caught:
        client.get(RISKY_USERS)
    assert "certificate verification failed" in caught.value.message
    assert ctl.graph_requests() == []  # the handshake failed before any request


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_tls_off_works_and_warns(make_client: Callable[..., GraphClient],
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    client = make_client(ca_bundle=None, verify_tls=False)
    assert client.get(RISKY_USERS, {"$top": 1})["value"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and r.name == "commands.graph"]
    assert warnings and "verification is OFF" in warnings[0].getMessage()


def test_proxy_url_carries_token_and_graph_requests(make_client: Callable[..., GraphClient],
                                                    ctl: EmulatorControl,
                                                    graph_emu: Any) -> None:
    real = graph_emu.base_url.removeprefix("https://")
    # Nothing listens on localhost:1, so Graph calls can only succeed through the proxy, which
    # opens that tunnel to the emulator. The token endpoint (named by the emulator's OpenID
    # configuration) is the emulator's real address: its tunnel shows the token went by proxy.
    with connect_proxy(rewrite={"localhost:1": real}) as proxy:
        client = make_client(proxy_url=proxy.url, server_url="https://localhost:1",
                             auth_url="https://localhost:1/{tenant_id}/oauth2/v2.0/token")
        assert client.get(RISKY_USERS, {"$top": 1})["value"]
        assert client.get("auditLogs/signIns", {"$top": 1})["value"]
    assert set(proxy.tunnels) == {"CONNECT localhost:1", f"CONNECT {real}"}
    assert len(token_calls(ctl)) == 1 and len(graph_calls(ctl)) == 2


def test_proxy_environment_alone_is_ignored(make_client: Callable[..., GraphClient],
                                            ctl: EmulatorControl,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with connect_proxy() as proxy:
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        client = make_client()
        assert client.get(RISKY_USERS, {"$top": 1})["value"]
    assert proxy.tunnels == []
    assert len(token_calls(ctl)) == 1


def test_every_request_has_its_own_client_request_id(make_client: Callable[..., GraphClient],
                                                     ctl: EmulatorControl) -> None:
    client = make_client()
    for _ in range(3):
        client.get(RISKY_USERS, {"$top": 1})
    ids = [c["client_request_id"] for c in graph_calls(ctl)]
    assert len(set(ids)) == 3 and all(len(i) == 36 for i in ids)


def test_query_is_percent_encoded_without_plus(make_client: Callable[..., GraphClient],
                                               ctl: EmulatorControl) -> None:
    client = make_client()
    client.get("auditLogs/signIns", {"$filter": "startswith(userPrincipalName,'a b+c&d')",
                                     "$top": 1})
    query = graph_calls(ctl)[0]["query"]
    assert query == ("$filter=startswith(userPrincipalName,'a%20b%2Bc%26d')&$top=1")


@pytest.mark.parametrize("path", [
    "identityProtection/riskyUsers/../../beta/x", "identityProtection/riskyUsers/%2e%2e/x",
    "identityProtection//riskyUsers", "identityProtection/riskyUsers?$top=1",
    "identityProtection/riskyUsers#x", "identityProtection\\riskyUsers",
    "identityProtection/riskyUsers/a%2Fb", "identityProtection/risky Users", "",
])
def test_unsafe_paths_are_refused_before_any_request(make_client: Callable[..., GraphClient],
                                                     ctl: EmulatorControl, path: str) -> None:
    client = make_client()
    with pytest.raises(InvalidInput):
        client.get(path)
    assert ctl.graph_requests() == []
