"""Confirm Safe (beyond the reference): ``POST /identityProtection/riskyUsers/confirmSafe``."""

from __future__ import annotations

from typing import Any

from commands import registry
from commands.risky_user_actions import run_action
from executor.result import CommandOutput


@registry.handler("confirm-safe")
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    return run_action(client, inputs, context, "confirmSafe")
