"""The emulator's own vocabulary of Graph types (from the CSDL subset and the facts): enums and
shared complex types; each collection's properties live in its module under emulator/collections/.

Written independently of the integration's client on purpose (SPEC §9): a property or enum
mistake shared by both would pass every test.

A type is one of: "string", "bool", "int", "double", "datetime", ("enum", name),
("complex", {name: type}), ("collection", type).
"""

from __future__ import annotations

from typing import Any

Type = Any  # str | tuple; kept loose to stay readable

#: Enum members in declared order; members after unknownFutureValue are "evolvable".
ENUMS: dict[str, tuple[str, ...]] = {
    "riskLevel": ("low", "medium", "high", "hidden", "none", "unknownFutureValue"),
    "riskState": (
        "none", "confirmedSafe", "remediated", "dismissed", "atRisk",
        "confirmedCompromised", "unknownFutureValue",
    ),
    "riskDetail": (
        "none", "adminGeneratedTemporaryPassword", "userPerformedSecuredPasswordChange",
        "userPerformedSecuredPasswordReset", "adminConfirmedSigninSafe", "aiConfirmedSigninSafe",
        "userPassedMFADrivenByRiskBasedPolicy", "adminDismissedAllRiskForUser",
        "adminConfirmedSigninCompromised", "hidden", "adminConfirmedUserCompromised",
        "unknownFutureValue", "m365DAdminDismissedDetection",
        "adminConfirmedServicePrincipalCompromised", "adminDismissedAllRiskForServicePrincipal",
        "userChangedPasswordOnPremises", "adminDismissedRiskForSignIn",
        "adminConfirmedAccountSafe", "microsoftRevokedSessions",
    ),
    "riskDetectionTimingType": (
        "notDefined", "realtime", "nearRealtime", "offline", "unknownFutureValue",
    ),
    "activityType": ("signin", "user", "unknownFutureValue", "servicePrincipal"),
    "tokenIssuerType": (
        "AzureAD", "ADFederationServices", "UnknownFutureValue", "AzureADBackupAuth",
        "ADFederationServicesMFAAdapter", "NPSExtension",
    ),
    "riskEventType": (
        "unlikelyTravel", "anonymizedIPAddress", "maliciousIPAddress", "unfamiliarFeatures",
        "malwareInfectedIPAddress", "suspiciousIPAddress", "leakedCredentials",
        "investigationsThreatIntelligence", "generic", "adminConfirmedUserCompromised",
        "mcasImpossibleTravel", "mcasSuspiciousInboxManipulationRules",
        "investigationsThreatIntelligenceSigninLinked",
        "maliciousIPAddressValidCredentialsBlockedIP", "unknownFutureValue",
    ),
    "conditionalAccessStatus": ("success", "failure", "notApplied", "unknownFutureValue"),
    "appliedConditionalAccessPolicyResult": (
        "success", "failure", "notApplied", "notEnabled", "unknown", "unknownFutureValue",
        "reportOnlySuccess", "reportOnlyFailure", "reportOnlyNotApplied",
        "reportOnlyInterrupted",
    ),
    # beta only
    "networkType": (
        "intranet", "extranet", "namedNetwork", "trusted", "trustedNamedLocation",
        "unknownFutureValue",
    ),
}

#: The sentinel each enum shows for an evolvable member when the caller did not opt in.
SENTINEL: dict[str, str] = {
    name: ("UnknownFutureValue" if "UnknownFutureValue" in members else "unknownFutureValue")
    for name, members in ENUMS.items()
}


def evolvable(enum: str) -> frozenset[str]:
    """Members declared after the unknownFutureValue sentinel.

    Graph returns them only to callers that send `Prefer: include-unknown-enum-members`.
    """
    members = ENUMS[enum]
    return frozenset(members[members.index(SENTINEL[enum]) + 1 :])


def enum_lookup(enum: str) -> dict[str, str]:
    """Case-insensitive member lookup: lower-cased name -> declared name."""
    return {m.lower(): m for m in ENUMS[enum]}


GEO = ("complex", {"altitude": "double", "latitude": "double", "longitude": "double"})
LOCATION = (
    "complex",
    {"city": "string", "countryOrRegion": "string", "geoCoordinates": GEO, "state": "string"},
)


def id_then_sorted(props: dict[str, Type]) -> dict[str, Type]:
    """`props` in Graph's order for some types: id first, then by name."""
    return {"id": "string", **dict(sorted(props.items()))}


class ResourceSchema:
    """Property types of one resource in one API version."""

    def __init__(self, entity: str, props: dict[str, Type]) -> None:
        self.entity = entity
        self.props = props
        self._lower = {name.lower(): name for name in props}

    def resolve(self, name: str) -> str | None:
        """The declared name of a top-level property (case-insensitive), or None."""
        return self._lower.get(name.lower())
