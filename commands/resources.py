"""The Graph v1.0 resources this integration reads: properties and complex types (CSDL subset).

Used to check Filter inputs before any request. Select inputs are checked by the input schemas
(``schemas/common.json``), which list the same top-level properties; a test keeps them equal.
"""

from __future__ import annotations

from typing import Any

_LOCATION = {"city": "String", "countryOrRegion": "String", "state": "String",
             "geoCoordinates": {"altitude": "Double", "latitude": "Double",
                                "longitude": "Double"}}

RISKY_USER: dict[str, Any] = {
    "id": "String", "isDeleted": "Boolean", "isProcessing": "Boolean", "riskDetail": "riskDetail",
    "riskLastUpdatedDateTime": "DateTimeOffset", "riskLevel": "riskLevel",
    "riskState": "riskState", "userDisplayName": "String", "userPrincipalName": "String",
}

RISKY_USER_HISTORY_ITEM: dict[str, Any] = {
    **RISKY_USER,
    "activity": {"detail": "riskDetail", "riskEventTypes": "Collection(String)"},
    "initiatedBy": "String", "userId": "String",
}

RISK_DETECTION: dict[str, Any] = {
    "id": "String", "activity": "activityType", "activityDateTime": "DateTimeOffset",
    "additionalInfo": "String", "correlationId": "String", "detectedDateTime": "DateTimeOffset",
    "detectionTimingType": "riskDetectionTimingType", "ipAddress": "String",
    "lastUpdatedDateTime": "DateTimeOffset", "location": _LOCATION, "requestId": "String",
    "riskDetail": "riskDetail", "riskEventType": "String", "riskLevel": "riskLevel",
    "riskState": "riskState", "source": "String", "tokenIssuerType": "tokenIssuerType",
    "userDisplayName": "String", "userId": "String", "userPrincipalName": "String",
}

SIGN_IN: dict[str, Any] = {
    "id": "String", "appDisplayName": "String", "appId": "String",
    "appliedConditionalAccessPolicies": {
        "displayName": "String", "enforcedGrantControls": "Collection(String)",
        "enforcedSessionControls": "Collection(String)", "id": "String",
        "result": "appliedConditionalAccessPolicyResult"},
    "authenticationAppDeviceDetails": {"appVersion": "String", "clientApp": "String",
                                       "deviceId": "String", "operatingSystem": "String"},
    "clientAppUsed": "String", "conditionalAccessStatus": "conditionalAccessStatus",
    "correlationId": "String", "createdDateTime": "DateTimeOffset",
    "deviceDetail": {"browser": "String", "deviceId": "String", "displayName": "String",
                     "isCompliant": "Boolean", "isManaged": "Boolean",
                     "operatingSystem": "String", "trustType": "String"},
    "homeTenantId": "String", "ipAddress": "String", "isInteractive": "Boolean",
    "location": _LOCATION, "resourceDisplayName": "String", "resourceId": "String",
    "resourceTenantId": "String", "riskDetail": "riskDetail",
    "riskEventTypes": "Collection(riskEventType)", "riskEventTypes_v2": "Collection(String)",
    "riskLevelAggregated": "riskLevel", "riskLevelDuringSignIn": "riskLevel",
    "riskState": "riskState", "servicePrincipalId": "String", "servicePrincipalName": "String",
    "status": {"additionalDetails": "String", "errorCode": "Int32", "failureReason": "String"},
    "userAgent": "String", "userDisplayName": "String", "userId": "String",
    "userPrincipalName": "String",
}

RESOURCES: dict[str, dict[str, Any]] = {
    "riskyUser": RISKY_USER,
    "riskyUserHistoryItem": RISKY_USER_HISTORY_ITEM,
    "riskDetection": RISK_DETECTION,
    "signIn": SIGN_IN,
}

EVENT_TYPE_RESOURCES = {"signIn": "signIn", "riskDetection": "riskDetection",
                        "riskUser": "riskyUser"}
"""Fetch Event's event types and the Graph resource each one lists."""
