"""Shared checks for the three risky-user actions (Confirm Compromised, Dismiss, Confirm Safe)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.commands.support import graph_calls
from tests.control import EmulatorControl, SteppedClock

UNKNOWN = "00000000-0000-4000-8000-0000000000{:02d}"


@pytest.fixture(scope="module")
def busy_tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    """A tenant of its own with more than two batches of risky users (actions change state)."""
    from emulator import Emulator

    with Emulator(seed=11, signins=20000) as emu:
        yield emu, EmulatorControl(emu)


def check_batches_and_state(connector: Any, tenant: tuple[Any, EmulatorControl], command: str,
                            action: str, expected: dict[str, str]) -> None:
    emu, control = tenant
    ids = sorted(u["id"] for u in control.records("riskyUsers"))[:130]
    assert len(ids) > 120  # three batches
    control.clear_requests()
    given = json.dumps(ids + ids[:5])  # duplicates are removed
    result = connector.run(command, {"User IDs": given}, emu.connection(),
                           options=SteppedClock(control).options())
    assert result["status"] == "Successful", result["errors"]
    calls = graph_calls(control, f"/identityProtection/riskyUsers/{action}")
    assert [len(c["body"]["userIds"]) for c in calls] == [60, 60, len(ids) - 120]
    assert [i for c in calls for i in c["body"]["userIds"]] == ids
    assert all(c["method"] == "POST" and c["status"] == 204 for c in calls)
    after = {u["id"]: u for u in control.records("riskyUsers")}
    for user_id in ids:
        assert {k: after[user_id][k] for k in expected} == expected
    outcomes = result["context_data"]["results"]
    assert [o["outcome"] for o in outcomes] == ["succeeded"] * len(ids)


def check_unknown_ids_get_their_own_outcome(connector: Any,
                                            tenant: tuple[Any, EmulatorControl],
                                            command: str) -> None:
    emu, control = tenant
    known = sorted(u["id"] for u in control.records("riskyUsers"))[-3:]
    unknown = [UNKNOWN.format(1), UNKNOWN.format(2)]
    result = connector.plugin.run(command, {"User IDs": ",".join(known + unknown)},
                                  emu.connection(), options=SteppedClock(control).options())
    body = result.to_dict()
    assert result.exit_code == 3
    assert body["status"] == "Partially Successful"
    outcomes = {o["user_id"]: o["outcome"] for o in body["context_data"]["results"]}
    assert outcomes == {**dict.fromkeys(known, "succeeded"),
                        **dict.fromkeys(unknown, "failed")}
    (error,) = body["errors"]
    assert error["status_code"] == 404
    assert all(u in error["message"] for u in unknown)
    assert not any(k in error["message"] for k in known)


def check_all_unknown_fails(connector: Any, tenant: tuple[Any, EmulatorControl],
                            command: str, indicator: str) -> None:
    emu, _ = tenant
    result = connector.plugin.run(command, {"User IDs": UNKNOWN.format(9)}, emu.connection())
    body = result.to_dict()
    assert result.exit_code == 1
    assert body["status"] == "Failed"
    assert body["errors"][0]["failure_indicator"] == indicator
    assert body["errors"][0]["status_code"] == 404


def check_read_only_app_is_refused(connector: Any, tenant: tuple[Any, EmulatorControl],
                                   command: str) -> None:
    emu, control = tenant
    some = sorted(u["id"] for u in control.records("riskyUsers"))[0]
    result = connector.run(command, {"User IDs": some}, emu.connection(app="readonly"))
    assert result["status"] == "Failed"
    assert result["errors"][0]["status_code"] == 403
    assert "IdentityRiskyUser.ReadWrite.All" in result["errors"][0]["message"]
