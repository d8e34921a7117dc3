"""history: GET /identityProtection/riskyUsers/{id}/history (riskyUserHistoryItem, v1.0 and
beta), a child of riskyUsers.

Seeded with riskyUsers (emulator.collections._user_risk). Graph leads a user's history with an
item for the current state whose id is the user's; the emulator synthesises it when the stored
history has none (`current_item`).
"""

from __future__ import annotations

from typing import Any

from emulator.collections import _user_risk, risky_users
from emulator.errors import ControlError
from emulator.schema import Type
from emulator.spec import IDENTITY_PROTECTION, Collection, TenantView, scalar_filters, versions

#: riskUserActivity / riskServicePrincipalActivity (the same two properties on v1.0).
ACTIVITY: dict[str, Type] = {"detail": ("enum", "riskDetail"),
                             "riskEventTypes": ("collection", "string")}
V1: dict[str, Type] = {
    **risky_users.V1,
    "activity": ("complex", ACTIVITY),
    "initiatedBy": "string",
    "userId": "string",
}
BETA: dict[str, Type] = {
    **risky_users.BETA,
    "activity": ("complex", {**ACTIVITY,
                             "eventTypes": ("collection", ("enum", "riskEventType"))}),
    "initiatedBy": "string",
    "userId": "string",
}


def current_item(user: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The user's current state as a history item, with the latest item's activity."""
    last = max(items, key=lambda h: (h.get("riskLastUpdatedDateTime") or 0, h["id"]),
               default=None)
    activity = last["activity"] if last else {"riskEventTypes": [], "eventTypes": [],
                                              "detail": None}
    return {
        "id": user["id"],
        "isDeleted": user.get("isDeleted"),
        "isGuest": user.get("isGuest", False),
        "isProcessing": user.get("isProcessing"),
        "riskLevel": user.get("riskLevel"),
        "riskState": user.get("riskState"),
        "riskDetail": user.get("riskDetail"),
        "riskLastUpdatedDateTime": user.get("riskLastUpdatedDateTime"),
        "userDisplayName": user.get("userDisplayName"),
        "userPrincipalName": user.get("userPrincipalName"),
        "userId": user["id"],
        "initiatedBy": last["initiatedBy"] if last else None,
        "activity": activity,
    }


def new_record(tenant: TenantView, partial: dict[str, Any], now: int) -> dict[str, Any]:
    """An item with the owner's current state (the owner: the risky user named by userId)."""
    if not partial.get("userId"):
        raise ControlError("a history item needs 'userId'")
    user = _user_risk.user_for(tenant, partial)
    tenant.counter()  # numbers every added record, as the other user-risk collections do
    holder = tenant.store("riskyUsers").latest(partial["userId"])
    owner = holder[1] if holder else {**user, "isDeleted": False}
    return _user_risk.history_item(
        {**owner, "isDeleted": owner.get("isDeleted", False)},
        _user_risk.history_id(partial["userId"], now, set()), now,
        owner.get("riskState", "atRisk"), owner.get("riskLevel", "medium"),
        owner.get("riskDetail", "none"), [], None, None)


COLLECTION = Collection(
    name="history", segment="history", service=IDENTITY_PROTECTION,
    schemas=versions("riskyUserHistoryItem", V1, BETA),
    read_roles=risky_users.READ, default_top=20, max_top=500,
    parent="riskyUsers", parent_key="userId", filterable=scalar_filters(BETA),
    current_item=current_item, new_record=new_record,
)
