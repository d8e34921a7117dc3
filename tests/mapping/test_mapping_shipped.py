"""The shipped field mappings against the reference's tables and Microsoft's Graph examples.

Expected values are read off the example JSON by hand, not produced by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from executor.mapping import MappingSet

Example = Callable[..., dict[str, Any]]

# The reference's tables ("Fetch Event Field Mapping"), Field Name -> Source Field, in its order.
REFERENCE = {
    "default": {
        "Device ID": ".deviceDetail.deviceId",
        "Device Is Compliant": ".deviceDetail.isCompliant",
        "Error Code": ".status.errorCode",
        "Failure Reason": ".status.failureReason",
        "Home Tenant ID": ".homeTenantId",
        "Is Interactive": ".isInteractive",
        "Latitude": ".location.geoCoordinates.latitude",
        "Longitude": ".location.geoCoordinates.longitude",
        "Network Name": ".networkLocationDetails..networkNames[*]",
        "Network Type": ".networkLocationDetails..networkType",
        "Resource ID": ".resourceId",
        "Resource Name": ".resourceDisplayName",
        "Resource Tenant ID": ".resourceTenantId",
        "Risk Detail": ".riskDetail",
        "Risk Event Type": ".riskEventTypes_v2",
        "Risk Level During Sign In": ".riskLevelDuringSignIn",
        "Risk State": ".riskState",
        "Aggregated Risk Level": ".riskLevelAggregated",
        "App ID": ".appId",
        "Authentication Requirement": ".authenticationRequirement",
        "Browser": ".deviceDetail.browser",
        "City": ".location.city",
        "Client App": ".clientAppUsed",
        "Conditional Access Policy Names": ".appliedConditionalAccessPolicies.displayName",
        "Conditional Access Status": ".conditionalAccessStatus",
        "Country Or Region": ".location.countryOrRegion",
        "State Or Province": ".location.state",
        "User ID": ".userId",
        "User Principal Name": ".userPrincipalName",
        "User Type": ".userType",
        "App": ".appDisplayName",
        "Device": ".deviceDetail.displayName",
        "Unique Event Key": ".id",
        "Event Type": ".signInEventTypes",
        "HTTP user agent": ".userAgent",
        "Start Time": ".createdDateTime",
        "Description": ".status.additionalDetails",
        "Operating system": ".deviceDetail.operatingSystem",
        "Source IP address": ".kvp_info[?(@.key.text=='json.source_address')].value.text",
        "Status": ".status.Status",
        "Username": ".userDisplayName",
    },
    "risk_detection": {
        "Username": ".userDisplayName",
        "Activity": ".activity",
        "Severity": ".riskLevel",
        "Source vendor name": ".source",
        "Source IP address": ".ipAddress",
        "Start Time": ".detectedDateTime",
        "Unique Event Key": ".id",
        "Event Type": ".riskEventType",
        "User ID": ".userId",
        "User Principal Name": ".userPrincipalName",
        "Detection Timing Type": ".detectionTimingType",
        "Risk State": ".riskState",
    },
    "risk_user": {
        "Unique Event Key": ".id",
        "Risk State": ".riskState",
        "Severity": ".riskLevel",
        "Username": ".userDisplayName",
        "User Principle Name": ".userPrincipalName",
        "Risk Detail": ".riskDetail",
        "Risk Last Update": ".riskLastUpdatedDateTime",
    },
}

# Where the shipped path differs from the reference's, and why (see field_mappings/README.md).
SHIPPED_INSTEAD = {
    ("default", "Source IP address"): ".ipAddress",
    ("default", "Status"): ".status.errorCode",
    ("default", "Network Name"): ".networkLocationDetails.networkNames",
    ("default", "Network Type"): ".networkLocationDetails.networkType",
}
BETA_ONLY = {
    "Network Name",
    "Network Type",
    "Authentication Requirement",
    "User Type",
    "Event Type",
}

# signIns_list_1 (v1.0). Left out: Device_Is_Compliant, Failure_Reason, Device and Description
# are null; Home_Tenant_ID, Resource_Tenant_ID, HTTP_user_agent and Risk_Event_Type
# (riskEventTypes_v2) are not in this example; the beta-only fields cannot be.
SIGN_IN_V1 = {
    "Device_ID": "",
    "Error_Code": 0,
    "Is_Interactive": True,
    "Latitude": 47.68050003051758,
    "Longitude": -122.12094116210938,
    "Resource_ID": "00000003-0000-0000-c000-000000000000",
    "Resource_Name": "Microsoft Graph",
    "Risk_Detail": "none",
    "Risk_Level_During_Sign_In": "none",
    "Risk_State": "none",
    "Aggregated_Risk_Level": "none",
    "App_ID": "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
    "Browser": "Edge 80.0.361",
    "City": "Redmond",
    "Client_App": "Browser",
    "Conditional_Access_Policy_Names": [
        "SharePoint limited access for guest workers",
        "Medium signin risk block",
    ],
    "Conditional_Access_Status": "notApplied",
    "Country_Or_Region": "US",
    "State_Or_Province": "Washington",
    "User_ID": "26be570a-ae82-4189-b4e2-a37c6808512d",
    "User_Principal_Name": "testaccount1@contoso.com",
    "App": "Graph explorer",
    "Unique_Event_Key": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
    "Start_Time": "2020-03-13T19:15:41.6195833Z",
    "Operating_system": "Windows 10",
    "Source_IP_address": "131.107.159.37",
    "Status": "Success",
    "Username": "Test Contoso",
}

# signIns_list_3 (beta). geoCoordinates is {} (no Latitude/Longitude); the policy list is empty
# (no Conditional_Access_Policy_Names); homeTenantId appears twice and JSON keeps the last.
SIGN_IN_BETA = {
    "Device_ID": "",
    "Device_Is_Compliant": False,
    "Error_Code": 50126,
    "Failure_Reason": "Error validating credentials due to invalid username or password.",
    "Home_Tenant_ID": "99081087-73c4-48d1-a112-f60ff75114f7",
    "Is_Interactive": True,
    "Network_Name": ["North America"],
    "Network_Type": "namedNetwork",
    "Resource_ID": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
    "Resource_Name": "Windows Azure Service Management API",
    "Resource_Tenant_ID": "99081087-73c4-48d1-a112-f60ff75114f7",
    "Risk_Detail": "none",
    "Risk_Event_Type": [],
    "Risk_Level_During_Sign_In": "none",
    "Risk_State": "none",
    "Aggregated_Risk_Level": "none",
    "App_ID": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
    "Authentication_Requirement": "singleFactorAuthentication",
    "Browser": "Edge 91.0.864",
    "City": "Redmond",
    "Client_App": "Browser",
    "Conditional_Access_Status": "notApplied",
    "Country_Or_Region": "US",
    "State_Or_Province": "Washington",
    "User_ID": "26be570a-1111-5555-b4e2-a37c6808512d",
    "User_Principal_Name": "testaccount1@contoso.com",
    "User_Type": "member",
    "App": "Azure Portal",
    "Device": "",
    "Unique_Event_Key": "1691d37b-8579-43a7-966a-0f35583c1300",
    "Event_Type": ["interactiveUser"],
    "HTTP_user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/91.0.4472.114 Safari/537.36 Edg/91.0.864.54",
    "Start_Time": "2021-06-30T16:34:32Z",
    "Description": "The user didn't enter the right credentials. \u00a0It's expected to see some "
    "number of these errors in your logs due to users making mistakes.",
    "Operating_system": "Windows 10",
    "Source_IP_address": "131.107.159.37",
    "Status": "Failure",
    "Username": "Test contoso",
}

# riskDetections_list_1 (v1.0): Default fields that a risk detection has (location, user,
# risk state/detail), then the Risk Detection source; its Start Time, Event Type and
# Unique Event Key win over the Default's. geoCoordinates is null.
RISK_DETECTION_V1 = {
    "Risk_Detail": "userPerformedSecuredPasswordReset",
    "Risk_State": "remediated",
    "City": "Seattle",
    "Country_Or_Region": "US",
    "State_Or_Province": "Washington",
    "User_ID": "abcdefab-af90-4edf-ac4c-742ff06735d0",
    "User_Principal_Name": "olack@adatum.com",
    "Unique_Event_Key": "6a5874ca-abcd-9d82-5ad39bd71600",
    "Event_Type": "unfamiliarFeatures",
    "Start_Time": "2018-09-05T00:11:27.773602Z",
    "Source_IP_address": "123.456.7.89",
    "Username": "Olivia Lack",
    "Activity": "signin",
    "Severity": "medium",
    "Source_vendor_name": "activeDirectory",
    "Detection_Timing_Type": "realtime",
}

# riskDetections_list_3 (an old beta page): `riskType` instead of `riskEventType`, so no
# Event_Type; `userDisplayName` really ends with a space.
RISK_DETECTION_OLD_BETA = {
    "Risk_Detail": "none",
    "Risk_State": "atRisk",
    "City": "Seattle",
    "Country_Or_Region": "US",
    "State_Or_Province": "Washington",
    "User_ID": "abcdefab-af90-4edf-ac4c-742ff06735d0",
    "User_Principal_Name": "user@abcde.com",
    "Unique_Event_Key": "1d68fc3d60d012ff80ad4b16818bf304df1bde295fdf1db31fa5389ba9532cd1",
    "Start_Time": "2018-09-05T00:11:27.773602Z",
    "Source_IP_address": "123.456.7.89",
    "Username": "User ",
    "Activity": "signin",
    "Severity": "medium",
    "Source_vendor_name": "Identity Protection",
    "Detection_Timing_Type": "realtime",
}

# riskyUsers_list_2 (beta, realistic values). Risk users carry both the Default's
# User_Principal_Name and the Risk User source's User_Principle_Name (the reference's spelling).
RISK_USER = {
    "Risk_Detail": "adminConfirmedSigninCompromised",
    "Risk_State": "atRisk",
    "User_Principal_Name": "alexw@contoso.com",
    "Unique_Event_Key": "c2b6c2b9-dddc-acd0-2b39-d519d803dbc3",
    "Username": "Alex Wilbur",
    "Severity": "high",
    "User_Principle_Name": "alexw@contoso.com",
    "Risk_Last_Update": "2016-01-29T20:03:57.7872426Z",
}

RISK_USER_MEDIUM = {
    "Risk_Detail": "none",
    "Risk_State": "atRisk",
    "User_Principal_Name": "alexw@contoso.com",
    "Unique_Event_Key": "c2b6c2b9-dddc-acd0-2b39-d519d803dbc3",
    "Username": "Alex Wilbur",
    "Severity": "medium",
    "User_Principle_Name": "alexw@contoso.com",
    "Risk_Last_Update": "2018-09-22T00:04:49.1195968Z",
}

# Workload identities: no Microsoft example response is kept, so these events are written here
# from the v1.0 riskyServicePrincipal and servicePrincipalRiskDetection resource pages.
RISKY_SERVICE_PRINCIPAL_EVENT = {
    "id": "9089a539-a539-9089-39a5-899039a58990", "appId": "a2ff3d73-1afb-4b10-9b47-2aa80b73e6b7",
    "displayName": "Payroll Sync", "isEnabled": True, "isProcessing": False,
    "riskDetail": "none", "riskLastUpdatedDateTime": "2024-05-01T10:00:00Z",
    "riskLevel": "high", "riskState": "atRisk", "servicePrincipalType": "Application",
}
RISKY_SERVICE_PRINCIPAL = {
    "Risk_Detail": "none",
    "Risk_State": "atRisk",
    "App_ID": "a2ff3d73-1afb-4b10-9b47-2aa80b73e6b7",
    "Unique_Event_Key": "9089a539-a539-9089-39a5-899039a58990",
    "Service_Principal_Name": "Payroll Sync",
    "Service_Principal_Type": "Application",
    "Severity": "high",
    "Risk_Last_Update": "2024-05-01T10:00:00Z",
}
SERVICE_PRINCIPAL_DETECTION_EVENT = {
    "id": "4e7d5f1c0a", "activity": "servicePrincipal",
    "activityDateTime": "2024-05-01T09:58:00Z", "appId": "a2ff3d73-1afb-4b10-9b47-2aa80b73e6b7",
    "detectedDateTime": "2024-05-01T09:59:00Z", "detectionTimingType": "offline",
    "ipAddress": "20.190.1.2", "keyIds": ["k1"], "lastUpdatedDateTime": "2024-05-01T10:00:00Z",
    "location": {"city": "Seattle", "state": "Washington", "countryOrRegion": "US"},
    "riskDetail": "none", "riskEventType": "investigationsThreatIntelligence",
    "riskLevel": "medium", "riskState": "atRisk", "servicePrincipalDisplayName": "Payroll Sync",
    "servicePrincipalId": "9089a539-a539-9089-39a5-899039a58990", "source": "IdentityProtection",
}
SERVICE_PRINCIPAL_DETECTION = {
    "City": "Seattle",
    "Risk_Detail": "none",
    "Risk_State": "atRisk",
    "App_ID": "a2ff3d73-1afb-4b10-9b47-2aa80b73e6b7",
    "Country_Or_Region": "US",
    "State_Or_Province": "Washington",
    "Unique_Event_Key": "4e7d5f1c0a",
    "Source_IP_address": "20.190.1.2",
    "Service_Principal_Name": "Payroll Sync",
    "Service_Principal_ID": "9089a539-a539-9089-39a5-899039a58990",
    "Activity": "servicePrincipal",
    "Severity": "medium",
    "Source_vendor_name": "IdentityProtection",
    "Start_Time": "2024-05-01T09:59:00Z",
    "Event_Type": "investigationsThreatIntelligence",
    "Detection_Timing_Type": "offline",
}


@pytest.mark.parametrize(("event", "event_type", "expected"), [
    (RISKY_SERVICE_PRINCIPAL_EVENT, "riskyServicePrincipal", RISKY_SERVICE_PRINCIPAL),
    (SERVICE_PRINCIPAL_DETECTION_EVENT, "servicePrincipalRiskDetection",
     SERVICE_PRINCIPAL_DETECTION),
])
def test_service_principal_events_map_through_their_own_source(
    shipped: MappingSet, event: dict[str, Any], event_type: str, expected: dict[str, Any]
) -> None:
    mapped = shipped.map_response({"value": [{**event, "eventType": event_type}]})
    assert mapped == [{"event_type": event_type, "fields": expected}]


EXAMPLE_CASES = [
    pytest.param("signIns_list_1.normalized.json", "signIn", None, SIGN_IN_V1, id="signIns-v1.0"),
    pytest.param("signIns_list_3.json", "signIn", None, SIGN_IN_BETA, id="signIns-beta"),
    pytest.param(
        "riskDetections_list_1.json",
        "riskDetection",
        "riskDetection",
        RISK_DETECTION_V1,
        id="riskDetections-v1.0",
    ),
    pytest.param(
        "riskDetections_list_3.normalized.json",
        "riskDetection",
        "riskDetection",
        RISK_DETECTION_OLD_BETA,
        id="riskDetections-old-beta",
    ),
    pytest.param("riskyUsers_list_2.json", "riskUser", "riskUser", RISK_USER, id="riskyUsers-high"),
    pytest.param(
        "riskyUsers_list_3.normalized.json",
        "riskUser",
        "riskUser",
        RISK_USER_MEDIUM,
        id="riskyUsers-medium",
    ),
]


@pytest.mark.parametrize(("file_name", "fetched_as", "event_type", "expected"), EXAMPLE_CASES)
def test_shipped_mappings_on_graph_examples(
    shipped: MappingSet,
    example: Example,
    file_name: str,
    fetched_as: str,
    event_type: str | None,
    expected: dict[str, Any],
) -> None:
    mapped = shipped.map_response(example(file_name, fetched_as))
    assert mapped == [{"event_type": event_type, "fields": expected}]


def test_every_shipped_field_is_checked_by_hand(shipped: MappingSet) -> None:
    """Each field of each table has a hand-written expected value in an example above."""
    expected_by_source: dict[str, list[dict[str, Any]]] = {
        "default": [SIGN_IN_V1, SIGN_IN_BETA, RISK_DETECTION_V1, RISK_USER],
        "risk_detection": [RISK_DETECTION_V1],
        "risk_user": [RISK_USER],
        "risky_service_principal": [RISKY_SERVICE_PRINCIPAL],
        "service_principal_risk_detection": [SERVICE_PRINCIPAL_DETECTION],
    }
    for source in shipped.sources:
        checked = {name for expected in expected_by_source[source.id] for name in expected}
        unchecked = [f.name for f in source.fields if f.system_name not in checked]
        assert unchecked == [], source.id


def test_mapped_sign_in_keeps_the_table_order(shipped: MappingSet, example: Example) -> None:
    mapped = shipped.map_event(example("signIns_list_3.json", "signIn")["value"][0])
    assert list(mapped) == [
        f.system_name for f in shipped.default.fields if f.system_name in mapped
    ]


@pytest.mark.parametrize("source_id", ["default", "risk_detection", "risk_user"])
def test_shipped_fields_are_the_reference_tables(shipped: MappingSet, source_id: str) -> None:
    source = shipped.source(source_id)
    assert [f.name for f in source.fields] == list(REFERENCE[source_id])
    for f in source.fields:
        reference_path = REFERENCE[source_id][f.name]
        if (source_id, f.name) in SHIPPED_INSTEAD:
            assert f.path.text == SHIPPED_INSTEAD[(source_id, f.name)]
            assert f.reference_path == reference_path
            assert f.reason
        else:
            assert f.path.text == reference_path, f.name
            assert f.reference_path is None
        assert f.beta_only == (source_id == "default" and f.name in BETA_ONLY), f.name
        assert not f.beta_only or f.reason


def test_shipped_search_strings_and_main_event_json_path(shipped: MappingSet) -> None:
    assert shipped.default.main_event_json_path is not None
    assert shipped.default.main_event_json_path.text == "$.value"
    searches = {s.id: s.search.text if s.search else None for s in shipped.sources}
    assert searches["risk_detection"] == "{$.eventType}=riskDetection"
    assert searches["risk_user"] == "{$.eventType}=riskUser"
    assert [s.name for s in shipped.sources] == [
        "Default Event Source",
        "Event Source for Risk Detection",
        "Event Source for Risk User",
        "Event Source for Risky Service Principal",
        "Event Source for Service Principal Risk Detection",
    ]


def test_reference_paths_never_match_the_examples_and_shipped_ones_do(
    shipped: MappingSet, example: Example
) -> None:
    documents = [
        example("signIns_list_1.normalized.json", "signIn"),
        example("signIns_list_3.json", "signIn"),
    ]
    report = shipped.coverage(documents)
    default = {f.name: f for f in report.sources[0].fields}
    assert (
        default["Source IP address"].matched,
        default["Source IP address"].reference_matched,
    ) == (2, 0)
    assert (default["Status"].matched, default["Status"].reference_matched) == (2, 0)


def test_readme_lists_every_difference(shipped_dir: Path, shipped: MappingSet) -> None:
    readme = (shipped_dir / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| ")]
    for source in shipped.sources:
        for f in source.fields:
            if f.reference_path is None and not f.beta_only:
                continue
            matching = [row for row in rows if f"| {f.name} |" in row and f"`{f.path.text}`" in row]
            assert len(matching) == 1, f.name
            if f.reference_path is not None:
                assert f"`{f.reference_path}`" in matching[0]


def test_example_copies_equal_the_shared_originals(examples_dir: Path) -> None:
    shared = examples_dir.parents[2].parent / "shared" / "reference" / "graph_examples"
    if not shared.is_dir():
        pytest.skip(f"{shared} is not beside this checkout")
    for copy in examples_dir.glob("*.json"):
        assert copy.read_bytes() == (shared / copy.name).read_bytes(), copy.name
