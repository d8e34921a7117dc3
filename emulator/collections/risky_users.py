"""riskyUsers: GET /identityProtection/riskyUsers and the confirmCompromised, dismiss and
confirmSafe actions (riskyUser resource, v1.0 and beta).

Seeded with riskDetections and history (emulator.collections._user_risk); an action also
changes the user's detections and adds a history item, as Graph's do.
"""

from __future__ import annotations

from typing import Any

from emulator.collections import _user_risk
from emulator.schema import Type
from emulator.spec import (
    IDENTITY_PROTECTION,
    Action,
    Collection,
    TenantView,
    scalar_filters,
    versions,
)

V1: dict[str, Type] = {
    "id": "string",
    "isDeleted": "bool",
    "isProcessing": "bool",
    "riskDetail": ("enum", "riskDetail"),
    "riskLastUpdatedDateTime": "datetime",
    "riskLevel": ("enum", "riskLevel"),
    "riskState": ("enum", "riskState"),
    "userDisplayName": "string",
    "userPrincipalName": "string",
}
BETA = {**V1, "isGuest": "bool"}

READ = frozenset({"IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All"})
WRITE = frozenset({"IdentityRiskyUser.ReadWrite.All"})

NOT_FOUND = "User IDs Not Found."
ACTIONS = {
    "confirmcompromised": Action("userIds", "confirmedCompromised",
                                 "adminConfirmedUserCompromised", "high", NOT_FOUND, "users"),
    "dismiss": Action("userIds", "dismissed", "adminDismissedAllRiskForUser", "none", NOT_FOUND,
                      "users"),
    "confirmsafe": Action("userIds", "confirmedSafe", "adminConfirmedAccountSafe", "none",
                          NOT_FOUND, "users"),
}


def settle(tenant: TenantView, user: dict[str, Any], action: str, spec: Action, actor: str,
           at: int, taken: set[str], visible_from: int | None) -> None:
    """Detections and history follow a risky user's action."""
    detections = tenant.store("riskDetections")
    if action == "confirmcompromised":
        detections.put(_user_risk.compromise_detection(tenant.key, tenant.counter(), user, at),
                       visible_from)
    else:
        _user_risk.close_open_detections(detections, "userId", user["id"], spec, at,
                                         visible_from)
    existing = {h["id"] for h in tenant.children("history", user["id"], at)}
    item_id = _user_risk.history_id(user["id"], at, taken | existing)
    events = ["adminConfirmedUserCompromised"] if action == "confirmcompromised" else []
    tenant.store("history").put(
        _user_risk.history_item(user, item_id, at, spec.risk_state, spec.risk_level,
                                spec.risk_detail, events, spec.risk_detail, actor),
        visible_from)


def new_record(tenant: TenantView, partial: dict[str, Any], now: int) -> dict[str, Any]:
    """A directory user who is not a risky user yet, at medium risk."""
    user = _user_risk.user_for(tenant, partial)
    tenant.counter()  # numbers every added record, as the other user-risk collections do
    return {
        "id": user["id"], "isDeleted": False, "isProcessing": False, "isGuest": False,
        "riskDetail": "none", "riskLastUpdatedDateTime": now, "riskLevel": "medium",
        "riskState": "atRisk", "userDisplayName": user["userDisplayName"],
        "userPrincipalName": user["userPrincipalName"],
    }


COLLECTION = Collection(
    name="riskyUsers", segment="riskyUsers", service=IDENTITY_PROTECTION,
    schemas=versions("riskyUser", V1, BETA),
    read_roles=READ, default_top=20, max_top=500, write_roles=WRITE, actions=ACTIONS,
    child="history", beta_root=True, filterable=scalar_filters(BETA),
    seed=_user_risk.seed, new_record=new_record, settle=settle,
)
