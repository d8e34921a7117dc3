"""servicePrincipalRiskDetections: GET /identityProtection/servicePrincipalRiskDetections
(servicePrincipalRiskDetection resource, workload identities).

Seeded with riskyServicePrincipals (emulator.collections._workload_risk).
"""

from __future__ import annotations

from typing import Any

from emulator.collections import _workload_risk, risk_detections
from emulator.schema import id_then_sorted
from emulator.spec import IDENTITY_PROTECTION, Collection, TenantView, scalar_filters, versions

PROPS = id_then_sorted({
    **risk_detections.DETECTION,
    "appId": "string",
    "keyIds": ("collection", "string"),
    "servicePrincipalDisplayName": "string",
    "servicePrincipalId": "string",
})


def new_record(tenant: TenantView, partial: dict[str, Any], now: int) -> dict[str, Any]:
    """A real-time suspicious sign-in of the principal named by servicePrincipalId (a new
    one when it is not a risky service principal)."""
    n = tenant.counter()
    principal = _workload_risk.risky_owner(tenant, partial) or _workload_risk.added_principal(
        tenant.key, n, now, str(partial.get("servicePrincipalId") or ""))
    return _workload_risk.detection(tenant.key, 1_000_000 + n, principal, "suspiciousSignins",
                                    now, "medium", "realtime")


COLLECTION = Collection(
    name="servicePrincipalRiskDetections", segment="servicePrincipalRiskDetections",
    service=IDENTITY_PROTECTION,
    schemas=versions("servicePrincipalRiskDetection", PROPS),
    read_roles=risk_detections.READ, default_top=20, max_top=500,
    filterable=scalar_filters(PROPS), new_record=new_record,
)
