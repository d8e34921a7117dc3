"""Keyset paging: every record exactly once, also while records are added or changed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from emulator import Emulator
from emulator.timefmt import parse_iso
from tests.emulator.support import Client

NOW = "2025-03-01T12:00:00Z"


@pytest.fixture(scope="module")
def big() -> Iterator[Client]:
    with Emulator(seed=21, signins=100_000, now=NOW, frozen=True) as emu:
        yield Client(emu)


def test_100k_signins_each_exactly_once(big):
    truth = [r["id"] for r in big.truth("signIns", select="id")]
    assert len(truth) == 100_000 == len(set(truth))
    seen: list[str] = []
    pages = 0
    body = big.get("/v1.0/auditLogs/signIns", query={"$select": "id,createdDateTime"}).json()
    while True:
        pages += 1
        assert len(body["value"]) == 1000 or "@odata.nextLink" not in body
        seen += [r["id"] for r in body["value"]]
        link = body.get("@odata.nextLink")
        if not link:
            break
        body = big.get(link).json()
    assert pages == 100
    assert seen == truth  # same order as the ground truth: createdDateTime desc, then id desc
    assert not [k for k, n in Counter(seen).items() if n > 1]


def test_time_window_paging_is_a_range(big):
    rows = big.truth("signIns", select="id,createdDateTime")
    lo, hi = rows[60_000]["createdDateTime"], rows[40_000]["createdDateTime"]
    got = big.all_pages("/v1.0/auditLogs/signIns", query={
        "$filter": f"createdDateTime ge {lo} and createdDateTime le {hi}",
        "$select": "id"})
    expected = [r["id"] for r in rows
                if parse_iso(lo) <= parse_iso(r["createdDateTime"]) <= parse_iso(hi)]
    assert [r["id"] for r in got] == expected
    assert len(expected) >= 20_001


def test_keyset_paging_records_added_mid_paging_cause_no_skip_or_repeat(fresh):
    fresh.control("POST", "behaviour", {"paging": "keyset"})
    path = "/v1.0/auditLogs/signIns"
    before = [r["id"] for r in fresh.truth("signIns", select="id")]
    body = fresh.get(path, query={"$top": 100}).json()
    seen = [r["id"] for r in body["value"]]
    newest = body["value"][0]["createdDateTime"]
    middle = body["value"][-1]["createdDateTime"]
    # A record newer than the cursor, one exactly at the cursor's time, and one far older.
    added = fresh.control("POST", "records/signIns", {"records": [
        {"createdDateTime": newest}, {"createdDateTime": middle},
        {"createdDateTime": "2025-02-01T00:00:00Z"}]})["value"]
    link = body["@odata.nextLink"]
    while link:
        body = fresh.get(link).json()
        seen += [r["id"] for r in body["value"]]
        link = body.get("@odata.nextLink")
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)  # no unchanged record skipped
    assert added[2]["id"] in seen  # older than the cursor: still ahead, so delivered


def test_offset_paging_repeats_what_inserts_push_down(fresh):
    """Graph's default: a token is a position, so a record inserted ahead of it shifts the
    rest down and the next page starts with the last one already served."""
    assert fresh.control("GET", "behaviour")["paging"] == "offset"
    path = "/v1.0/auditLogs/signIns"
    before = [r["id"] for r in fresh.truth("signIns", select="id")]
    body = fresh.get(path, query={"$top": 100}).json()
    seen = [r["id"] for r in body["value"]]
    fresh.control("POST", "records/signIns", {"records": [
        {"createdDateTime": body["value"][0]["createdDateTime"]}]})
    second = fresh.get(body["@odata.nextLink"]).json()
    assert second["value"][0]["id"] == seen[-1]  # repeated
    seen += [r["id"] for r in second["value"]]
    link = second.get("@odata.nextLink")
    while link:
        page = fresh.get(link).json()
        seen += [r["id"] for r in page["value"]]
        link = page.get("@odata.nextLink")
    assert len(seen) == len(before) + 1 and set(seen) == set(before)


def test_offset_paging_without_changes_equals_keyset(fresh):
    listed = {}
    for mode in ("offset", "keyset"):
        fresh.control("POST", "behaviour", {"paging": mode})
        listed[mode] = [r["id"] for r in fresh.all_pages("/v1.0/auditLogs/signIns",
                                                         query={"$top": 70})]
    assert listed["offset"] == listed["keyset"]
    assert listed["offset"] == [r["id"] for r in fresh.truth("signIns", select="id")]


def test_risk_detection_paging_by_last_updated_while_changing(fresh):
    path = "/v1.0/identityProtection/riskDetections"
    params = {"$top": 10}  # opaque id order: a change must not move a record across pages
    body = fresh.get(path, query=params).json()
    seen = [r["id"] for r in body["value"]]
    all_ids = {r["id"] for r in fresh.truth("riskDetections", select="id")}
    # Changing the user of a not-yet-seen detection moves its detections to "now".
    users = fresh.truth("riskyUsers")
    target = next(u for u in users if u["riskState"] == "atRisk")
    fresh.control("POST", "clock", {"advance_seconds": 60})
    assert fresh.post("/v1.0/identityProtection/riskyUsers/dismiss",
                      {"userIds": [target["id"]]}).status_code == 204
    link = body["@odata.nextLink"]
    while link:
        body = fresh.get(link).json()
        seen += [r["id"] for r in body["value"]]
        link = body.get("@odata.nextLink")
    counts = Counter(seen)
    changed = {d["id"] for d in fresh.truth("riskDetections")
               if d["userId"] == target["id"]}
    repeated = {k for k, n in counts.items() if n > 1}
    assert repeated <= changed  # only changed records may show up again
    assert all_ids <= set(seen)


def test_empty_short_pages_still_link_on(fresh):
    """A selective filter over a scan budget gives short pages with a nextLink, as Graph may."""
    fresh.emu.graph_api.scan_budget = 50
    try:
        rows = fresh.all_pages("/v1.0/auditLogs/signIns", query={
            "$filter": "status/errorCode eq 50126", "$select": "id"})
    finally:
        fresh.emu.graph_api.scan_budget = 20_000
    expected = [r["id"] for r in fresh.truth("signIns", select="id,status")
                if r["status"]["errorCode"] == 50126]
    assert [r["id"] for r in rows] == expected
