"""Test Connection: a token, and which commands its application roles allow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests import manifest_facts as facts
from tests.commands.support import graph_calls, run_cli, token_requests

ALL_COMMANDS = {name for name in facts.commands() if name != "Fetch Event"} | {
    f"Fetch Event ({value})" for value in facts.event_types()}
WRITE_COMMANDS = set(facts.action_commands())


def _run_from_clean_log(emulator: Any, control: Any, tmp_path: Path,
                        app: str) -> tuple[int, dict[str, Any], str]:
    """Test Connection through the CLI for ``app``, with the emulator's request log emptied
    first so that the test sees only this run's requests."""
    control.clear_requests()
    return run_cli(emulator.connection(app=app), tmp_path, "run", "Test Connection")


def test_full_app_passes_and_may_run_every_command(emulator: Any, control: Any,
                                                   tmp_path: Path) -> None:
    code, result, stderr = _run_from_clean_log(emulator, control, tmp_path, "full")
    assert code == 0
    assert result["status"] == "Successful"
    assert result["return_data"] == "Successful"
    assert set(result["context_data"]["allowed_commands"]) == ALL_COMMANDS
    assert result["context_data"]["missing_permissions"] == {}
    assert result["context_data"]["tenant_id"] == emulator.tenant_ids[0]
    assert len(token_requests(control)) == 1
    # one cheap read per permission family, each a collection the catalogue names
    calls = graph_calls(control)
    families = {p for r in facts.resources().values() if "{" not in r["path"]
                for p in r["permissions"]}
    assert len(calls) == len(families)
    assert all(c["params"] == {"$top": "1"} and c["status"] == 200 for c in calls)
    assert {c["path"].split("/", 2)[2] for c in calls} <= {
        r["path"] for r in facts.resources().values()}
    readiness = result["context_data"]["readiness"]
    assert set(readiness) == ALL_COMMANDS | {"Test Connection"}
    assert set(readiness.values()) == {"ready"}
    assert result["key_fields"]["ready_count"] == len(readiness)
    assert emulator.connection()["client_secret"] not in stderr + str(result)


def test_read_only_app_is_told_which_permission_the_actions_lack(
        connector: Any, emulator: Any) -> None:
    result = connector.run("Test Connection", {}, emulator.connection(app="readonly"))
    assert result["status"] == "Successful"
    allowed = set(result["context_data"]["allowed_commands"])
    assert allowed == ALL_COMMANDS - WRITE_COMMANDS
    missing = result["context_data"]["missing_permissions"]
    assert missing == {name: facts.permissions(name) for name in WRITE_COMMANDS}
    readiness = result["context_data"]["readiness"]
    assert {n for n, state in readiness.items() if state == "ready"} == (
        ALL_COMMANDS - WRITE_COMMANDS) | {"Test Connection"}
    for name in WRITE_COMMANDS:
        assert readiness[name] == "missing " + ", ".join(facts.permissions(name))
    assert all(read["ok"] for read in result["context_data"]["reads"])


def test_optional_permissions_are_listed_for_a_read_only_app(connector: Any,
                                                             emulator: Any) -> None:
    result = connector.run("Test Connection", {}, emulator.connection(app="readonly"))
    optional = result["context_data"]["optional_permissions"]
    assert [(o["for"], o["any_of"]) for o in optional] == [
        (o["for"], o["permissions"]) for r in facts.resources().values()
        for o in r.get("optional_permissions", [])]
    assert any("Policy.Read.All" in o["any_of"] for o in optional)


def test_app_without_roles_fails_asking_for_admin_consent(emulator: Any, control: Any,
                                                          tmp_path: Path) -> None:
    code, result, _ = _run_from_clean_log(emulator, control, tmp_path, "none")
    assert code == 1
    assert result["status"] == result["return_data"] == "Failed"
    (error,) = result["errors"]
    assert error["failure_indicator"] == "Test Connection failed. Failed to check the connector."
    assert "grant admin consent for" in error["message"]
    for permission in ("AuditLog.Read.All", "IdentityRiskEvent.Read.All",
                       "IdentityRiskyUser.Read.All"):
        assert permission in error["message"]
    assert graph_calls(control) == []  # the token said it all


def _no_wait() -> dict[str, Any]:
    return {"sleep": lambda seconds: None}


def test_unreachable_server_url_fails(connector: Any, emulator: Any) -> None:
    connection = {**emulator.connection(), "server_url": "https://127.0.0.1:1"}
    result = connector.plugin.run("Test Connection", {}, connection, options=_no_wait())
    body = result.to_dict()
    assert result.exit_code == 1 and body["status"] == "Failed"
    assert "Cannot reach Microsoft Graph" in body["errors"][0]["message"]


def test_graph_answering_5xx_to_every_read_fails(connector: Any, emulator: Any,
                                                 control: Any) -> None:
    control.faults(rate=1.0, statuses=[503], retry_after=None, seed=3, path="/v1.0/")
    try:
        result = connector.plugin.run("Test Connection", {}, emulator.connection(),
                                      options=_no_wait())
    finally:
        control.faults()
    body = result.to_dict()
    assert result.exit_code == 1 and body["status"] == "Failed"
    assert body["errors"][0]["status_code"] == 503


def test_wrong_secret_fails_with_the_token_endpoint_error(connector: Any, emulator: Any,
                                                          control: Any) -> None:
    connection = {**emulator.connection(), "client_secret": "Wr0ng~Secret.Value_0123456789abcdef"}
    control.clear_requests()
    result = connector.plugin.run("Test Connection", {}, connection)
    body = result.to_dict()
    assert result.exit_code == 1
    assert body["status"] == "Failed"
    (error,) = body["errors"]
    assert error["failure_indicator"] == "Test Connection failed. Failed to check the connector."
    assert error["status_code"] == 401
    assert error["message"].startswith("invalid_client: AADSTS7000215")
    assert "Wr0ng~Secret" not in str(body)
    assert len(token_requests(control)) == 1


def test_unknown_tenant_and_unknown_app_are_named(connector: Any, emulator: Any) -> None:
    base = emulator.connection()
    unknown_tenant = {**base, "tenant_id": "00000000-0000-0000-0000-000000000001",
                      "auth_url": base["auth_url"].replace(base["tenant_id"], "{tenant_id}")}
    result = connector.run("Test Connection", {}, unknown_tenant)
    assert result["errors"][0]["status_code"] == 400
    assert result["errors"][0]["message"].startswith("invalid_tenant: AADSTS90002")
    unknown_app = {**base, "client_id": "11111111-2222-3333-4444-555555555555"}
    result = connector.run("Test Connection", {}, unknown_app)
    assert result["errors"][0]["status_code"] == 400
    assert result["errors"][0]["message"].startswith("unauthorized_client: AADSTS700016")


def test_certificate_credential_works(connector: Any, emulator: Any) -> None:
    result = connector.run("Test Connection", {}, emulator.connection(app="cert"))
    assert result["status"] == "Successful", result["errors"]


def test_trailing_slashes_on_server_and_auth_url_are_accepted(connector: Any,
                                                              emulator: Any) -> None:
    base = emulator.connection(app="readonly")
    pasted = {**base, "server_url": base["server_url"] + "/",
              "auth_url": base["auth_url"] + "/"}
    result = connector.run("Test Connection", {}, pasted)
    assert result["status"] == "Successful", result["errors"]
