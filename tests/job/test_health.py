"""The job's health check is Test Connection's probe, narrowed to the job's event types; with
no ``--event-type`` the job fetches the reference's three event types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from commands.graph.client import GraphClient
from commands.graph.settings import GraphSettings
from commands.job_cli import GraphJobHooks
from commands.job_sources import GraphConnection
from executor.redaction import Redactor
from tests.commands.support import graph_calls
from tests.control import EmulatorControl
from tests.job.emu import event_types, plugin

REFERENCE_ROLES = ["AuditLog.Read.All", "IdentityRiskEvent.Read.All",
                   "IdentityRiskyUser.Read.All"]


@pytest.fixture(scope="module")
def tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    from emulator import Emulator

    with Emulator(seed=8, signins=50) as emu:
        yield emu, EmulatorControl(emu)


def _connection(connection: dict[str, Any], names: Any = None) -> GraphConnection:
    client = GraphClient(GraphSettings.from_connection(connection), redactor=Redactor(),
                         sleep=lambda seconds: None, pace=False)
    return GraphConnection(client, event_types(), event_types=names)


def test_default_event_types_are_the_references_three() -> None:
    assert GraphJobHooks().event_type_names(plugin()) == ("signIn", "riskDetection", "riskUser")


def test_an_app_set_up_from_the_reference_passes_the_default_health_check(
        tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    app = control.post("apps", {"roles": REFERENCE_ROLES})
    connection = {**emu.connection(), **app}
    control.clear_requests()
    job = _connection(connection, GraphJobHooks().event_type_names(plugin()))
    try:
        message = job.health_check()
    finally:
        job.close()
    assert "auditLogs/signIns" in message
    reads = graph_calls(control)
    assert len(reads) == 3 and all(r["params"] == {"$top": "1"} for r in reads)
    # every event type would need the service-principal role this app lacks
    everything = _connection(connection)
    try:
        with pytest.raises(PermissionError, match=r"IdentityRiskyServicePrincipal\.Read\.All"):
            everything.health_check()
    finally:
        everything.close()


def test_health_check_fails_when_graph_answers_5xx(tenant: tuple[Any, EmulatorControl]) -> None:
    emu, control = tenant
    control.faults(rate=1.0, statuses=[500], retry_after=None, seed=4, path="/v1.0/")
    job = _connection(emu.connection(app="readonly"), ["signIn"])
    try:
        with pytest.raises(Exception, match=r"500|Internal"):
            job.health_check()
    finally:
        control.faults()
        job.close()
