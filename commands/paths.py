"""Graph resource paths (relative to ``{server_url}/{api_version}/``) and path-segment safety."""

from __future__ import annotations

import re

RISKY_USERS = "identityProtection/riskyUsers"
RISK_DETECTIONS = "identityProtection/riskDetections"
SIGN_INS = "auditLogs/signIns"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def guid_segment(value: str) -> str:
    """A path segment that can only be a GUID: URL-safe by construction."""
    if not _GUID.match(value):
        raise ValueError(f"'{value}' is not a GUID")
    return value.lower()


def history(risky_user_id: str) -> str:
    return f"{RISKY_USERS}/{guid_segment(risky_user_id)}/history"
