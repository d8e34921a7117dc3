"""Coverage reports: which fields matched the sample data, which never did, which repeat a path."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from executor.mapping import MappingSet

Example = Callable[..., dict[str, Any]]
MakeSet = Callable[..., MappingSet]


def test_coverage_of_shipped_mappings_over_the_graph_examples(
    shipped: MappingSet, example: Example
) -> None:
    documents = [
        example("signIns_list_1.normalized.json", "signIn"),
        example("signIns_list_3.json", "signIn"),
        example("riskDetections_list_1.json", "riskDetection"),
        example("riskDetections_list_3.normalized.json", "riskDetection"),
        example("riskyUsers_list_2.json", "riskUser"),
    ]
    report = shipped.coverage(documents)
    assert (report.documents, report.events) == (5, 5)
    events = {source.id: source.events for source in report.sources}
    assert events == {"default": 5, "risk_detection": 2, "risk_user": 1,
                      "risky_service_principal": 0, "service_principal_risk_detection": 0}

    default = {f.name: f.matched for f in report.sources[0].fields}
    # Two sign-ins, two risk detections, one risky user.
    assert default["Unique Event Key"] == 5
    assert default["City"] == 4  # risky users have no location
    assert default["Conditional Access Policy Names"] == 1  # the beta sign-in's list is empty
    assert default["Latitude"] == 1  # {} and null geoCoordinates elsewhere
    assert default["Network Name"] == 1  # beta only
    assert default["Device Is Compliant"] == 1  # null in the v1.0 sign-in
    assert default["Source IP address"] == 4
    risk_detection = {f.name: f.matched for f in report.sources[1].fields}
    assert risk_detection["Event Type"] == 1  # the old beta page has riskType only
    assert risk_detection["Severity"] == 2

    never = [(f.source, f.name) for f in report.never_matching
             if f.source not in ("risky_service_principal", "service_principal_risk_detection")]
    assert never == []  # Microsoft's examples hold no workload identities (mapped by hand)

    assert [str(d) for d in report.duplicates] == [
        f"{shipped.source('risk_user').file}: field 'User Principle Name' has the same path "
        f"'.userPrincipalName' as 'User Principal Name' ({shipped.default.file})"
    ]
    assert report.problems == []


def test_never_matching_fields_are_named(shipped: MappingSet, example: Example) -> None:
    report = shipped.coverage([example("signIns_list_1.normalized.json", "signIn")])
    never = [f.name for f in report.never_matching if f.source == "default"]
    assert never == [
        "Device Is Compliant",
        "Failure Reason",
        "Home Tenant ID",
        "Network Name",
        "Network Type",
        "Resource Tenant ID",
        "Risk Event Type",
        "Authentication Requirement",
        "User Type",
        "Device",
        "Event Type",
        "HTTP user agent",
        "Description",
    ]
    # Only sign-ins in the data: every field of the other sources is unmatched.
    assert {f.source for f in report.never_matching} == {
        "default", "risk_detection", "risk_user", "risky_service_principal",
        "service_principal_risk_detection"}


def test_duplicates_within_a_source_and_across_sources(make_set: MakeSet) -> None:
    mappings = make_set(
        [
            {"name": "A", "path": ".x.y"},
            {"name": "B", "path": "['x']['y']"},  # same path, other spelling
            {"name": "C", "path": ".x.y", "type": "list"},  # other shape: not a duplicate
            {"name": "D", "path": ".x.y", "values": {"1": "one"}},  # other shape
        ],
        {"special": ("{$.kind}=s", [{"name": "A", "path": ".x.y"}, {"name": "E", "path": ".x.y"}])},
        overrides={"default": {"add": [{"name": "Mine", "path": ".x.y"}]}},
    )
    report = mappings.coverage([])
    pairs = [(d.field, d.other) for d in report.duplicates]
    assert pairs == [("B", "A"), ("Mine", "A"), ("E", "A")]


def test_custom_fields_and_counts(make_set: MakeSet) -> None:
    mappings = make_set(
        [{"name": "Id", "path": ".id"}],
        overrides={"default": {"add": [{"name": "Score", "path": ".score"}]}},
    )
    report = mappings.coverage(
        [{"value": [{"id": 1, "score": 3}, {"id": 2}]}, {"value": [{"id": 3}]}]
    )
    fields = report.sources[0].fields
    assert [(f.system_name, f.matched, f.custom) for f in fields] == [
        ("Id", 3, False),
        ("__Score", 1, True),
    ]
    assert (report.documents, report.events) == (2, 3)


def test_report_as_data_and_as_text(shipped: MappingSet, example: Example) -> None:
    report = shipped.coverage([example("signIns_list_3.json", "signIn")])
    data = json.loads(json.dumps(report.to_dict()))
    assert data["events"] == 1
    assert data["sources"][0]["fields"][0] == {
        "source": "default",
        "file": shipped.default.file,
        "name": "Device ID",
        "system_name": "Device_ID",
        "path": ".deviceDetail.deviceId",
        "matched": 1,
        "reference_path": None,
        "reference_matched": None,
        "beta_only": False,
        "custom": False,
    }
    lines = report.render().splitlines()
    assert lines[0] == "1 documents, 1 events"
    assert any(line.startswith("  !! Latitude ") for line in lines)
    assert any(line.startswith("     Network Name ") and "beta only" in line for line in lines)
    status = next(line for line in lines if line.startswith("     Status "))
    assert "reference path matched 0" in status
