"""Confirm Safe: batches of 60, the state Graph documents, one outcome per id."""

from __future__ import annotations

from typing import Any

from tests.commands.actions import (
    busy_tenant,
    check_all_unknown_fails,
    check_batches_and_state,
    check_read_only_app_is_refused,
    check_unknown_ids_get_their_own_outcome,
)

__all__ = ["busy_tenant"]


def test_ids_go_in_batches_of_60_and_change_state(connector: Any, busy_tenant: Any) -> None:
    check_batches_and_state(connector, busy_tenant, "Confirm Safe", "confirmSafe",
                            {"riskState": "confirmedSafe", "riskLevel": "none",
                             "riskDetail": "adminConfirmedAccountSafe"})


def test_unknown_ids_are_isolated_and_reported(connector: Any, busy_tenant: Any) -> None:
    check_unknown_ids_get_their_own_outcome(connector, busy_tenant, "Confirm Safe")


def test_only_unknown_ids_fail_the_command(connector: Any, busy_tenant: Any) -> None:
    check_all_unknown_fails(connector, busy_tenant, "Confirm Safe",
                            "Confirm Safe failed.")


def test_a_read_only_app_is_told_the_permission_it_lacks(connector: Any,
                                                         busy_tenant: Any) -> None:
    check_read_only_app_is_refused(connector, busy_tenant, "Confirm Safe")
