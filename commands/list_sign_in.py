"""List Sign-In: ``GET /auditLogs/signIns``, most recent first (Graph's default order)."""

from __future__ import annotations

from typing import Any

from commands import registry
from commands.listing import run_listing
from commands.paths import SIGN_INS
from executor.result import CommandOutput


@registry.handler("list-sign-in")
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    return run_listing(client, context, inputs, SIGN_INS, page_max=1000)
