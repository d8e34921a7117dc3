"""The emulator's resource table: one spec per Graph collection it serves.

Routing, role checks, paging limits, default order, the control API's resource names and the
seeded stores all read this table; adding a collection means adding one entry here, its
schema (emulator.schema) and its seed generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator import schema

IDENTITY_PROTECTION = "identityProtection"
AUDIT_LOGS = "auditLogs"

RISKY_USER_READ = frozenset({"IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All"})
RISKY_USER_WRITE = frozenset({"IdentityRiskyUser.ReadWrite.All"})
RISK_EVENT_READ = frozenset({"IdentityRiskEvent.Read.All", "IdentityRiskEvent.ReadWrite.All"})
RISKY_SP_READ = frozenset({"IdentityRiskyServicePrincipal.Read.All",
                           "IdentityRiskyServicePrincipal.ReadWrite.All"})
RISKY_SP_WRITE = frozenset({"IdentityRiskyServicePrincipal.ReadWrite.All"})
SIGN_IN_READ = frozenset({"AuditLog.Read.All"})


@dataclass(frozen=True)
class Action:
    """A bound POST action on a collection: its state change and its id parameter."""

    id_param: str  # userIds / servicePrincipalIds
    risk_state: str
    risk_detail: str
    risk_level: str
    not_found: str  # Graph's message when an id is unknown (404)


@dataclass(frozen=True)
class Collection:
    """One Graph collection as the emulator serves it."""

    name: str  # the internal and control-API name, e.g. riskyUsers
    segment: str  # the URL segment, e.g. riskyUsers (under identityProtection)
    service: str  # throttling family: identityProtection or auditLogs
    read_roles: frozenset[str]  # any one of them allows reading
    default_top: int
    max_top: int
    orderable: tuple[str, ...] = ()  # properties Graph documents for $orderby
    default_order: tuple[str | None, bool] = (None, False)  # (field or None for id, desc)
    write_roles: frozenset[str] = frozenset()
    actions: dict[str, Action] = field(default_factory=dict)  # lower-case action name
    child: str | None = None  # the collection under /{id}/history
    parent: str | None = None  # for a child: the owning collection
    parent_key: str | None = None  # for a child: the item's property naming its parent
    beta_root: bool = False  # beta also serves it at /beta/{segment}
    licence: str = "P2"  # the lowest licence that serves the data (SPEC §9 behaviour switch)
    # $filter as documented: property path ("location/city") -> operators; and collections
    # filterable through any(x: x <op> literal) -> the operators allowed inside.
    filterable: dict[str, frozenset[str]] = field(default_factory=dict)
    any_filterable: dict[str, frozenset[str]] = field(default_factory=dict)
    beta_any_filterable: dict[str, frozenset[str]] = field(default_factory=dict)


EQ = frozenset({"eq"})
EQ_STARTS = frozenset({"eq", "startswith"})
TIME_RANGE = frozenset({"eq", "ge", "le", "gt", "lt"})

# graph-api-facts §1.2: the signIn resource page's filterable properties and operators.
SIGN_IN_FILTERS = {
    "appDisplayName": EQ_STARTS, "appId": EQ, "clientAppUsed": EQ,
    "conditionalAccessStatus": EQ, "correlationId": EQ,
    "createdDateTime": frozenset({"eq", "le", "ge"}),
    "deviceDetail/browser": EQ_STARTS, "deviceDetail/operatingSystem": EQ_STARTS, "id": EQ,
    "ipAddress": EQ_STARTS, "location/city": EQ_STARTS, "location/state": EQ_STARTS,
    "location/countryOrRegion": EQ_STARTS, "resourceDisplayName": EQ, "resourceId": EQ,
    "riskDetail": EQ, "riskLevelAggregated": EQ, "riskLevelDuringSignIn": EQ, "riskState": EQ,
    "status/errorCode": EQ, "userDisplayName": EQ_STARTS, "userId": EQ,
    "userPrincipalName": EQ_STARTS,
}
SIGN_IN_ANY_FILTERS = {"riskEventTypes": EQ, "riskEventTypes_v2": EQ_STARTS}


def scalar_filters(resource: str) -> dict[str, frozenset[str]]:
    """identityProtection: the pages say "supports $filter" with no property table; the
    emulator assumes eq on every scalar property and ranges on date-times (docs/fidelity.md)."""
    out: dict[str, frozenset[str]] = {}
    for name, t in schema.SCHEMAS[(resource, "beta")].props.items():  # beta: a superset
        if t == "datetime":
            out[name] = TIME_RANGE
        elif t in ("string", "bool") or (isinstance(t, tuple) and t[0] == "enum"):
            out[name] = EQ
    return out


_USER_ACTIONS = {
    "confirmcompromised": Action("userIds", "confirmedCompromised",
                                 "adminConfirmedUserCompromised", "high", "User IDs Not Found."),
    "dismiss": Action("userIds", "dismissed", "adminDismissedAllRiskForUser", "none",
                      "User IDs Not Found."),
    "confirmsafe": Action("userIds", "confirmedSafe", "adminConfirmedAccountSafe", "none",
                          "User IDs Not Found."),
}
_SP_ACTIONS = {
    "confirmcompromised": Action("servicePrincipalIds", "confirmedCompromised",
                                 "adminConfirmedServicePrincipalCompromised", "high",
                                 "Service Principal IDs Not Found."),
    "dismiss": Action("servicePrincipalIds", "dismissed",
                      "adminDismissedAllRiskForServicePrincipal", "none",
                      "Service Principal IDs Not Found."),
}

COLLECTIONS: dict[str, Collection] = {c.name: c for c in (
    Collection("signIns", "signIns", AUDIT_LOGS, SIGN_IN_READ, 1000, 1000,
               orderable=("createdDateTime",), default_order=("createdDateTime", True),
               licence="P1", filterable=SIGN_IN_FILTERS, any_filterable=SIGN_IN_ANY_FILTERS,
               beta_any_filterable={"signInEventTypes": EQ}),
    Collection("riskDetections", "riskDetections", IDENTITY_PROTECTION, RISK_EVENT_READ, 20, 500,
               beta_root=True, licence="P1", filterable=scalar_filters("riskDetections")),
    Collection("riskyUsers", "riskyUsers", IDENTITY_PROTECTION, RISKY_USER_READ, 20, 500,
               write_roles=RISKY_USER_WRITE, actions=_USER_ACTIONS, child="history",
               beta_root=True, filterable=scalar_filters("riskyUsers")),
    Collection("history", "history", IDENTITY_PROTECTION, RISKY_USER_READ, 20, 500,
               parent="riskyUsers", parent_key="userId", filterable=scalar_filters("history")),
    Collection("riskyServicePrincipals", "riskyServicePrincipals", IDENTITY_PROTECTION,
               RISKY_SP_READ, 20, 500, write_roles=RISKY_SP_WRITE, actions=_SP_ACTIONS,
               child="servicePrincipalHistory",
               filterable=scalar_filters("riskyServicePrincipals")),
    Collection("servicePrincipalHistory", "history", IDENTITY_PROTECTION, RISKY_SP_READ, 20,
               500, parent="riskyServicePrincipals", parent_key="servicePrincipalId",
               filterable=scalar_filters("servicePrincipalHistory")),
    Collection("servicePrincipalRiskDetections", "servicePrincipalRiskDetections",
               IDENTITY_PROTECTION, RISK_EVENT_READ, 20, 500,
               filterable=scalar_filters("servicePrincipalRiskDetections")),
)}

#: Collections directly under /identityProtection, by lower-case URL segment.
TOP_LEVEL = {c.segment.lower(): c for c in COLLECTIONS.values()
             if c.service == IDENTITY_PROTECTION and c.parent is None}
#: The control API's resource names (lower-case -> canonical).
NAMES = {name.lower(): name for name in COLLECTIONS}
