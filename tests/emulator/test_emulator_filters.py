"""$filter: Graph's error bodies, and property tests against a reference evaluation.

The reference never parses OData: hypothesis builds expression trees, the test renders each
tree to a $filter string for the emulator and evaluates the same tree itself on the records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Emulator
from tests.emulator.support import Client

NOW = "2025-03-01T12:00:00Z"
SIGNINS = "/v1.0/auditLogs/signIns"


# -- a reference evaluator, independent of the emulator's code ----------------------------------

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z")


def ticks(text: str) -> int:
    import calendar

    m = _ISO.fullmatch(text)
    assert m, text
    secs = calendar.timegm((*(int(m.group(i)) for i in range(1, 7)), 0, 0, 0))
    return secs * 10**7 + int((m.group(7) or "").ljust(7, "0")[:7])


def iso(t: int, digits: int = 7) -> str:
    import datetime as dt

    secs, frac = divmod(t, 10**7)
    base = (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        return f"{base}.{str(frac).rjust(7, '0')[:digits]}Z"
    return base + "Z"


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def get(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("/"):
        if value is None:
            return None
        value = value.get(part)
    return value


@dataclass
class Expr:
    text: str
    evaluate: Callable[[dict[str, Any]], bool]


def _same(value: Any) -> Any:
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _ticks_or_none(value: Any) -> Any:
    return ticks(value) if isinstance(value, str) else value


def cmp_expr(path: str, op: str, literal: Any, kind: str, enum_type: str | None = None,
             qualified: bool = False) -> Expr:
    norm: Callable[[Any], Any] = _same
    lit = literal
    if kind == "string":
        text_lit, norm, lit = quote(literal), _lower, literal.lower()
    elif kind == "datetime":
        text_lit, norm, lit = literal[1], _ticks_or_none, literal[0]
    elif kind == "enum":
        text_lit = f"microsoft.graph.{enum_type}{quote(literal)}" if qualified else quote(literal)
    elif kind == "bool":
        text_lit = "true" if literal else "false"
    else:
        text_lit = str(literal)
    ops = {
        "eq": lambda a: a == lit, "ne": lambda a: a != lit,
        "gt": lambda a: a is not None and a > lit, "ge": lambda a: a is not None and a >= lit,
        "lt": lambda a: a is not None and a < lit, "le": lambda a: a is not None and a <= lit,
    }
    return Expr(f"{path} {op} {text_lit}", lambda r: ops[op](norm(get(r, path))))


# -- strategies ---------------------------------------------------------------------------------

STRING_PROPS = ("userPrincipalName", "userDisplayName", "appDisplayName", "ipAddress",
                "clientAppUsed", "location/city", "deviceDetail/browser", "appId",
                "resourceDisplayName", "location/countryOrRegion")
ENUM_PROPS = {"riskLevelDuringSignIn": "riskLevel", "riskLevelAggregated": "riskLevel",
              "riskState": "riskState", "conditionalAccessStatus": "conditionalAccessStatus",
              "riskDetail": "riskDetail"}
ENUM_MEMBERS = {
    "riskLevel": ["low", "medium", "high", "hidden", "none", "unknownFutureValue"],
    "riskState": ["none", "atRisk", "remediated", "dismissed", "confirmedSafe",
                  "confirmedCompromised"],
    "conditionalAccessStatus": ["success", "failure", "notApplied", "unknownFutureValue"],
    # Members before the unknownFutureValue sentinel (evolvable ones need the Prefer header).
    "riskDetail": ["none", "hidden", "adminConfirmedSigninSafe", "aiConfirmedSigninSafe",
                   "userPassedMFADrivenByRiskBasedPolicy", "adminConfirmedSigninCompromised",
                   "unknownFutureValue"],
}
TEXT = st.text(alphabet=st.sampled_from(list("abcAB.' -é李@#0")), min_size=0, max_size=6)


def leaves(records: list[dict[str, Any]]) -> st.SearchStrategy[Expr]:
    def sample(path: str) -> st.SearchStrategy[str]:
        values = sorted({get(r, path) for r in records if isinstance(get(r, path), str)})
        return st.sampled_from(values) if values else TEXT

    @st.composite
    def string_leaf(draw: Any) -> Expr:
        path = draw(st.sampled_from(STRING_PROPS))
        value = draw(st.one_of(sample(path), TEXT))
        how = draw(st.sampled_from(["eq", "ne", "startswith", "gt", "lt"]))
        if how == "startswith":
            prefix = value[: draw(st.integers(0, max(len(value), 0)))]
            func = draw(st.sampled_from(["startswith", "startsWith"]))
            return Expr(f"{func}({path},{quote(prefix)})",
                        lambda r: isinstance(get(r, path), str)
                        and get(r, path).lower().startswith(prefix.lower()))
        return cmp_expr(path, how, value, "string")

    @st.composite
    def int_leaf(draw: Any) -> Expr:
        codes = sorted({get(r, "status/errorCode") for r in records})
        value = draw(st.one_of(st.sampled_from(codes), st.integers(-1, 600000)))
        return cmp_expr("status/errorCode", draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt",
                                                                   "le"])), value, "int")

    @st.composite
    def bool_leaf(draw: Any) -> Expr:
        path = draw(st.sampled_from(["isInteractive", "deviceDetail/isManaged",
                                     "deviceDetail/isCompliant"]))
        return cmp_expr(path, draw(st.sampled_from(["eq", "ne"])), draw(st.booleans()), "bool")

    @st.composite
    def enum_leaf(draw: Any) -> Expr:
        path = draw(st.sampled_from(sorted(ENUM_PROPS)))
        enum_type = ENUM_PROPS[path]
        return cmp_expr(path, draw(st.sampled_from(["eq", "ne"])),
                        draw(st.sampled_from(ENUM_MEMBERS[enum_type])), "enum", enum_type,
                        qualified=draw(st.booleans()))

    @st.composite
    def time_leaf(draw: Any) -> Expr:
        stamps = [ticks(r["createdDateTime"]) for r in records]
        base = draw(st.sampled_from(stamps)) if stamps else ticks(NOW)
        t = base + draw(st.sampled_from([0, 0, 1, -1, 10**7, -(10**7), 3600 * 10**7]))
        t = max(t, ticks(NOW) - 80 * 86400 * 10**7)
        digits = draw(st.sampled_from([7, 3, 0]))
        text = iso(t, digits)
        return cmp_expr("createdDateTime", draw(st.sampled_from(["eq", "ge", "gt", "le", "lt"])),
                        (ticks(text), text), "datetime")

    @st.composite
    def lambda_leaf(draw: Any) -> Expr:
        kind = draw(st.sampled_from(["events", "policies", "policies_all", "nonempty"]))
        if kind == "events":
            event = draw(st.sampled_from(["unfamiliarFeatures", "anonymizedIPAddress",
                                          "unlikelyTravel", "passwordSpray", "x"]))
            return Expr(f"riskEventTypes_v2/any(t: t eq {quote(event)})",
                        lambda r: any(e.lower() == event.lower()
                                      for e in r["riskEventTypes_v2"]))
        if kind == "nonempty":
            return Expr("appliedConditionalAccessPolicies/any()",
                        lambda r: bool(r["appliedConditionalAccessPolicies"]))
        result = draw(st.sampled_from(["success", "failure", "notApplied", "notEnabled"]))
        if kind == "policies":
            return Expr(f"appliedConditionalAccessPolicies/any(p: p/result eq {quote(result)})",
                        lambda r: any(p["result"] == result
                                      for p in r["appliedConditionalAccessPolicies"]))
        return Expr(f"appliedConditionalAccessPolicies/all(p: p/result eq {quote(result)})",
                    lambda r: all(p["result"] == result
                                  for p in r["appliedConditionalAccessPolicies"]))

    return st.one_of(string_leaf(), int_leaf(), bool_leaf(), enum_leaf(), time_leaf(),
                     lambda_leaf())


def expressions(records: list[dict[str, Any]]) -> st.SearchStrategy[Expr]:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        @st.composite
        def combine(draw: Any) -> Expr:
            how = draw(st.sampled_from(["and", "or", "not", "paren"]))
            a = draw(children)
            if how == "not":
                return Expr(f"not ({a.text})", lambda r: not a.evaluate(r))
            if how == "paren":
                return Expr(f"({a.text})", a.evaluate)
            b = draw(children)
            if how == "and":
                return Expr(f"({a.text}) and ({b.text})",
                            lambda r: a.evaluate(r) and b.evaluate(r))
            return Expr(f"{a.text} or {b.text}", lambda r: a.evaluate(r) or b.evaluate(r))
        return combine()

    return st.recursive(leaves(records), extend, max_leaves=5)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded() -> Any:
    # The property tests check the evaluator on any filter it can parse: lenient on purpose.
    with Emulator(seed=11, signins=800, now=NOW, frozen=True,
                  behaviour={"filters": "lenient"}) as emu:
        client = Client(emu)
        records = client.all_pages(SIGNINS)  # the v1.0 view the filters run on
        yield client, records


@pytest.fixture(scope="module")
def blank() -> Any:
    with Emulator(seed=12, signins=0, now=NOW, frozen=True,
                  behaviour={"filters": "lenient"}) as emu:
        yield Client(emu)


def _emulator_ids(client: Client, text: str, path: str = SIGNINS) -> set[str]:
    response = client.get(path, query={"$filter": text})
    assert response.status_code == 200, (text, response.text)
    ids = {r["id"] for r in response.json()["value"]}
    link = response.json().get("@odata.nextLink")
    while link:
        body = client.get(link).json()
        ids |= {r["id"] for r in body["value"]}
        link = body.get("@odata.nextLink")
    return ids


PROPERTY_SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])


def test_random_filters_agree_with_reference_on_seeded_signins(seeded):
    client, records = seeded

    @PROPERTY_SETTINGS
    @given(expressions(records))
    def check(expr: Expr) -> None:
        expected = {r["id"] for r in records if expr.evaluate(r)}
        assert _emulator_ids(client, expr.text) == expected, expr.text

    check()


def test_documented_filters_refuse_or_agree_with_reference(seeded):
    """The same random filters under the documented default: each is refused with Graph's
    "Invalid filter clause" or gives exactly the reference's answer."""
    client, records = seeded
    outcomes = {"refused": 0, "answered": 0}

    @PROPERTY_SETTINGS
    @given(expressions(records))
    def check(expr: Expr) -> None:
        response = client.get(SIGNINS, query={"$filter": expr.text})
        if response.status_code == 400:
            assert response.json()["error"]["message"] == "Invalid filter clause", expr.text
            outcomes["refused"] += 1
            return
        expected = {r["id"] for r in records if expr.evaluate(r)}
        assert _emulator_ids(client, expr.text) == expected, expr.text
        outcomes["answered"] += 1

    client.control("POST", "behaviour", {"filters": "documented"})
    try:
        check()
    finally:
        client.control("POST", "behaviour", {"filters": "lenient"})
    assert outcomes["refused"] and outcomes["answered"]


@st.composite
def random_signin(draw: Any) -> dict[str, Any]:
    t = ticks(NOW) - draw(st.integers(0, 20 * 86400)) * 10**7 - draw(st.integers(0, 10**7 - 1))
    return {
        "createdDateTime": iso(t),
        "userPrincipalName": draw(TEXT) + "@contoso.test",
        "userDisplayName": draw(TEXT),
        "ipAddress": draw(st.sampled_from(["10.0.0.1", "2001:db8::1", "131.107.1.1"])),
        "clientAppUsed": draw(st.sampled_from(["Browser", "IMAP4", "Other clients"])),
        "isInteractive": draw(st.booleans()),
        "riskLevelDuringSignIn": draw(st.sampled_from(ENUM_MEMBERS["riskLevel"])),
        "riskState": draw(st.sampled_from(ENUM_MEMBERS["riskState"])),
        "conditionalAccessStatus": draw(st.sampled_from(ENUM_MEMBERS["conditionalAccessStatus"])),
        "riskEventTypes_v2": draw(st.lists(st.sampled_from(["unfamiliarFeatures",
                                                            "passwordSpray"]), max_size=2)),
        "status": {"errorCode": draw(st.sampled_from([0, 50126, 53003])),
                   "failureReason": None, "additionalDetails": None},
        "location": {"city": draw(st.sampled_from(["Redmond", "Zürich", "O'Fallon"])),
                     "countryOrRegion": draw(st.sampled_from(["US", "CH"]))},
    }


def test_random_filters_agree_with_reference_on_random_records(blank):
    counter = iter(range(10**6))

    @PROPERTY_SETTINGS
    @given(st.lists(random_signin(), min_size=1, max_size=12), st.data())
    def check(batch: list[dict[str, Any]], data: Any) -> None:
        marker = f"batch-{next(counter)}"
        for record in batch:
            record["appDisplayName"] = marker
        stored = blank.control("POST", "records/signIns", {"records": batch})["value"]
        # Filters see what Graph serves: the stored records in their v1.0 form.
        served = [r for r in blank.all_pages(SIGNINS, query={
            "$filter": f"appDisplayName eq {quote(marker)}"})]
        assert {r["id"] for r in served} == {r["id"] for r in stored}
        expr = data.draw(expressions(served))
        text = f"appDisplayName eq {quote(marker)} and ({expr.text})"
        expected = {r["id"] for r in served if expr.evaluate(r)}
        assert _emulator_ids(blank, text) == expected, expr.text

    check()


# -- fixed cases and error bodies ---------------------------------------------------------------


def test_enum_literal_forms_agree(client):
    plain = _emulator_ids(client, "riskLevel eq 'medium'", "/v1.0/identityProtection/riskyUsers")
    qualified = _emulator_ids(client, "riskLevel eq microsoft.graph.riskLevel'medium'",
                              "/v1.0/identityProtection/riskyUsers")
    assert plain and plain == qualified
    truth = {u["id"] for u in client.truth("riskyUsers") if u["riskLevel"] == "medium"}
    assert plain == truth


def test_apostrophes_and_injection(client):
    upns = {r["userPrincipalName"] for r in client.truth("signIns",
                                                         select="userPrincipalName")}
    obrien = next(u for u in upns if "o'brien" in u)
    ids = _emulator_ids(client, f"userPrincipalName eq {quote(obrien)}")
    assert ids
    injected = "x' or userPrincipalName eq 'y"
    assert _emulator_ids(client, f"userPrincipalName eq {quote(injected)}") == set()
    raw = client.get(SIGNINS, query={"$filter": f"userPrincipalName eq '{injected}'"})
    assert raw.status_code == 200  # the unescaped form is a different, valid filter...
    assert raw.json()["value"] == []  # ...which is why clients must double quotes
    widened = client.get(SIGNINS, query={"$filter": f"userPrincipalName eq 'x' or "
                                               f"startswith(userPrincipalName, '{obrien[:3]}')"})
    assert widened.status_code == 200 and widened.json()["value"]


@pytest.mark.parametrize("text", [
    "appDisplayName eq", "nope eq 'x'", "contains(appDisplayName,'a')",
    "createdDateTime ge '2025-02-01'", "riskLevelDuringSignIn eq 'extreme'",
    "networkLocationDetails/any(n: n/networkType eq 'trusted')",
    "createdDateTime ge 2024-01-01T00:00:00Z",  # more than 90 days back
])
def test_signin_filter_errors(client, text):
    response = client.get(SIGNINS, query={"$filter": text})
    assert response.status_code == 400, text
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("BadRequest", "Invalid filter clause")
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_identity_protection_filter_errors(client):
    response = client.get("/v1.0/identityProtection/riskyUsers", query={"$filter": "x eq 'a'"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        **response.json()["error"],
        "code": "BadRequest",
        "message": "Invalid filter clause: Could not find a property named 'x' on type "
                   "'microsoft.graph.riskyUser'.",
    }
    bad_enum = client.get("/v1.0/identityProtection/riskDetections",
                          query={"$filter": "riskLevel eq 'severe'"})
    assert bad_enum.status_code == 400
    assert "severe" in bad_enum.json()["error"]["message"]
    syntax = client.get("/v1.0/identityProtection/riskDetections",
                        query={"$filter": "riskLevel eq 'high' and"})
    assert syntax.status_code == 400
    assert "Syntax error" in syntax.json()["error"]["message"]


def test_detection_filters_on_dates(client):
    rows = client.truth("riskDetections")
    cut = sorted(ticks(r["lastUpdatedDateTime"]) for r in rows)[len(rows) // 2]
    text = f"lastUpdatedDateTime ge {iso(cut)}"
    expected = {r["id"] for r in rows if ticks(r["lastUpdatedDateTime"]) >= cut}
    assert _emulator_ids(client, text, "/v1.0/identityProtection/riskDetections") == expected
    text = "detectionTimingType eq 'offline' and riskState eq 'atRisk'"
    expected = {r["id"] for r in rows if r["detectionTimingType"] == "offline"
                and r["riskState"] == "atRisk"}
    assert _emulator_ids(client, text, "/v1.0/identityProtection/riskDetections") == expected


def test_evolvable_members_in_filters_need_prefer(client):
    path = "/v1.0/identityProtection/riskyUsers"
    text = "riskDetail eq 'adminConfirmedAccountSafe'"
    assert client.get(path, query={"$filter": text}).status_code == 400
    prefer = {"Prefer": "include-unknown-enum-members"}
    response = client.get(path, headers=prefer, query={"$filter": text})
    assert response.status_code == 200
    truth = {u["id"] for u in client.truth("riskyUsers")
             if u["riskDetail"] == "adminConfirmedAccountSafe"}
    assert truth and {u["id"] for u in response.json()["value"]} == truth
    sentinel = _emulator_ids(client, "riskDetail eq 'unknownFutureValue'", path)
    assert truth <= sentinel  # without the header they read as the sentinel
