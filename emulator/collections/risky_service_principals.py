"""riskyServicePrincipals: GET /identityProtection/riskyServicePrincipals and the
confirmCompromised and dismiss actions (riskyServicePrincipal resource, workload identities).

Seeded with servicePrincipalHistory and servicePrincipalRiskDetections
(emulator.collections._workload_risk); an action also changes the principal's detections and
adds a history item.
"""

from __future__ import annotations

from typing import Any

from emulator.collections import _user_risk, _workload_risk
from emulator.schema import Type
from emulator.spec import (
    IDENTITY_PROTECTION,
    Action,
    Collection,
    TenantView,
    scalar_filters,
    versions,
)

PROPS: dict[str, Type] = {
    "id": "string",
    "appId": "string",
    "displayName": "string",
    "isEnabled": "bool",
    "isProcessing": "bool",
    "riskDetail": ("enum", "riskDetail"),
    "riskLastUpdatedDateTime": "datetime",
    "riskLevel": ("enum", "riskLevel"),
    "riskState": ("enum", "riskState"),
    "servicePrincipalType": "string",
}

READ = frozenset({"IdentityRiskyServicePrincipal.Read.All",
                  "IdentityRiskyServicePrincipal.ReadWrite.All"})
WRITE = frozenset({"IdentityRiskyServicePrincipal.ReadWrite.All"})

NOT_FOUND = "Service Principal IDs Not Found."
ACTIONS = {
    "confirmcompromised": Action("servicePrincipalIds", "confirmedCompromised",
                                 "adminConfirmedServicePrincipalCompromised", "high",
                                 NOT_FOUND, "service principals"),
    "dismiss": Action("servicePrincipalIds", "dismissed",
                      "adminDismissedAllRiskForServicePrincipal", "none", NOT_FOUND,
                      "service principals"),
}


def settle(tenant: TenantView, principal: dict[str, Any], action: str, spec: Action,
           actor: str, at: int, taken: set[str], visible_from: int | None) -> None:
    """Detections and history follow a risky service principal's action."""
    detections = tenant.store("servicePrincipalRiskDetections")
    history = tenant.store("servicePrincipalHistory")
    if action == "confirmcompromised":
        det = _workload_risk.detection(tenant.key, 1_000_000 + tenant.counter(), principal,
                                       "adminConfirmedServicePrincipalCompromised", at, "high")
        det.update(riskState=spec.risk_state, riskDetail=spec.risk_detail)
        detections.put(det, visible_from)
    else:
        _user_risk.close_open_detections(detections, "servicePrincipalId", principal["id"],
                                         spec, at, visible_from)
    existing = {h["id"] for h in history.visible_all(at)}
    events = (["adminConfirmedServicePrincipalCompromised"]
              if action == "confirmcompromised" else [])
    history.put(_workload_risk.history_item(
        principal, _user_risk.history_id(principal["id"], at, taken | existing), at, events,
        actor), visible_from)


def new_record(tenant: TenantView, partial: dict[str, Any], now: int) -> dict[str, Any]:
    """A new application at medium risk."""
    return _workload_risk.added_principal(tenant.key, tenant.counter(), now)


COLLECTION = Collection(
    name="riskyServicePrincipals", segment="riskyServicePrincipals",
    service=IDENTITY_PROTECTION,
    schemas=versions("riskyServicePrincipal", PROPS),
    read_roles=READ, default_top=20, max_top=500, write_roles=WRITE, actions=ACTIONS,
    child="servicePrincipalHistory", filterable=scalar_filters(PROPS),
    seed=_workload_risk.seed, new_record=new_record, settle=settle,
)
