"""The real commands against each behaviour switch of the strict emulator (issue 10).

A tenant of its own (switches change what every request sees); each test sets the switches it
needs and the fixture puts the defaults back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from commands.graph.client import GraphClient
from commands.graph.settings import GraphSettings
from executor.redaction import Redactor
from tests.commands.support import graph_calls
from tests.control import EmulatorControl, SteppedClock

DEFAULTS = {"paging": "offset", "signin_time_precision": "seconds",
            "string_compare": "insensitive", "unknown_ids": "404", "action_delay_seconds": 0,
            "licence": "P2", "identity_protection_background_rps": 0}
UNKNOWN = "00000000-0000-4000-8000-0000000000{:02d}"


@pytest.fixture(scope="module")
def tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    from emulator import Emulator

    with Emulator(seed=23, signins=6000) as emu:
        yield emu, EmulatorControl(emu)


@pytest.fixture
def switch(tenant: tuple[Any, EmulatorControl]) -> Iterator[Any]:
    _, control = tenant
    control.clear_requests()

    def set_(**values: Any) -> None:
        control.post("behaviour", values)

    yield set_
    control.post("behaviour", DEFAULTS)
    control.post("faults", {"rate_limits": False})


class InsertingClock(SteppedClock):
    """The first wait of the client (its pacer, before the sixth sign-in page) is when other
    sign-ins arrive: newest first, they land ahead of the listing's position."""

    def __init__(self, control: EmulatorControl, count: int) -> None:
        super().__init__(control)
        self.count = count
        self.inserted: list[str] = []

    def sleep(self, seconds: float) -> None:
        if not self.inserted and seconds > 0:
            self.control.advance(1)
            stored = self.control.post("records/signIns", {"records": [{}] * self.count})
            self.inserted = [r["id"] for r in stored["value"]]
        super().sleep(seconds)


def truth(control: EmulatorControl, resource: str) -> list[str]:
    return [r["id"] for r in control.records(resource, select="id")]


@pytest.mark.parametrize("paging", ["offset", "keyset"])
def test_list_sign_in_returns_no_id_twice_with_inserts_mid_listing(
        paging: str, connector: Any, tenant: tuple[Any, EmulatorControl], switch: Any) -> None:
    emu, control = tenant
    switch(paging=paging)
    before = set(truth(control, "signIns"))
    clock = InsertingClock(control, 40)
    result = connector.run("List Sign-In", {}, emu.connection(), options=clock.options())
    assert result["status"] == "Successful", result["errors"]
    assert len(clock.inserted) == 40  # records did arrive mid-listing
    ids = [r["id"] for r in result["raw_data"]["value"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == before  # nothing skipped; the newcomers sit ahead of the cursor


def test_offset_paging_really_repeats_what_the_listing_removes(
        tenant: tuple[Any, EmulatorControl], switch: Any) -> None:
    """The control for the test above: the bare paging of the client sees the repeats."""
    emu, control = tenant
    switch(paging="offset")
    clock = InsertingClock(control, 40)
    client = GraphClient(GraphSettings.from_connection(emu.connection()), redactor=Redactor(),
                         sleep=clock.sleep, monotonic=clock.monotonic)
    with client:
        raw = [i["id"] for p in client.iter_pages("auditLogs/signIns", {"$top": 1000})
               for i in p["value"]]
    assert len(raw) - len(set(raw)) == 40


@pytest.mark.parametrize("paging", ["offset", "keyset"])
def test_fetch_event_returns_no_id_twice_with_inserts_mid_listing(
        paging: str, connector: Any, tenant: tuple[Any, EmulatorControl], switch: Any) -> None:
    emu, control = tenant
    switch(paging=paging)
    clock = InsertingClock(control, 40)
    now = datetime.fromisoformat(control.get("clock")["now"])
    start = (now - timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = connector.run("Fetch Event", {"Event Type": "Sign-in Logs", "Start Time": start},
                           emu.connection(), options=clock.options())
    assert result["status"] == "Successful", result["errors"]
    assert clock.inserted
    ids = [e["id"] for e in result["raw_data"]["value"]]
    assert len(ids) > 5000 and len(ids) == len(set(ids))


@pytest.mark.parametrize("precision", ["seconds", "ticks"])
def test_sign_ins_either_precision_list_whole(precision: str, connector: Any,
                                              tenant: tuple[Any, EmulatorControl],
                                              switch: Any) -> None:
    emu, control = tenant
    switch(signin_time_precision=precision)
    result = connector.run("List Sign-In", {"Top": 300}, emu.connection(),
                           options=SteppedClock(control).options())
    assert result["status"] == "Successful", result["errors"]
    times = [r["createdDateTime"] for r in result["raw_data"]["value"]]
    assert len(times) == 300 and times == sorted(times, reverse=True)
    whole = all(t.endswith("Z") and "." not in t for t in times)
    assert whole == (precision == "seconds")


@pytest.mark.parametrize("compare", ["insensitive", "sensitive"])
def test_a_filter_matches_in_either_string_comparison(compare: str, connector: Any,
                                                      tenant: tuple[Any, EmulatorControl],
                                                      switch: Any) -> None:
    emu, control = tenant
    switch(string_compare=compare)
    user = control.records("riskyUsers")[0]
    upn = user["userPrincipalName"]
    for given, matches in ((upn, True), (upn.upper(), compare == "insensitive")):
        result = connector.run("List Risky Users",
                               {"Filter": f"userPrincipalName eq '{given}'"},
                               emu.connection(), options=SteppedClock(control).options())
        assert result["status"] == "Successful", result["errors"]
        found = [r["id"] for r in result["raw_data"]["value"]]
        assert found == ([user["id"]] if matches else [])


@pytest.mark.parametrize("mode", ["404", "400", "204"])
def test_twenty_ids_ten_unknown_cost_at_most_23_requests(mode: str, connector: Any,
                                                         tenant: tuple[Any, EmulatorControl],
                                                         switch: Any) -> None:
    emu, control = tenant
    switch(unknown_ids=mode)
    known = [r["id"] for r in control.records("riskyUsers")][:10]
    unknown = [UNKNOWN.format(n) for n in range(10)]
    ids = [i for pair in zip(known, unknown, strict=True) for i in pair]
    control.clear_requests()
    result = connector.run("Dismiss Risky User", {"User IDs": json.dumps(ids)},
                           emu.connection(), options=SteppedClock(control).options())
    calls = graph_calls(control, "/identityProtection/")
    assert len(calls) <= math.ceil(20 / 60) + 2 * 10 + 2
    outcomes = {o["id"]: o for o in result["context_data"]["results"]}
    assert list(outcomes) == ids
    after = {r["id"]: r["riskState"] for r in control.records("riskyUsers")}
    assert all(after[i] == "dismissed" for i in known)  # the known ids were acted on
    if mode == "204":  # Graph says nothing about each id: the result must not claim more
        assert result["status"] == "Successful"
        assert all(o["outcome"] == "succeeded" and not o["verified"]
                   and "not verified" in o["message"] for o in outcomes.values())
    else:
        assert result["status"] == "Partially Successful"
        assert [i for i in ids if outcomes[i]["outcome"] == "succeeded"] == known
        assert [i for i in ids if outcomes[i]["outcome"] == "failed"] == unknown
        assert {outcomes[i]["status_code"] for i in unknown} == {int(mode)}
        assert len(calls) == 3  # the batch, one read of which ids exist, the known again


@pytest.mark.parametrize("mode", ["404", "400", "204"])
def test_service_principal_actions_in_each_unknown_ids_mode(
        mode: str, connector: Any, tenant: tuple[Any, EmulatorControl], switch: Any) -> None:
    emu, control = tenant
    switch(unknown_ids=mode)
    known = [r["id"] for r in control.records("riskyServicePrincipals")][:3]
    unknown = [UNKNOWN.format(50)]
    control.clear_requests()
    result = connector.run("Dismiss Risky Service Principal",
                           {"Service Principal IDs": ",".join(known + unknown)},
                           emu.connection(), options=SteppedClock(control).options())
    outcomes = {o["id"]: o["outcome"] for o in result["context_data"]["results"]}
    expected_unknown = "succeeded" if mode == "204" else "failed"
    assert outcomes == {**dict.fromkeys(known, "succeeded"),
                        **dict.fromkeys(unknown, expected_unknown)}
    assert len(graph_calls(control, "/identityProtection/")) <= 1 + 2 * 1 + 2


def test_many_known_ids_cost_one_request_per_batch(connector: Any,
                                                   tenant: tuple[Any, EmulatorControl],
                                                   switch: Any) -> None:
    emu, control = tenant
    switch(unknown_ids="404")
    ids = [r["id"] for r in control.records("riskyUsers")][:70]
    result = connector.run("Confirm Safe", {"User IDs": json.dumps(ids)}, emu.connection(),
                           options=SteppedClock(control).options())
    assert result["status"] == "Successful"
    assert len(graph_calls(control, "/identityProtection/")) == math.ceil(len(ids) / 60)


@pytest.mark.parametrize("licence", ["P2", "P1", "free"])
def test_licence_refusals_name_the_licence_not_a_permission(
        licence: str, connector: Any, tenant: tuple[Any, EmulatorControl], switch: Any) -> None:
    emu, control = tenant
    switch(licence=licence)
    options = SteppedClock(control).options()
    signins = connector.run("List Sign-In", {"Top": 5}, emu.connection(), options=options)
    users = connector.run("List Risky Users", {"Top": 5}, emu.connection(), options=options)
    detections = connector.run("List Risk Detections", {"Top": 5}, emu.connection(),
                               options=options)
    assert (signins["status"] == "Successful") == (licence != "free")
    assert (users["status"] == "Successful") == (licence == "P2")
    assert (detections["status"] == "Successful") == (licence != "free")
    if licence == "P1":  # served, with the risk hidden
        assert {d["riskLevel"] for d in detections["raw_data"]["value"]} == {"hidden"}
    if licence == "free":
        for result, needed in ((signins, "P1 or P2"), (detections, "P2")):
            (error,) = result["errors"]
            assert error["status_code"] == 403 and needed in error["message"]
            assert "needs the application permission" not in error["message"]
    if licence != "P2":
        (error,) = users["errors"]
        assert error["status_code"] == 403 and "P2" in error["message"]
        assert "licence" in error["message"]
        assert "needs the application permission" not in error["message"]


@pytest.mark.parametrize("rps", [0.5, 1.0])
def test_other_apps_load_on_identity_protection(rps: float, connector: Any,
                                                tenant: tuple[Any, EmulatorControl],
                                                switch: Any) -> None:
    emu, control = tenant
    switch(identity_protection_background_rps=rps)
    options = SteppedClock(control).options()
    results = [connector.run("List Risk Detections", {"Top": 5}, emu.connection(),
                             options=options) for _ in range(12 if rps < 1 else 1)]
    throttled = [c for c in graph_calls(control, "/identityProtection/") if c["status"] == 429]
    # other apps' load, and (each run is a new client with its own pacer) our own runs
    assert {c["fault"] for c in throttled} - {"rate_limit"} == {"background_load"}
    if rps < 1:
        assert all(r["status"] == "Successful" for r in results), results[-1]["errors"]
    else:
        (result,) = results
        assert result["status"] == "Failed"
        assert "throttling this tenant's identityProtection requests" in \
            result["errors"][0]["message"]


@pytest.mark.parametrize("name", ["Confirm Compromised", "Dismiss Risky Service Principal"])
def test_read_back_waits_for_graph_to_settle(name: str, connector: Any,
                                             tenant: tuple[Any, EmulatorControl],
                                             switch: Any) -> None:
    emu, control = tenant
    switch(action_delay_seconds=20)
    resource, label, state = (("riskyUsers", "User IDs", "confirmedCompromised")
                              if "Compromised" in name else
                              ("riskyServicePrincipals", "Service Principal IDs", "dismissed"))
    ids = [r["id"] for r in control.records(resource) if r["riskState"] != state][:3]
    clock = SteppedClock(control)
    result = connector.run(name, {label: ",".join(ids), "Read Back Seconds": 60},
                           emu.connection(), options=clock.options())
    assert result["status"] == "Successful", result["errors"]
    outcomes = result["context_data"]["results"]
    assert all(o["verified"] and o["message"] == f"read back: riskState {state}"
               for o in outcomes)
    assert 20 <= sum(clock.slept) <= 60  # it waited on the emulator's clock, not longer


def test_read_back_reports_a_state_that_has_not_settled(connector: Any,
                                                        tenant: tuple[Any, EmulatorControl],
                                                        switch: Any) -> None:
    emu, control = tenant
    switch(action_delay_seconds=120)
    ids = [r["id"] for r in control.records("riskyUsers") if r["riskState"] != "dismissed"][:2]
    clock = SteppedClock(control)
    result = connector.run("Dismiss Risky User", {"User IDs": ",".join(ids),
                                                  "Read Back Seconds": 10},
                           emu.connection(), options=clock.options())
    outcomes = result["context_data"]["results"]
    assert [o["outcome"] for o in outcomes] == ["succeeded", "succeeded"]
    assert not any(o["verified"] for o in outcomes)
    assert all("still" in o["message"] and "isProcessing true" in o["message"]
               for o in outcomes)
    assert 10 <= sum(clock.slept) <= 15  # the budget, plus the pacing of the reads


def test_read_back_finds_the_unknown_ids_a_204_ignored(connector: Any,
                                                       tenant: tuple[Any, EmulatorControl],
                                                       switch: Any) -> None:
    emu, control = tenant
    switch(unknown_ids="204")
    known = [r["id"] for r in control.records("riskyUsers")][-2:]
    unknown = [UNKNOWN.format(70)]
    result = connector.run("Confirm Safe", {"User IDs": ",".join(known + unknown),
                                            "Read Back Seconds": 30},
                           emu.connection(), options=SteppedClock(control).options())
    assert result["status"] == "Partially Successful"
    outcomes = {o["id"]: (o["outcome"], o["verified"]) for o in
                result["context_data"]["results"]}
    assert outcomes == {**dict.fromkeys(known, ("succeeded", True)),
                        unknown[0]: ("failed", False)}
    assert result["key_fields"]["failed"] == unknown
