"""The mapping semantics of SPEC §7 as a table: one field, one event, the value a person expects.

Every case runs through both the generated mapper (`map_event`) and the plain evaluator
(`map_event_generic`), which must agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from executor.mapping import MappingSet

MakeSet = Callable[..., MappingSet]


def field(path: str, **extra: Any) -> dict[str, Any]:
    return {"name": "F", "path": path, **extra}


POLICIES = {
    "appliedConditionalAccessPolicies": [
        {"id": "p1", "displayName": "Require MFA", "enforcedGrantControls": ["Mfa"]},
        {"id": "p2", "displayName": "Block legacy", "enforcedGrantControls": []},
        {"id": "p3", "displayName": None, "enforcedGrantControls": ["Block", "Mfa"]},
    ]
}
STATUS = {0: "Success", "*": "Failure"}

CASES = [
    # Missing keys and nulls: no match, the field is left out; other falsy values are kept.
    pytest.param(field(".a"), {}, {}, id="missing-key"),
    pytest.param(field(".a.b.c"), {"a": {}}, {}, id="missing-nested-key"),
    pytest.param(field(".a"), {"a": None}, {}, id="null-leaf-left-out"),
    pytest.param(field(".a.b"), {"a": None}, {}, id="null-intermediate"),
    pytest.param(field(".a"), {"a": ""}, {"F": ""}, id="empty-string-kept"),
    pytest.param(field(".a"), {"a": False}, {"F": False}, id="false-kept"),
    pytest.param(field(".a"), {"a": 0}, {"F": 0}, id="zero-kept"),
    pytest.param(field(".a"), {"a": {}}, {"F": {}}, id="empty-object-kept"),
    # Arrays as values, and the platform's walk through arrays.
    pytest.param(field(".a"), {"a": []}, {"F": []}, id="empty-array-value-kept"),
    pytest.param(field(".a"), {"a": [1, None]}, {"F": [1, None]}, id="array-value-as-is"),
    pytest.param(field(".a.b"), {"a": []}, {}, id="walk-empty-array"),
    pytest.param(
        field(".appliedConditionalAccessPolicies.displayName"),
        POLICIES,
        {"F": ["Require MFA", "Block legacy"]},
        id="walk-array-several-nulls-dropped",
    ),
    pytest.param(field(".a.b"), {"a": [{"b": 1}, {"c": 2}]}, {"F": 1}, id="walk-array-one-match"),
    pytest.param(
        field(".a.b"),
        {"a": [[{"b": 1}], [{"b": 2}, [{"b": 3}]]]},
        {"F": [1, 2, 3]},
        id="walk-nested-arrays",
    ),
    pytest.param(
        field(".a.b.c"),
        {"a": [{"b": [{"c": "x"}, {"c": "y"}]}, {"b": {"c": "z"}}]},
        {"F": ["x", "y", "z"]},
        id="walk-arrays-at-two-levels",
    ),
    pytest.param(
        field(".a.b"),
        {"a": [1, "text", None, {"b": 2}]},
        {"F": 2},
        id="walk-skips-scalars",
    ),
    # type: list
    pytest.param(field(".a", type="list"), {"a": "x"}, {"F": ["x"]}, id="list-one-value"),
    pytest.param(field(".a", type="list"), {"a": [1, None, 2]}, {"F": [1, 2]}, id="list-spreads"),
    pytest.param(field(".a", type="list"), {"a": []}, {"F": []}, id="list-empty-array-kept"),
    pytest.param(field(".a", type="list"), {}, {}, id="list-no-match-left-out"),
    pytest.param(
        field(".a.b", type="list"),
        {"a": [{"b": [1, 2]}, {"b": 3}]},
        {"F": [1, 2, 3]},
        id="list-walked-arrays-spread",
    ),
    pytest.param(
        field(".appliedConditionalAccessPolicies.enforcedGrantControls", type="list"),
        POLICIES,
        {"F": ["Mfa", "Block", "Mfa"]},
        id="list-controls-of-every-policy",
    ),
    pytest.param(
        field(".appliedConditionalAccessPolicies.displayName", type="list"),
        {"appliedConditionalAccessPolicies": [{"displayName": "Only"}]},
        {"F": ["Only"]},
        id="list-single-policy-still-a-list",
    ),
    # Indexes
    pytest.param(field(".a[0].b"), {"a": [{"b": 1}, {"b": 2}]}, {"F": 1}, id="index"),
    pytest.param(field(".a[-1]"), {"a": [1, 2, 3]}, {"F": 3}, id="negative-index"),
    pytest.param(field(".a[5]"), {"a": [1, 2]}, {}, id="index-out-of-range"),
    pytest.param(field(".a[0]"), {"a": {"0": 1}}, {}, id="index-on-object"),
    pytest.param(field(".a[0]"), {"a": [None, 1]}, {}, id="index-on-null-element"),
    # Wildcards
    pytest.param(field(".a[*]"), {"a": [1, 2]}, {"F": [1, 2]}, id="wildcard-array"),
    pytest.param(
        field(".a.*"), {"a": {"x": 1, "y": None, "z": 2}}, {"F": [1, 2]}, id="wildcard-object"
    ),
    pytest.param(
        field(".a[*].b"), {"a": [{"b": 1}, {"b": 2}]}, {"F": [1, 2]}, id="wildcard-then-field"
    ),
    pytest.param(field(".a[*]"), {"a": "text"}, {}, id="wildcard-on-scalar"),
    pytest.param(field(".a[*]"), {"a": []}, {}, id="wildcard-empty-array"),
    # Recursive descent (jsonpath-ng)
    pytest.param(
        field("..networkType"),
        {"x": {"networkType": "intranet"}, "y": [{"networkType": "trusted"}]},
        {"F": ["intranet", "trusted"]},
        id="descent-from-event",
    ),
    pytest.param(
        field(".networkLocationDetails..networkNames[*]"),
        {"networkLocationDetails": [{"networkNames": ["HQ", "VPN"]}, {"networkNames": ["Lab"]}]},
        {"F": ["HQ", "VPN", "Lab"]},
        id="descent-then-wildcard",
    ),
    pytest.param(
        field(".networkLocationDetails..networkType"),
        {"networkLocationDetails": [{"networkType": "namedNetwork"}]},
        {"F": "namedNetwork"},
        id="descent-one-match",
    ),
    pytest.param(
        field(".networkLocationDetails..networkType"), {"other": 1}, {}, id="descent-absent"
    ),
    # Filters and slices (jsonpath-ng)
    pytest.param(
        field(".kvp[?(@.key=='ip')].value"),
        {"kvp": [{"key": "ip", "value": "10.0.0.1"}, {"key": "host", "value": "h1"}]},
        {"F": "10.0.0.1"},
        id="filter-match",
    ),
    pytest.param(
        field(".kvp[?(@.key=='ip')].value"),
        {"kvp": [{"key": "host", "value": "h1"}]},
        {},
        id="filter-no-match",
    ),
    pytest.param(
        field(".kvp[?(@.key.text=='json.source_address')].value.text"),
        {"ipAddress": "10.0.0.1"},
        {},
        id="filter-on-missing-array",
    ),
    pytest.param(field(".a[1:3]"), {"a": [0, 1, 2, 3]}, {"F": [1, 2]}, id="slice"),
    # Quoted names and unicode
    pytest.param(
        field('["@odata.type"]'), {"@odata.type": "#x"}, {"F": "#x"}, id="quoted-dotted-key"
    ),
    pytest.param(field(".a['b c']"), {"a": {"b c": 1}}, {"F": 1}, id="quoted-key-with-space"),
    pytest.param(
        field(".location['città']"),
        {"location": {"città": "São Paulo"}},
        {"F": "São Paulo"},
        id="unicode-key-and-value",
    ),
    pytest.param(field("['名前']"), {"名前": "太郎"}, {"F": "太郎"}, id="unicode-key-quoted"),
    pytest.param(
        field('."名前".x'), {"名前": {"x": "✓"}}, {"F": "✓"}, id="unicode-key-double-quoted"
    ),
    # values: tables
    pytest.param(
        field(".s.errorCode", values=STATUS),
        {"s": {"errorCode": 0}},
        {"F": "Success"},
        id="values-hit",
    ),
    pytest.param(
        field(".s.errorCode", values=STATUS),
        {"s": {"errorCode": 50126}},
        {"F": "Failure"},
        id="values-otherwise",
    ),
    pytest.param(
        field(".c", values=STATUS), {"c": 0.0}, {"F": "Success"}, id="values-number-kinds"
    ),
    pytest.param(
        field(".c", values=STATUS), {"c": False}, {"F": "Failure"}, id="values-false-is-not-0"
    ),
    pytest.param(
        field(".c", values={"a": "A"}), {"c": "b"}, {"F": "b"}, id="values-no-entry-passes"
    ),
    pytest.param(
        field(".c", values={"a": "A"}),
        {"c": ["a", "b"]},
        {"F": ["A", "b"]},
        id="values-per-element",
    ),
    pytest.param(field(".c", values={"a": None}), {"c": "a"}, {}, id="values-to-null-left-out"),
    pytest.param(
        field(".a.c", values={1: "one"}),
        {"a": [{"c": 1}, {"c": 2}]},
        {"F": ["one", 2]},
        id="values-on-walked-matches",
    ),
    # Events of the wrong shape: whatever matches, never an exception.
    pytest.param(field(".a"), None, {}, id="event-null"),
    pytest.param(field(".a"), "text", {}, id="event-string"),
    pytest.param(field(".a"), 42, {}, id="event-number"),
    pytest.param(field(".a"), [{"a": 1}, {"b": 2}], {"F": 1}, id="event-array-walked"),
    pytest.param(field(".a.b"), {"a": "text"}, {}, id="string-where-object-expected"),
    pytest.param(field(".a.b"), {"a": 5}, {}, id="number-where-object-expected"),
    pytest.param(field(".a[0]"), {"a": "text"}, {}, id="index-into-string"),
    pytest.param(field(".a..b"), {"a": "text"}, {}, id="descent-into-string"),
    pytest.param(
        field(".a[?(@.k > 1)].v"),
        {"a": [{"k": "x", "v": 1}, {"k": 2, "v": 2}]},
        {"F": 2},
        id="filter-mixed-types",
    ),
    pytest.param(field(".a.`len`"), {"a": 5}, {}, id="named-operator-on-wrong-type"),
]


@pytest.mark.parametrize(("fields", "event", "expected"), CASES)
def test_mapping_case(
    make_set: MakeSet, fields: dict[str, Any], event: Any, expected: dict[str, Any]
) -> None:
    mappings = make_set([fields])
    assert mappings.map_event(event) == expected
    assert mappings.map_event_generic(event) == expected


RISK = (
    "{$.eventType}=riskDetection",
    [{"name": "Severity", "path": ".riskLevel"}, {"name": "F", "path": ".detected"}],
)
USER = ("{$.eventType}=riskUser", [{"name": "Severity", "path": ".userRisk"}])
DEFAULT = [{"name": "F", "path": ".created"}, {"name": "Id", "path": ".id"}]

SELECTION_CASES = [
    pytest.param(
        {
            "eventType": "riskDetection",
            "id": "1",
            "riskLevel": "high",
            "detected": "d",
            "created": "c",
        },
        "riskDetection",
        {"F": "d", "Id": "1", "Severity": "high"},
        id="specific-wins-on-same-name",
    ),
    pytest.param(
        {"eventType": "riskDetection", "id": "1", "created": "c"},
        "riskDetection",
        {"F": "c", "Id": "1"},
        id="specific-without-match-keeps-default",
    ),
    pytest.param(
        {"eventType": "riskUser", "id": "2", "userRisk": "low", "riskLevel": "high"},
        "riskUser",
        {"Id": "2", "Severity": "low"},
        id="second-source",
    ),
    pytest.param(
        {"eventType": "signIn", "id": "3", "riskLevel": "high", "created": "c"},
        None,
        {"F": "c", "Id": "3"},
        id="no-source-matches",
    ),
    pytest.param({"id": "4", "riskLevel": "high"}, None, {"Id": "4"}, id="no-event-type"),
    pytest.param(
        {"eventType": "RiskDetection", "id": "5", "riskLevel": "high"},
        None,
        {"Id": "5"},
        id="case-sensitive",
    ),
    pytest.param(
        {"eventType": ["riskDetection"], "id": "6", "riskLevel": "high"},
        None,
        {"Id": "6"},
        id="array-is-not-the-value",
    ),
    pytest.param(
        {"eventType": None, "id": "7", "riskLevel": "high"}, None, {"Id": "7"}, id="null-event-type"
    ),
    pytest.param(
        [{"eventType": "riskDetection", "riskLevel": "high"}],
        "riskDetection",
        {"Severity": "high"},
        id="wrong-shape-event-still-selected",
    ),
]


@pytest.mark.parametrize(("event", "event_type", "expected"), SELECTION_CASES)
def test_search_strings_and_precedence(
    make_set: MakeSet, event: Any, event_type: str | None, expected: dict[str, Any]
) -> None:
    mappings = make_set(DEFAULT, {"risk_detection": RISK, "risk_user": USER})
    assert mappings.event_type(event) == event_type
    assert mappings.map_event(event) == expected
    assert mappings.map_event_generic(event) == expected
    assert mappings.map_response({"value": [event]}) == [
        {"event_type": event_type, "fields": expected}
    ]


@pytest.mark.parametrize(
    ("search_string", "event", "selected"),
    [
        pytest.param("{$.kind.name}=risk", {"kind": {"name": "risk"}}, True, id="nested-path"),
        pytest.param("{$.tags[*]}=vip", {"tags": ["a", "vip"]}, True, id="any-match-counts"),
        pytest.param("{$.level}=3", {"level": 3}, True, id="number-as-json-text"),
        pytest.param("{$.level}=3", {"level": "3"}, True, id="string-value"),
        pytest.param("{$.flag}=true", {"flag": True}, True, id="boolean-as-json-text"),
        pytest.param("{$.flag}=true", {"flag": 1}, False, id="one-is-not-true"),
        pytest.param(
            "{eventType}=riskUser", {"eventType": "riskUser"}, True, id="prose-form-without-dollar"
        ),
        pytest.param('{$.name}="a b"', {"name": "a b"}, True, id="quoted-value"),
        pytest.param("{$.kind.name}=risk", {"kind": "risk"}, False, id="wrong-shape"),
    ],
)
def test_search_string_forms(
    make_set: MakeSet, search_string: str, event: Any, selected: bool
) -> None:
    mappings = make_set(DEFAULT, {"special": (search_string, [{"name": "Special", "path": ".id"}])})
    event = {"id": "e1", **event}
    assert ("Special" in mappings.map_event(event)) is selected


def test_custom_fields_get_the_double_underscore(make_set: MakeSet) -> None:
    mappings = make_set(
        [{"name": "Browser", "path": ".deviceDetail.browser"}, {"name": "Id", "path": ".id"}],
        {"risk_detection": RISK},
        overrides={
            "default": {
                "add": [{"name": "Risk Score", "path": ".riskLevel"}],
                "remove": ["Browser"],
            },
            "risk_detection": {
                "add": [{"name": "Policy Names", "path": ".policies.name", "type": "list"}]
            },
        },
    )
    event = {
        "id": "1",
        "riskLevel": "high",
        "deviceDetail": {"browser": "Edge"},
        "policies": [{"name": "p"}],
    }
    assert mappings.map_event(event) == {"Id": "1", "__Risk_Score": "high"}
    event["eventType"] = "riskDetection"
    assert mappings.map_event(event) == {
        "Id": "1",
        "__Risk_Score": "high",
        "Severity": "high",
        "__Policy_Names": ["p"],
    }


def test_custom_field_beside_builtin_of_same_name(make_set: MakeSet) -> None:
    mappings = make_set(
        [{"name": "Device ID", "path": ".deviceDetail.deviceId"}],
        overrides={
            "default": {"add": [{"name": "Device ID", "path": ".deviceDetail.displayName"}]}
        },
    )
    event = {"deviceDetail": {"deviceId": "d-1", "displayName": "PC"}}
    assert mappings.map_event(event) == {"Device_ID": "d-1", "__Device_ID": "PC"}


def test_removal_by_system_name_and_from_specific_source(make_set: MakeSet) -> None:
    mappings = make_set(
        [{"name": "Device ID", "path": ".deviceId"}, {"name": "F", "path": ".created"}],
        {"risk_detection": RISK},
        overrides={"default": {"remove": ["Device_ID"]}, "risk_detection": {"remove": ["F"]}},
    )
    event = {"eventType": "riskDetection", "deviceId": "d", "created": "c", "detected": "d2"}
    # risk_detection's F is removed, so Default's F stands.
    assert mappings.map_event(event) == {"F": "c"}


def test_system_names_replace_spaces(make_set: MakeSet) -> None:
    mappings = make_set(
        [{"name": "Risk Level During Sign In", "path": ".r"}, {"name": " Padded ", "path": ".p"}]
    )
    assert mappings.map_event({"r": "low", "p": 1}) == {
        "Risk_Level_During_Sign_In": "low",
        "_Padded_": 1,
    }


def test_map_response_extracts_events_with_main_event_json_path(make_set: MakeSet) -> None:
    mappings = make_set(DEFAULT, {"risk_detection": RISK})
    response = {
        "@odata.nextLink": "https://example.invalid/next",
        "value": [
            {"id": "a", "created": "c"},
            None,
            {"id": "b", "eventType": "riskDetection", "riskLevel": "low"},
            "not an event",
        ],
    }
    assert mappings.map_response(response) == [
        {"event_type": None, "fields": {"F": "c", "Id": "a"}},
        {"event_type": "riskDetection", "fields": {"Id": "b", "Severity": "low"}},
        {"event_type": None, "fields": {}},
    ]


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({}, id="no-value"),
        pytest.param({"value": None}, id="null-value"),
        pytest.param({"value": []}, id="empty-value"),
        pytest.param([], id="array-response"),
        pytest.param(None, id="null-response"),
        pytest.param("text", id="string-response"),
    ],
)
def test_map_response_of_odd_responses_is_empty(make_set: MakeSet, response: Any) -> None:
    assert make_set(DEFAULT).map_response(response) == []


def test_main_event_json_path_pointing_at_one_object(write_dir: Any) -> None:
    directory = write_dir(DEFAULT)
    text = (directory / "default.yaml").read_text().replace("$.value", "$.data.event")
    (directory / "default.yaml").write_text(text)
    mappings = MappingSet.load(directory)
    assert mappings.map_response({"data": {"event": {"id": "x"}}}) == [
        {"event_type": None, "fields": {"Id": "x"}}
    ]


def test_mapped_values_are_not_the_events_lists_for_list_fields(make_set: MakeSet) -> None:
    mappings = make_set([field(".a", type="list")])
    event = {"a": [1, 2]}
    mapped = mappings.map_event(event)
    mapped["F"].append(3)
    assert event == {"a": [1, 2]}


def test_deeply_nested_arrays_do_not_raise(make_set: MakeSet) -> None:
    nested: Any = {"b": "deep"}
    for _ in range(5000):
        nested = [nested]
    mappings = make_set([field(".a.b"), {"name": "G", "path": ".a..b"}])
    assert mappings.map_event({"a": nested}) == {"F": "deep", "G": "deep"}
    assert mappings.map_event_generic({"a": nested}) == {"F": "deep", "G": "deep"}
