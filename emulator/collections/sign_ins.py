"""signIns: GET /auditLogs/signIns (signIn resource, v1.0 and beta).

The records are the tenant's generated sign-in log (emulator.signins): a pure function of the
index, so a million of them are never stored; the spec's `log` flag tells the tenant so.
"""

from __future__ import annotations

from emulator.schema import LOCATION, Type
from emulator.spec import AUDIT_LOGS, EQ, EQ_STARTS, Collection, versions

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

V1: dict[str, Type] = {
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
BETA: dict[str, Type] = {
    **V1,
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

# graph-api-facts §1.2: the signIn resource page's filterable properties and operators.
FILTERS = {
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
ANY_FILTERS = {"riskEventTypes": EQ, "riskEventTypes_v2": EQ_STARTS}

COLLECTION = Collection(
    name="signIns", segment="signIns", service=AUDIT_LOGS,
    schemas=versions("signIn", V1, BETA),
    read_roles=frozenset({"AuditLog.Read.All"}), default_top=1000, max_top=1000,
    orderable=("createdDateTime",), default_order=("createdDateTime", True),
    licence="P1", filterable=FILTERS, any_filterable=ANY_FILTERS,
    beta_any_filterable={"signInEventTypes": EQ},
    unlicensed_error=("Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                      "Neither tenant is B2C or tenant doesn't have premium license"),
    hidden_without_p2=("riskDetail", "riskLevelAggregated", "riskLevelDuringSignIn"),
    terse_filter_errors=True,
    filter_time_bounds=("createdDateTime",),
    filter_max_age_days=90,
    # Beta returns interactive sign-ins only unless the filter names signInEventTypes.
    beta_implicit_filter=("signInEventTypes", "interactiveUser"),
    next_link_segment="signins",
    log=True,
)
