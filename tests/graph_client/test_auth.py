"""Tokens against the emulator: secret and certificate, reuse, errors, 401 handling, renewal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from commands.graph.client import GraphClient
from executor.errors import ApiError, ConfigurationError
from tests.control import EmulatorControl
from tests.graph_client.conftest import TestClock, graph_calls, token_calls, truth_ids

WRONG_SECRET = "Wr0ng~Secret+Value/=="
ALL_ROLES = {"AuditLog.Read.All", "Directory.Read.All", "IdentityRiskEvent.Read.All",
             "IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All",
             "IdentityRiskyServicePrincipal.Read.All",
             "IdentityRiskyServicePrincipal.ReadWrite.All"}


def emulator_now(ctl: EmulatorControl) -> datetime:
    return datetime.fromisoformat(ctl.get("clock")["now"])


@pytest.mark.parametrize("app", ["full", "cert"])
def test_token_info_and_reuse_across_calls(make_client: Callable[..., GraphClient],
                                           ctl: EmulatorControl, graph_emu: Any,
                                           app: str) -> None:
    client = make_client(app)
    info = client.token_info()
    assert set(info.roles) == ALL_ROLES
    assert info.tenant_id == graph_emu.tenant_ids[0]
    assert info.expires_at is not None
    assert abs((info.expires_at - emulator_now(ctl)).total_seconds() - 3600) < 2
    for _ in range(3):
        client.get("identityProtection/riskyUsers", {"$top": 1})
    assert len(token_calls(ctl)) == 1
    calls = graph_calls(ctl)
    assert len(calls) == 3 and all(c["status"] == 200 and c["token_present"] for c in calls)
    assert all(c["app_id"] == info.app_id for c in calls)


def test_readonly_app_roles(make_client: Callable[..., GraphClient]) -> None:
    roles = set(make_client("readonly").token_info().roles)
    assert "IdentityRiskyUser.ReadWrite.All" not in roles and roles


def test_wrong_secret_fails_once_and_clearly(make_client: Callable[..., GraphClient],
                                             ctl: EmulatorControl) -> None:
    client = make_client(client_secret=WRONG_SECRET)
    with pytest.raises(ConfigurationError) as caught:
        client.get("identityProtection/riskyUsers")
    error = caught.value
    assert error.status_code == 401
    assert error.message.startswith("invalid_client: AADSTS7000215: Invalid client secret")
    assert "\n" not in error.message and "Trace ID" not in error.message
    for form in (WRONG_SECRET, requests.utils.quote(WRONG_SECRET, safe="")):
        assert form not in error.message and form not in repr(error)
    assert len(token_calls(ctl)) == 1 and graph_calls(ctl) == []


def test_unknown_tenant_is_a_configuration_error(make_client: Callable[..., GraphClient],
                                                 ctl: EmulatorControl, graph_emu: Any) -> None:
    other = "00000000-0000-4000-8000-000000000001"
    client = make_client(tenant_id=other,
                         auth_url=f"{graph_emu.base_url}/{{tenant_id}}/oauth2/v2.0/token")
    with pytest.raises(ConfigurationError) as caught:
        client.token_info()
    assert caught.value.status_code == 400
    assert caught.value.message.startswith("invalid_tenant: AADSTS90002")
    assert graph_calls(ctl) == []


def test_401_mid_paging_fetches_one_token_and_repeats_one_request(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl) -> None:
    client = make_client()
    ids: list[str] = []
    for n, page in enumerate(client.iter_pages("auditLogs/signIns", {"$top": 500})):
        ids += [r["id"] for r in page["value"]]
        if n == 1:
            ctl.post("tokens", {"revoke_all": True})
    assert ids == truth_ids(ctl, "signIns")  # newest first, nothing missing or doubled
    assert len(token_calls(ctl)) == 2
    calls = graph_calls(ctl)
    statuses = [c["status"] for c in calls]
    assert statuses.count(401) == 1 and len(calls) == 6
    failed = statuses.index(401)
    assert failed == 2
    assert (calls[failed]["path"], calls[failed]["query"]) == (calls[failed + 1]["path"],
                                                               calls[failed + 1]["query"])


def test_repeated_401_does_not_loop(make_client: Callable[..., GraphClient],
                                    ctl: EmulatorControl) -> None:
    client = make_client()

    def revoke_every_new_token(response: requests.Response, **_: Any) -> None:
        if response.url.endswith("/oauth2/v2.0/token") and response.ok:
            ctl.post("tokens", {"revoke_all": True})

    client.transport.session.hooks["response"].append(revoke_every_new_token)
    for _ in range(2):
        with pytest.raises(ApiError) as caught:
            client.get("identityProtection/riskyUsers")
        assert caught.value.status_code == 401 and caught.value.code == "InvalidAuthenticationToken"
        assert caught.value.request_id
    assert len(token_calls(ctl)) == 2  # one token, one renewal after the first 401, no more
    assert [c["status"] for c in graph_calls(ctl)] == [401, 401, 401]


def test_token_renewed_before_expiry_on_the_emulator_clock(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl,
        clock: TestClock) -> None:
    ctl.post("tokens", {"lifetime_seconds": 360})
    client = make_client()
    client.get("identityProtection/riskyUsers", {"$top": 1})
    clock.sleep(50)  # 310 s left: still served from the held token
    client.get("identityProtection/riskyUsers", {"$top": 1})
    assert len(token_calls(ctl)) == 1
    clock.sleep(20)  # 290 s left: renewed, as MSAL renews a token with under 5 minutes left
    client.get("identityProtection/riskyUsers", {"$top": 1})
    assert len(token_calls(ctl)) == 2
    ctl.post("tokens", {"lifetime_seconds": 120})
    clock.sleep(400)
    for _ in range(3):
        client.get("identityProtection/riskyUsers", {"$top": 1})
        clock.sleep(30)
    assert len(token_calls(ctl)) == 5  # a 120 s token is always "near expiry": one per call
    assert all(c["status"] == 200 for c in graph_calls(ctl))  # no expired token ever sent


def test_token_endpoint_outage_during_renewal_keeps_the_valid_token(
        make_client: Callable[..., GraphClient], ctl: EmulatorControl,
        clock: TestClock) -> None:
    ctl.post("tokens", {"lifetime_seconds": 360})
    client = make_client()
    client.get("identityProtection/riskyUsers", {"$top": 1})
    ctl.post("faults", {"rate": 1.0, "statuses": [503], "retry_after": 20,
                        "path": r"/oauth2/v2\.0/token"})
    clock.sleep(100)  # renewal due
    for _ in range(4):
        client.get("identityProtection/riskyUsers", {"$top": 1})
        clock.sleep(4)
    tokens = token_calls(ctl)
    assert [t["status"] for t in tokens] == [200, 503]  # one try within the 20 s Retry-After
    assert all(c["status"] == 200 for c in graph_calls(ctl))


def test_expired_token_and_endpoint_down_is_reported(make_client: Callable[..., GraphClient],
                                                     ctl: EmulatorControl,
                                                     clock: TestClock) -> None:
    ctl.post("tokens", {"lifetime_seconds": 360})
    client = make_client()
    client.get("identityProtection/riskyUsers", {"$top": 1})
    ctl.post("faults", {"rate": 1.0, "statuses": [503], "retry_after": 20,
                        "path": r"/oauth2/v2\.0/token"})
    clock.sleep(400)  # the held token has expired
    with pytest.raises(ApiError) as caught:
        client.get("identityProtection/riskyUsers", {"$top": 1})
    assert caught.value.status_code == 503
    assert len(graph_calls(ctl)) == 1


def test_token_expiry_matches_the_claims(make_client: Callable[..., GraphClient],
                                         ctl: EmulatorControl) -> None:
    info = make_client().token_info()
    assert info.expires_at is not None and info.expires_at > datetime(2000, 1, 1, tzinfo=UTC)
