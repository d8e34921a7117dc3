"""servicePrincipalHistory: GET /identityProtection/riskyServicePrincipals/{id}/history
(riskyServicePrincipalHistoryItem), a child of riskyServicePrincipals.

Seeded with riskyServicePrincipals (emulator.collections._workload_risk).
"""

from __future__ import annotations

from typing import Any

from emulator.collections import _user_risk, _workload_risk, history, risky_service_principals
from emulator.errors import ControlError
from emulator.schema import Type
from emulator.spec import IDENTITY_PROTECTION, Collection, TenantView, scalar_filters, versions

PROPS: dict[str, Type] = {
    **risky_service_principals.PROPS,
    "activity": ("complex", history.ACTIVITY),
    "initiatedBy": "string",
    "servicePrincipalId": "string",
}


def new_record(tenant: TenantView, partial: dict[str, Any], now: int) -> dict[str, Any]:
    """An item with the owning principal's current state."""
    tenant.counter()  # numbers every added record, as the other workload collections do
    owner = _workload_risk.risky_owner(tenant, partial)
    if owner is None:
        raise ControlError("a service principal history item needs the "
                           "'servicePrincipalId' of a risky service principal")
    owner_id = str(partial["servicePrincipalId"])
    return _workload_risk.history_item(owner, _user_risk.history_id(owner_id, now, set()),
                                       now, [], None)


COLLECTION = Collection(
    name="servicePrincipalHistory", segment="history", service=IDENTITY_PROTECTION,
    schemas=versions("riskyServicePrincipalHistoryItem", PROPS),
    read_roles=risky_service_principals.READ, default_top=20, max_top=500,
    parent="riskyServicePrincipals", parent_key="servicePrincipalId",
    filterable=scalar_filters(PROPS), new_record=new_record,
)
