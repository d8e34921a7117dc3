"""Hostile on purpose (issue 11): `"verbatim": true` records are stored and served exactly as
given — malformed times, missing fields, non-object items — so a client's defences can be
tested against the emulator over HTTPS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator.support import Client

SIGNINS = "/v1.0/auditLogs/signIns"
HOSTILE: list[Any] = [
    {"id": "bad-time", "createdDateTime": "2026-13-45T25:61:61Z"},
    {"id": "future", "createdDateTime": "2099-01-01T00:00:00Z", "userPrincipalName": "x@y"},
    {"createdDateTime": "2025-02-28T00:00:00Z"},  # no id
    {"id": "no-time"},
    42, "text", None, [1, 2], {"id": "unicode-☃", "extra": {"nested": [True, 1.5e300]}},
]


def raw_values(response: Any) -> list[Any]:
    assert response.status_code == 200, response.text
    return json.loads(response.content)["value"]


@pytest.mark.parametrize(("resource", "path"), [
    ("signIns", SIGNINS),
    ("riskDetections", "/v1.0/identityProtection/riskDetections"),
    ("riskyServicePrincipals", "/v1.0/identityProtection/riskyServicePrincipals"),
])
def test_verbatim_records_are_served_exactly_as_given(fresh: Client, resource: str,
                                                      path: str) -> None:
    echoed = fresh.control("POST", f"records/{resource}", {"records": HOSTILE,
                                                           "verbatim": True})
    assert echoed["value"] == HOSTILE
    first = raw_values(fresh.get(path, query={"$top": 5}))
    assert first[-len(HOSTILE):] == HOSTILE  # after the page's own records, untouched
    assert first[:-len(HOSTILE)] and all(isinstance(r, dict) and "id" in r
                                         for r in first[:-len(HOSTILE)])
    link = fresh.get(path, query={"$top": 5}).json()["@odata.nextLink"]
    assert not any(r in HOSTILE for r in raw_values(fresh.get(link)))  # once per listing
    assert fresh.truth(resource)[-len(HOSTILE):] == HOSTILE  # in the ground truth too


def test_verbatim_ignores_the_query(fresh: Client) -> None:
    fresh.control("POST", "records/signIns", {"records": HOSTILE[:2], "verbatim": True})
    page = raw_values(fresh.get(SIGNINS, query={
        "$filter": "userPrincipalName eq 'nobody@nowhere'", "$select": "id"}))
    assert page == HOSTILE[:2]


def test_verbatim_records_can_arrive_late(fresh: Client) -> None:
    now = fresh.control("GET", "clock")["now"]
    fresh.control("POST", "records/signIns", {"records": [{"id": "late"}], "verbatim": True,
                                              "visible_from": "2025-03-01T12:00:10Z"})
    assert now.startswith("2025-03-01T12:00:00")
    assert {"id": "late"} not in raw_values(fresh.get(SIGNINS))
    fresh.control("POST", "clock", {"advance_seconds": 10})
    assert raw_values(fresh.get(SIGNINS))[-1] == {"id": "late"}


def test_without_verbatim_records_are_still_checked(fresh: Client) -> None:
    for body in ({"records": [42]}, {"records": [HOSTILE[0]]},
                 {"records": HOSTILE, "verbatim": "yes"}):
        response = fresh.session.post(f"{fresh.base}/_emulator/records/signIns", json=body)
        assert response.status_code == 400, body
    assert not any(r.get("id") == "bad-time" for r in fresh.truth("signIns", select="id"))
