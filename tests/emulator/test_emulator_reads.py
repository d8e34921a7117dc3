"""Graph reads: routing, headers, $top/$select/$orderby, contexts, enums, data realism."""

from __future__ import annotations

import email.utils
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from emulator import resources, schema
from emulator.collections import sign_ins
from tests.emulator.support import Client

V1_ONLY_SIGNIN = set(sign_ins.V1)
BETA_ONLY_SIGNIN = set(sign_ins.BETA) - set(sign_ins.V1)


def test_list_shapes_and_headers(client):
    response = client.get("/v1.0/identityProtection/riskyUsers",
                          headers={"client-request-id": "my-id-123"})
    assert response.status_code == 200
    assert response.headers["client-request-id"] == "my-id-123"
    uuid.UUID(response.headers["request-id"])
    assert response.headers["Content-Type"].startswith("application/json")
    date = email.utils.parsedate_to_datetime(response.headers["Date"])
    assert date.isoformat().startswith("2025-03-01T12:00:00")  # the emulator clock
    body = response.json()
    assert body["@odata.context"] == (
        f"{client.base}/v1.0/$metadata#identityProtection/riskyUsers")
    assert isinstance(body["value"], list) and body["value"]


@pytest.mark.parametrize("path,context", [
    ("/v1.0/identityProtection/riskDetections", "identityProtection/riskDetections"),
    ("/v1.0/auditLogs/signIns", "auditLogs/signIns"),
    ("/beta/riskyUsers", "riskyUsers"),
    ("/beta/riskDetections", "riskDetections"),
    ("/beta/identityProtection/riskyUsers", "identityProtection/riskyUsers"),
])
def test_contexts(client, path, context):
    body = client.get(path, query={"$top": 2}).json()
    version = path.split("/")[1]
    assert body["@odata.context"] == f"{client.base}/{version}/$metadata#{context}"


def test_paths_are_case_insensitive(client):
    a = client.get("/v1.0/auditLogs/signIns", query={"$top": 3}).json()["value"]
    b = client.get("/V1.0/AUDITLOGS/signins", query={"$top": 3}).json()["value"]
    assert [r["id"] for r in a] == [r["id"] for r in b]


def test_get_by_id_and_404(client):
    for resource, path in (("riskyUsers", "identityProtection/riskyUsers"),
                           ("riskDetections", "identityProtection/riskDetections"),
                           ("signIns", "auditLogs/signIns")):
        record = client.truth(resource, select="id")[3]
        response = client.get(f"/v1.0/{path}/{record['id']}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == record["id"]
        assert body["@odata.context"].endswith(f"#{path}/$entity")
        missing = client.get(f"/v1.0/{path}/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert set(missing.json()["error"]) == {"code", "message", "innerError"}


def test_key_in_parentheses(client):
    uid = client.truth("riskyUsers", select="id")[0]["id"]
    response = client.get(f"/v1.0/identityProtection/riskyUsers('{uid}')")
    assert response.status_code == 200 and response.json()["id"] == uid


def test_unknown_segment_is_400(client):
    response = client.get("/v1.0/identityProtection/riskyPeople")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert client.get("/v1.0/riskyUsers").status_code == 400  # beta-only root path


def test_beta_fields_only_on_beta(client):
    v1 = client.get("/v1.0/auditLogs/signIns", query={"$top": 50}).json()["value"]
    beta = client.get("/beta/auditLogs/signIns", query={"$top": 50}).json()["value"]
    for record in v1:
        assert set(record) == V1_ONLY_SIGNIN
    for record in beta:
        assert set(record) >= BETA_ONLY_SIGNIN
        assert record["signInEventTypes"] == ["interactiveUser"]  # beta default
    detection = client.get("/beta/riskDetections", query={"$top": 1}).json()["value"][0]
    assert {"riskType", "mitreTechniqueId"} <= set(detection)
    assert "riskType" not in client.get("/v1.0/identityProtection/riskDetections",
                                        query={"$top": 1}).json()["value"][0]


def test_beta_non_interactive_needs_filter(client):
    rows = client.get("/beta/auditLogs/signIns", query={
        "$filter": "signInEventTypes/any(t: t eq 'nonInteractiveUser')", "$top": 20}).json()
    assert rows["value"]
    assert all(not r["isInteractive"] for r in rows["value"])
    v1 = client.get("/v1.0/auditLogs/signIns", query={"$top": 1000}).json()["value"]
    assert any(not r["isInteractive"] for r in v1), "v1.0 returns non-interactive ones too"


@pytest.mark.parametrize("path,default,maximum", [
    ("/v1.0/auditLogs/signIns", 1000, 1000),
    ("/v1.0/identityProtection/riskDetections", 20, 500),
    ("/v1.0/identityProtection/riskyUsers", 20, 500),
])
def test_page_sizes(client, path, default, maximum):
    body = client.get(path).json()
    assert len(body["value"]) == default and "@odata.nextLink" in body
    assert len(client.get(path, query={"$top": 7}).json()["value"]) == 7
    assert client.get(path, query={"$top": maximum}).status_code == 200
    for bad in (maximum + 1, 0, -1, "abc"):
        response = client.get(path, query={"$top": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "BadRequest"


def test_history_page_size(fresh):
    user = fresh.truth("riskyUsers", select="id")[0]["id"]
    items = [{"userId": user, "id": f"{user}{638700000000000000 + n}",
              "riskLastUpdatedDateTime": f"2025-02-{1 + n % 27:02d}T10:00:00Z"}
             for n in range(30)]
    fresh.control("POST", "records/history", {"records": items})
    path = f"/v1.0/identityProtection/riskyUsers/{user}/history"
    body = fresh.get(path).json()
    assert len(body["value"]) == 20 and "@odata.nextLink" in body
    assert body["@odata.context"].endswith(f"riskyUsers('{user}')/history")
    assert len(fresh.all_pages(path)) >= 31
    assert fresh.get(path, query={"$top": 500}).status_code == 200
    assert fresh.get(path, query={"$top": 501}).status_code == 400


def test_history_contains_current_state_item(client):
    user = client.truth("riskyUsers")[0]
    items = client.all_pages(f"/v1.0/identityProtection/riskyUsers/{user['id']}/history")
    current = next(i for i in items if i["id"] == user["id"])
    for key in ("riskLevel", "riskState", "riskDetail", "riskLastUpdatedDateTime"):
        assert current[key] == user[key]
    assert all(i["userId"] == user["id"] for i in items)
    one = client.get(f"/v1.0/identityProtection/riskyUsers/{user['id']}/history/{items[-1]['id']}")
    assert one.status_code == 200 and one.json()["id"] == items[-1]["id"]
    missing = client.get(f"/v1.0/identityProtection/riskyUsers/{uuid.uuid4()}/history")
    assert missing.status_code == 404


def test_select(client):
    body = client.get("/v1.0/auditLogs/signIns",
                      query={"$select": "id,createdDateTime,status", "$top": 3}).json()
    assert all(set(r) == {"id", "createdDateTime", "status"} for r in body["value"])
    assert body["@odata.context"].endswith("#auditLogs/signIns(id,createdDateTime,status)")
    assert "%24select" in body["@odata.nextLink"] or "$select" in body["@odata.nextLink"]
    for bad in ("nope", "networkLocationDetails", "status/errorCode"):
        response = client.get("/v1.0/auditLogs/signIns", query={"$select": bad})
        assert response.status_code == 400, bad
    assert client.get("/beta/auditLogs/signIns",
                      query={"$select": "networkLocationDetails", "$top": 1}).status_code == 200
    single = client.get("/v1.0/identityProtection/riskyUsers",
                        query={"$select": "riskLevel"}).json()["value"][0]
    assert set(single) == {"riskLevel"}


def test_orderby(client):
    asc = client.get("/v1.0/auditLogs/signIns", query={"$orderby": "createdDateTime asc",
                                                    "$top": 50}).json()["value"]
    stamps = [r["createdDateTime"] for r in asc]
    assert stamps == sorted(stamps, key=_ticks)
    default = client.get("/v1.0/auditLogs/signIns", query={"$top": 50}).json()["value"]
    assert [_ticks(r["createdDateTime"]) for r in default] == sorted(
        (_ticks(r["createdDateTime"]) for r in default), reverse=True)
    # identityProtection documents no $orderby: refused, so no client can come to rely on it.
    for path, prop in (("/v1.0/identityProtection/riskDetections", "lastUpdatedDateTime"),
                       ("/v1.0/identityProtection/riskDetections", "activityDateTime"),
                       ("/v1.0/identityProtection/riskDetections", "detectedDateTime"),
                       ("/v1.0/identityProtection/riskyUsers", "riskLastUpdatedDateTime"),
                       ("/v1.0/auditLogs/signIns", "userId"),
                       ("/v1.0/identityProtection/riskyUsers", "riskLevel"),
                       ("/v1.0/identityProtection/riskDetections", "id"),
                       ("/v1.0/auditLogs/signIns", "createdDateTime sideways")):
        assert client.get(path, query={"$orderby": prop}).status_code == 400, (path, prop)


def test_unsupported_query_options(client):
    for option in ("$skip", "$count", "$expand", "$search"):
        response = client.get("/v1.0/identityProtection/riskDetections", query={option: "1"})
        assert response.status_code == 400, option
    url = f"{client.base}/v1.0/auditLogs/signIns?$top=1&$top=2"
    assert client.get(url).status_code == 400


def test_ties_exist_and_are_ordered_by_id(client):
    rows = client.truth("signIns", select="id,createdDateTime")
    by_time: dict[str, list[str]] = {}
    for row in rows:
        by_time.setdefault(row["createdDateTime"], []).append(row["id"])
    ties = [ids for ids in by_time.values() if len(ids) > 1]
    assert len(ties) > 10
    assert any(len(ids) >= 3 for ids in ties)
    for ids in ties:
        assert ids == sorted(ids, reverse=True)  # (createdDateTime, id) descending


def test_evolvable_enum_members_need_prefer_header(client):
    """Members after unknownFutureValue appear only with Prefer: include-unknown-enum-members."""
    truth = client.truth("riskyUsers")
    evolvable = schema.evolvable("riskDetail")
    hidden = [u for u in truth if u["riskDetail"] in evolvable]
    assert hidden
    plain = {u["id"]: u for u in client.all_pages("/v1.0/identityProtection/riskyUsers",
                                                  query={"$top": 500})}
    for user in hidden:
        assert plain[user["id"]]["riskDetail"] == "unknownFutureValue"
    headers = {"Prefer": "include-unknown-enum-members"}
    response = client.get("/v1.0/identityProtection/riskyUsers", headers=headers,
                          query={"$top": 500})
    assert response.headers["Preference-Applied"] == "include-unknown-enum-members"
    opted = {u["id"]: u for u in response.json()["value"]}
    for user in hidden:
        assert opted[user["id"]]["riskDetail"] == user["riskDetail"]


def test_every_enum_member_is_covered(client):
    seen: dict[str, set[str]] = {name: set() for name in schema.ENUMS}

    def walk(t, value):
        if value is None:
            return
        if isinstance(t, tuple) and t[0] == "enum":
            seen[t[1]].add(value)
        elif isinstance(t, tuple) and t[0] == "collection":
            for item in value:
                walk(t[1], item)
        elif isinstance(t, tuple) and t[0] == "complex":
            for key, sub in t[1].items():
                walk(sub, value.get(key))

    for resource, spec in resources.COLLECTIONS.items():
        props = spec.widest.props
        for record in client.truth(resource):
            for key, t in props.items():
                walk(t, record.get(key))
    for name, members in schema.ENUMS.items():
        assert seen[name] == set(members), name


def test_realistic_people(client):
    users = client.truth("riskyUsers")
    signins = client.truth("signIns", select="userPrincipalName,userDisplayName")
    upns = {s["userPrincipalName"] for s in signins}
    assert any("'" in upn for upn in upns), "an apostrophe UPN (o'brien)"
    assert any(any(ord(c) > 127 for c in s["userDisplayName"]) for s in signins)
    assert any("#EXT#" in upn for upn in upns)
    assert len(users) >= 8


def test_detections_link_to_signins(client):
    detections = client.truth("riskDetections")
    linked = [d for d in detections if d["requestId"]]
    offline = [d for d in detections if d["activity"] == "user"]
    assert linked and offline
    for det in linked[:40]:
        signin = client.get(f"/v1.0/auditLogs/signIns/{det['requestId']}").json()
        assert signin["correlationId"] == det["correlationId"]
        assert signin["userId"] == det["userId"]
        assert det["riskEventType"] in signin["riskEventTypes_v2"]
        assert signin["createdDateTime"] == det["activityDateTime"]
    late = [d for d in offline if _ticks(d["lastUpdatedDateTime"]) - _ticks(
        d["detectedDateTime"]) > 3600 * 10**7]
    assert late, "user-level detections updated hours after detection"
    for det in offline:
        if det["riskState"] == "atRisk":  # untouched by a later remediation
            delay = _ticks(det["lastUpdatedDateTime"]) - _ticks(det["detectedDateTime"])
            assert 0 <= delay <= 48 * 3600 * 10**7, det


def test_risky_users_consistent_with_detections(client):
    users = {u["id"]: u for u in client.truth("riskyUsers")}
    detections = client.truth("riskDetections")
    for det in detections:
        assert det["userId"] in users
    for user in users.values():
        own = [d for d in detections if d["userId"] == user["id"]]
        at_risk = [d for d in own if d["riskState"] == "atRisk"]
        if user["riskState"] == "atRisk":
            assert at_risk
        if user["riskState"] in ("remediated", "dismissed", "confirmedSafe"):
            assert not at_risk and user["riskLevel"] == "none"
        if user["riskState"] == "confirmedCompromised":
            assert user["riskLevel"] == "high"
            assert any(d["riskEventType"] == "adminConfirmedUserCompromised" for d in own)


def test_signins_in_the_30_days_before_the_clock(client):
    rows = client.truth("signIns", select="id,createdDateTime")
    now = _ticks("2025-03-01T12:00:00Z")
    day = 86400 * 10**7
    stamps = [_ticks(r["createdDateTime"]) for r in rows]
    assert now - 30 * day <= min(stamps) and max(stamps) < now
    assert max(stamps) - min(stamps) > 29 * day


def test_deterministic_from_seed():
    from emulator import Emulator

    def sample(seed):
        with Emulator(seed=seed, signins=200, now="2025-01-01T00:00:00Z") as emu:
            c = Client(emu)
            return (emu.tenant_ids, emu.connection()["client_id"],
                    emu.connection()["client_secret"],
                    [r["id"] for r in c.truth("signIns", select="id")][:50],
                    [r["id"] for r in c.truth("riskyUsers", select="id")])

    assert sample(5) == sample(5)
    assert sample(5) != sample(6)


def test_next_link_carries_query(client):
    body = client.get("/v1.0/auditLogs/signIns", query={
        "$filter": "startsWith(appDisplayName,'Graph')", "$top": 10}).json()
    link = body["@odata.nextLink"]
    parts = urlsplit(link)
    assert link.startswith(f"{client.base}/v1.0/auditLogs/signins?")
    query = parse_qs(parts.query)
    assert query["$filter"] == ["startsWith(appDisplayName,'Graph')"]
    assert query["$top"] == ["10"]
    assert "%2C" in link or "%2c" in link  # percent-encoded like Graph's own links


def test_skiptoken_errors(client):
    body = client.get("/v1.0/auditLogs/signIns", query={"$top": 5}).json()
    link = body["@odata.nextLink"]
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    assert client.get(link.replace(token, tampered)).status_code == 400
    assert client.get("/v1.0/auditLogs/signIns", query={"$top": 6, "$skiptoken": token}
                      ).status_code == 400  # the token belongs to another query
    assert client.get("/v1.0/auditLogs/signIns", query={"$skiptoken": "garbage"}).status_code == 400
    assert client.get(link).status_code == 200


def _ticks(text: str) -> int:
    from emulator.timefmt import parse_iso

    return parse_iso(text)


def _csdl() -> tuple[dict[str, dict[str, str]], set[str]]:
    """Entity and complex types of the shared CSDL subset: name -> {property: type}."""
    import xml.etree.ElementTree as ET

    from tests.emulator.support import reference_dir

    root = ET.parse(reference_dir() / "graph-v1.0-subset.csdl.xml").getroot()
    types: dict[str, dict[str, str]] = {}
    bases: dict[str, str] = {}
    for node in root:
        if node.tag in ("EntityType", "ComplexType"):
            name = node.get("Name", "")
            types[name] = {p.get("Name", ""): p.get("Type", "")
                           for p in node if p.tag == "Property"}
            base = node.get("BaseType", "")
            if base.startswith("graph.") and base != "graph.entity":
                bases[name] = base.removeprefix("graph.")
            if node.tag == "EntityType":
                types[name]["id"] = "Edm.String"
    for name, base in bases.items():
        types[name] = {**types[base], **types[name]}
    complex_names = {n.get("Name", "") for n in root if n.tag == "ComplexType"}
    return types, complex_names


def _check_against_csdl(value, type_name, types, complex_names, path, problems):
    if value is None:
        return
    inner = type_name.removeprefix("Collection(").removesuffix(")")
    short = inner.removeprefix("graph.")
    if type_name.startswith("Collection("):
        for item in value:
            _check_against_csdl(item, inner, types, complex_names, f"{path}[]", problems)
    elif short in complex_names:
        extra = set(value) - set(types[short])
        if extra:
            problems.append(f"{path}: not in v1.0 {short}: {sorted(extra)}")
        for key, sub in value.items():
            if key in types[short]:
                _check_against_csdl(sub, types[short][key], types, complex_names,
                                    f"{path}/{key}", problems)


@pytest.mark.parametrize("entity,path", [
    ("signIn", "/v1.0/auditLogs/signIns"),
    ("riskDetection", "/v1.0/identityProtection/riskDetections"),
    ("riskyUser", "/v1.0/identityProtection/riskyUsers"),
    ("riskyUserHistoryItem", "/v1.0/identityProtection/riskyUsers/{uid}/history"),
])
def test_v1_records_follow_the_csdl(client, entity, path):
    """Checked against the shared CSDL, not the emulator's own schema: every v1.0 property is
    present and nothing beta-only leaks in, nested objects included."""
    types, complex_names = _csdl()
    uid = client.truth("riskyUsers", select="id")[0]["id"]
    records = client.all_pages(path.format(uid=uid), query={"$top": 500})
    problems: list[str] = []
    for record in records:
        if set(record) != set(types[entity]):
            problems.append(f"top level: {sorted(set(record) ^ set(types[entity]))}")
        for key, value in record.items():
            if key in types[entity]:
                _check_against_csdl(value, types[entity][key], types, complex_names, key,
                                    problems)
    assert not problems, sorted(set(problems))[:10]


def test_repeated_pages_are_identical_and_prefer_is_honoured(client):
    """Pages come from a serialisation cache the second time; it must key on Prefer too."""
    first = client.get("/v1.0/auditLogs/signIns", query={"$top": 300}).content
    assert client.get("/v1.0/auditLogs/signIns", query={"$top": 300}).content == first
    prefer = {"Prefer": "include-unknown-enum-members"}
    plain = client.get("/v1.0/auditLogs/signIns", query={"$top": 300}).json()["value"]
    opted = client.get("/v1.0/auditLogs/signIns", headers=prefer,
                       query={"$top": 300}).json()["value"]
    assert [r["id"] for r in plain] == [r["id"] for r in opted]
    results = {p["result"] for r in opted for p in r["appliedConditionalAccessPolicies"]}
    assert results & schema.evolvable("appliedConditionalAccessPolicyResult")
    results = {p["result"] for r in plain for p in r["appliedConditionalAccessPolicies"]}
    assert not results & schema.evolvable("appliedConditionalAccessPolicyResult")
    assert "unknownFutureValue" in results
