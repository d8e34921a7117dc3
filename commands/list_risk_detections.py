"""List Risk Detections: ``GET /identityProtection/riskDetections``."""

from __future__ import annotations

from typing import Any

from commands import registry
from commands.listing import require_identity_protection, run_listing
from commands.paths import RISK_DETECTIONS
from executor.result import CommandOutput


@registry.handler("list-risk-detections")
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    require_identity_protection(context)
    return run_listing(client, context, inputs, RISK_DETECTIONS, page_max=500)
