"""List Risky Users: ``GET /identityProtection/riskyUsers``."""

from __future__ import annotations

from typing import Any

from commands import registry
from commands.listing import require_identity_protection, run_listing
from commands.paths import RISKY_USERS
from executor.result import CommandOutput


@registry.handler("list-risky-users")
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    require_identity_protection(context)
    return run_listing(client, context, inputs, RISKY_USERS, page_max=500)
