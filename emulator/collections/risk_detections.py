"""riskDetections: GET /identityProtection/riskDetections (riskDetection resource, v1.0 and
beta).

Seeded with riskyUsers (emulator.collections._user_risk): every detection belongs to a risky
user. With a P1 licence Graph serves them with riskDetail and riskLevel `hidden`.
"""

from __future__ import annotations

from typing import Any

from emulator.collections import _user_risk
from emulator.schema import LOCATION, Type, id_then_sorted
from emulator.spec import IDENTITY_PROTECTION, Collection, TenantView, scalar_filters, versions

#: What riskDetection and servicePrincipalRiskDetection share.
DETECTION: dict[str, Type] = {
    "activity": ("enum", "activityType"),
    "activityDateTime": "datetime",
    "additionalInfo": "string",
    "correlationId": "string",
    "detectedDateTime": "datetime",
    "detectionTimingType": ("enum", "riskDetectionTimingType"),
    "ipAddress": "string",
    "lastUpdatedDateTime": "datetime",
    "location": LOCATION,
    "requestId": "string",
    "riskDetail": ("enum", "riskDetail"),
    "riskEventType": "string",
    "riskLevel": ("enum", "riskLevel"),
    "riskState": ("enum", "riskState"),
    "source": "string",
    "tokenIssuerType": ("enum", "tokenIssuerType"),
}
V1 = id_then_sorted({
    **DETECTION,
    "userDisplayName": "string",
    "userId": "string",
    "userPrincipalName": "string",
})
BETA: dict[str, Type] = {
    **V1,
    "mitreTechniqueId": "string",
    "riskType": ("enum", "riskEventType"),
}

READ = frozenset({"IdentityRiskEvent.Read.All", "IdentityRiskEvent.ReadWrite.All"})


def new_record(tenant: TenantView, partial: dict[str, Any], now: int) -> dict[str, Any]:
    """A real-time sign-in detection (unfamiliar features, medium) of a directory user."""
    user = _user_risk.user_for(tenant, partial)
    base = _user_risk.compromise_detection(tenant.key, tenant.counter(), user, now)
    base.update(riskEventType="unfamiliarFeatures", riskType="unfamiliarFeatures",
                riskState="atRisk", riskDetail="none", riskLevel="medium",
                detectionTimingType="realtime", activity="signin")
    return base


COLLECTION = Collection(
    name="riskDetections", segment="riskDetections", service=IDENTITY_PROTECTION,
    schemas=versions("riskDetection", V1, BETA),
    read_roles=READ, default_top=20, max_top=500, beta_root=True, licence="P1",
    filterable=scalar_filters(BETA), hidden_without_p2=("riskDetail", "riskLevel"),
    new_record=new_record,
)
