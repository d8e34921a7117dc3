"""Every bulk action (a manifest entry on the generic action handler), against the emulator.

One module for all of them: the commands, their resource, action name and body field come from
the manifest; the state each action leaves is what Graph documents (graph-api-facts §1.3).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import manifest_facts as facts
from tests.commands.support import graph_calls
from tests.control import EmulatorControl, SteppedClock

UNKNOWN = "00000000-0000-4000-8000-0000000000{:02d}"
DOCUMENTED_STATE = {
    ("riskyUsers", "confirmCompromised"): {"riskState": "confirmedCompromised",
                                           "riskLevel": "high",
                                           "riskDetail": "adminConfirmedUserCompromised"},
    ("riskyUsers", "dismiss"): {"riskState": "dismissed", "riskLevel": "none",
                                "riskDetail": "adminDismissedAllRiskForUser"},
    ("riskyUsers", "confirmSafe"): {"riskState": "confirmedSafe", "riskLevel": "none",
                                    "riskDetail": "adminConfirmedAccountSafe"},
    ("riskyServicePrincipals", "confirmCompromised"): {
        "riskState": "confirmedCompromised", "riskLevel": "high",
        "riskDetail": "adminConfirmedServicePrincipalCompromised"},
    ("riskyServicePrincipals", "dismiss"): {
        "riskState": "dismissed", "riskLevel": "none",
        "riskDetail": "adminDismissedAllRiskForServicePrincipal"},
}
ACTIONS = sorted(facts.action_commands())


def _declared(name: str) -> tuple[str, dict[str, Any], str]:
    command = facts.commands()[name]
    return command["resource"], command["action"], command["inputs"][0]["display_name"]


@pytest.fixture(scope="module")
def busy_tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    """A tenant of its own with more than two batches of records per action's resource
    (actions change state); records are added through the control API where seeds are few."""
    from emulator import Emulator

    with Emulator(seed=11, signins=20000) as emu:
        control = EmulatorControl(emu)
        for resource in {facts.commands()[name]["resource"] for name in ACTIONS}:
            missing = 130 - len(control.records(resource))
            if missing > 0:
                control.post(f"records/{resource}", {"records": [{}] * missing})
        yield emu, control


@pytest.mark.parametrize("name", ACTIONS)
def test_ids_go_in_batches_of_60_and_leave_the_documented_state(
        name: str, connector: Any, busy_tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = busy_tenant
    resource, action, label = _declared(name)
    ids = sorted(r["id"] for r in control.records(resource))[:130]
    assert len(ids) > 120  # three batches
    control.clear_requests()
    given = json.dumps(ids + ids[:5])  # duplicates are removed
    result = connector.run(name, {label: given}, emu.connection(),
                           options=SteppedClock(control).options())
    assert result["status"] == result["return_data"] == "Successful", result["errors"]
    calls = graph_calls(control, f"/{facts.resources()[resource]['path']}/{action['name']}")
    assert [len(c["body"][action["body_field"]]) for c in calls] == [60, 60, len(ids) - 120]
    assert [i for c in calls for i in c["body"][action["body_field"]]] == ids
    assert all(c["method"] == "POST" and c["status"] == 204 for c in calls)
    expected = DOCUMENTED_STATE[(resource, action["name"])]
    after = {r["id"]: r for r in control.records(resource)}
    for item_id in ids:
        assert {k: after[item_id][k] for k in expected} == expected
    assert [o["outcome"] for o in result["context_data"]["results"]] == ["succeeded"] * len(ids)
    assert result["key_fields"]["succeeded_count"] == len(ids)


@pytest.mark.parametrize("name", ACTIONS)
def test_unknown_ids_are_isolated_and_reported(name: str, connector: Any,
                                               busy_tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = busy_tenant
    resource, _, label = _declared(name)
    known = sorted(r["id"] for r in control.records(resource))[-3:]
    unknown = [UNKNOWN.format(1), UNKNOWN.format(2)]
    result = connector.plugin.run(name, {label: ",".join(known + unknown)},
                                  emu.connection(), options=SteppedClock(control).options())
    body = result.to_dict()
    assert result.exit_code == 3
    assert body["status"] == body["return_data"] == "Partially Successful"
    outcomes = {o["id"]: o["outcome"] for o in body["context_data"]["results"]}
    assert outcomes == {**dict.fromkeys(known, "succeeded"),
                        **dict.fromkeys(unknown, "failed")}
    assert body["key_fields"]["failed"] == unknown
    (error,) = body["errors"]
    assert error["status_code"] == 404
    assert all(u in error["message"] for u in unknown)
    assert not any(k in error["message"] for k in known)


@pytest.mark.parametrize("name", ACTIONS)
def test_only_unknown_ids_fail_the_command(name: str, connector: Any,
                                           busy_tenant: tuple[Any, EmulatorControl]) -> None:
    emu, _ = busy_tenant
    _, _, label = _declared(name)
    result = connector.plugin.run(name, {label: UNKNOWN.format(9)}, emu.connection())
    body = result.to_dict()
    assert result.exit_code == 1
    assert body["status"] == body["return_data"] == "Failed"
    assert body["errors"][0]["failure_indicator"] == facts.commands()[name]["failure_indicator"]
    assert body["errors"][0]["status_code"] == 404


@pytest.mark.parametrize("name", ACTIONS)
def test_a_read_only_app_is_told_the_permission_it_lacks(
        name: str, connector: Any, busy_tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = busy_tenant
    resource, _, label = _declared(name)
    some = sorted(r["id"] for r in control.records(resource))[0]
    result = connector.run(name, {label: some}, emu.connection(app="readonly"))
    assert result["status"] == "Failed"
    assert result["errors"][0]["status_code"] == 403
    assert all(p in result["errors"][0]["message"] for p in facts.permissions(name))
