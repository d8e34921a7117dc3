"""The emulator's own model of the Graph types it serves (from the CSDL subset and the facts).

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
STATUS = ("complex", {"additionalDetails": "string", "errorCode": "int", "failureReason": "string"})
DEVICE_V1 = {
    "browser": "string", "deviceId": "string", "displayName": "string", "isCompliant": "bool",
    "isManaged": "bool", "operatingSystem": "string", "trustType": "string",
}
CA_POLICY = (
    "complex",
    {
        "displayName": "string",
        "enforcedGrantControls": ("collection", "string"),
        "enforcedSessionControls": ("collection", "string"),
        "id": "string",
        "result": ("enum", "appliedConditionalAccessPolicyResult"),
    },
)
AUTH_APP_DEVICE = (
    "complex",
    {"appVersion": "string", "clientApp": "string", "deviceId": "string",
     "operatingSystem": "string"},
)

RISKY_USER_V1: dict[str, Type] = {
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
RISKY_USER_BETA = {**RISKY_USER_V1, "isGuest": "bool"}

#: riskUserActivity / riskServicePrincipalActivity (the same two properties on v1.0).
HISTORY_ACTIVITY: dict[str, Type] = {"detail": ("enum", "riskDetail"),
                                     "riskEventTypes": ("collection", "string")}
HISTORY_V1: dict[str, Type] = {
    **RISKY_USER_V1,
    "activity": ("complex", HISTORY_ACTIVITY),
    "initiatedBy": "string",
    "userId": "string",
}
HISTORY_BETA: dict[str, Type] = {
    **RISKY_USER_BETA,
    "activity": ("complex", {**HISTORY_ACTIVITY,
                             "eventTypes": ("collection", ("enum", "riskEventType"))}),
    "initiatedBy": "string",
    "userId": "string",
}


def _id_then_sorted(props: dict[str, Type]) -> dict[str, Type]:
    """`props` in Graph's order for these types: id first, then by name."""
    return {"id": "string", **dict(sorted(props.items()))}


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
RISK_DETECTION_V1 = _id_then_sorted({
    **DETECTION,
    "userDisplayName": "string",
    "userId": "string",
    "userPrincipalName": "string",
})
RISK_DETECTION_BETA: dict[str, Type] = {
    **RISK_DETECTION_V1,
    "mitreTechniqueId": "string",
    "riskType": ("enum", "riskEventType"),
}

RISKY_SERVICE_PRINCIPAL: dict[str, Type] = {
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
SERVICE_PRINCIPAL_HISTORY: dict[str, Type] = {
    **RISKY_SERVICE_PRINCIPAL,
    "activity": ("complex", HISTORY_ACTIVITY),
    "initiatedBy": "string",
    "servicePrincipalId": "string",
}
SERVICE_PRINCIPAL_DETECTION = _id_then_sorted({
    **DETECTION,
    "appId": "string",
    "keyIds": ("collection", "string"),
    "servicePrincipalDisplayName": "string",
    "servicePrincipalId": "string",
})

SIGN_IN_V1: dict[str, Type] = {
    "id": "string",
    "appDisplayName": "string",
    "appId": "string",
    "appliedConditionalAccessPolicies": ("collection", CA_POLICY),
    "authenticationAppDeviceDetails": AUTH_APP_DEVICE,
    "clientAppUsed": "string",
    "conditionalAccessStatus": ("enum", "conditionalAccessStatus"),
    "correlationId": "string",
    "createdDateTime": "datetime",
    "deviceDetail": ("complex", DEVICE_V1),
    "homeTenantId": "string",
    "ipAddress": "string",
    "isInteractive": "bool",
    "location": LOCATION,
    "resourceDisplayName": "string",
    "resourceId": "string",
    "resourceTenantId": "string",
    "riskDetail": ("enum", "riskDetail"),
    "riskEventTypes": ("collection", ("enum", "riskEventType")),
    "riskEventTypes_v2": ("collection", "string"),
    "riskLevelAggregated": ("enum", "riskLevel"),
    "riskLevelDuringSignIn": ("enum", "riskLevel"),
    "riskState": ("enum", "riskState"),
    "servicePrincipalId": "string",
    "servicePrincipalName": "string",
    "status": STATUS,
    "userAgent": "string",
    "userDisplayName": "string",
    "userId": "string",
    "userPrincipalName": "string",
}

KEY_VALUE = ("complex", {"key": "string", "value": "string"})
SIGN_IN_BETA: dict[str, Type] = {
    **SIGN_IN_V1,
    "deviceDetail": ("complex", {**DEVICE_V1, "browserId": "string"}),
    "authenticationContextClassReferences": (
        "collection", ("complex", {"id": "string", "details": "string"})),
    "authenticationDetails": (
        "collection",
        ("complex", {
            "authenticationStepDateTime": "datetime",
            "authenticationMethod": "string",
            "authenticationMethodDetail": "string",
            "succeeded": "bool",
            "authenticationStepResultDetail": "string",
            "authenticationStepRequirement": "string",
        }),
    ),
    "authenticationMethodsUsed": ("collection", "string"),
    "authenticationProcessingDetails": ("collection", KEY_VALUE),
    "authenticationProtocol": "string",
    "authenticationRequirement": "string",
    "authenticationRequirementPolicies": (
        "collection", ("complex", {"requirementProvider": "string", "detail": "string"})),
    "authenticationAppPolicyDetails": (
        "collection", ("complex", {"adminConfiguration": "string", "authenticationEvaluation":
                                   "string", "policyName": "string", "status": "string"})),
    "autonomousSystemNumber": "int",
    "azureResourceId": "string",
    "clientCredentialType": "string",
    "crossTenantAccessType": "string",
    "federatedCredentialId": "string",
    "flaggedForReview": "bool",
    "homeTenantName": "string",
    "incomingTokenType": "string",
    "isTenantRestricted": "bool",
    "networkLocationDetails": (
        "collection",
        ("complex", {"networkType": ("enum", "networkType"),
                     "networkNames": ("collection", "string")}),
    ),
    "originalRequestId": "string",
    "processingTimeInMilliseconds": "int",
    "resourceServicePrincipalId": "string",
    "sessionLifetimePolicies": (
        "collection", ("complex", {"expirationRequirement": "string", "detail": "string"})),
    "signInEventTypes": ("collection", "string"),
    "signInIdentifier": "string",
    "tokenIssuerName": "string",
    "tokenIssuerType": ("enum", "tokenIssuerType"),
    "uniqueTokenIdentifier": "string",
    "userType": "string",
}


class ResourceSchema:
    """Property types of one resource in one API version."""

    def __init__(self, entity: str, props: dict[str, Type]) -> None:
        self.entity = entity
        self.props = props
        self._lower = {name.lower(): name for name in props}

    def resolve(self, name: str) -> str | None:
        """The declared name of a top-level property (case-insensitive), or None."""
        return self._lower.get(name.lower())


SCHEMAS: dict[tuple[str, str], ResourceSchema] = {
    ("signIns", "v1.0"): ResourceSchema("signIn", SIGN_IN_V1),
    ("signIns", "beta"): ResourceSchema("signIn", SIGN_IN_BETA),
    ("riskDetections", "v1.0"): ResourceSchema("riskDetection", RISK_DETECTION_V1),
    ("riskDetections", "beta"): ResourceSchema("riskDetection", RISK_DETECTION_BETA),
    ("riskyUsers", "v1.0"): ResourceSchema("riskyUser", RISKY_USER_V1),
    ("riskyUsers", "beta"): ResourceSchema("riskyUser", RISKY_USER_BETA),
    ("history", "v1.0"): ResourceSchema("riskyUserHistoryItem", HISTORY_V1),
    ("history", "beta"): ResourceSchema("riskyUserHistoryItem", HISTORY_BETA),
    # Workload identities: the same shape on v1.0 and beta for what the emulator serves.
    ("riskyServicePrincipals", "v1.0"): ResourceSchema("riskyServicePrincipal",
                                                       RISKY_SERVICE_PRINCIPAL),
    ("riskyServicePrincipals", "beta"): ResourceSchema("riskyServicePrincipal",
                                                       RISKY_SERVICE_PRINCIPAL),
    ("servicePrincipalHistory", "v1.0"): ResourceSchema("riskyServicePrincipalHistoryItem",
                                                        SERVICE_PRINCIPAL_HISTORY),
    ("servicePrincipalHistory", "beta"): ResourceSchema("riskyServicePrincipalHistoryItem",
                                                        SERVICE_PRINCIPAL_HISTORY),
    ("servicePrincipalRiskDetections", "v1.0"): ResourceSchema(
        "servicePrincipalRiskDetection", SERVICE_PRINCIPAL_DETECTION),
    ("servicePrincipalRiskDetections", "beta"): ResourceSchema(
        "servicePrincipalRiskDetection", SERVICE_PRINCIPAL_DETECTION),
}

RESOURCES = tuple(sorted({name for name, _version in SCHEMAS}))
