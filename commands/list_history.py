"""List History: ``GET /identityProtection/riskyUsers/{id}/history`` for one risky user."""

from __future__ import annotations

from typing import Any

from commands import registry
from commands.listing import require_identity_protection, run_listing
from commands.paths import history
from executor.result import CommandOutput


@registry.handler("list-history")
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    require_identity_protection(context)
    return run_listing(client, context, inputs, history(inputs["risky_user_id"]), page_max=500)
