"""The Graph client against its own emulator (frozen clock, so time moves only when told).

The client's sleep advances the emulator clock and records the wait; its monotonic clock is the
sum of those waits, which on a frozen emulator is exactly the emulator's time since the start.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from commands.graph.client import GraphClient
from commands.graph.retry import RetryPolicy
from commands.graph.settings import GraphSettings
from executor.redaction import Redactor
from tests.control import EmulatorControl


class TestClock:
    """Sleeps by moving the emulator clock; never really sleeps."""

    __test__ = False

    def __init__(self, control: EmulatorControl) -> None:
        self.control = control
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self.control.post("clock", {"advance_seconds": seconds})
            self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def graph_emu() -> Iterator[Any]:
    from emulator import Emulator

    with Emulator(seed=11, signins=2500, frozen=True) as emu:
        yield emu


@pytest.fixture(scope="session")
def _session_ctl(graph_emu: Any) -> EmulatorControl:
    return EmulatorControl(graph_emu)


@pytest.fixture
def ctl(_session_ctl: EmulatorControl) -> Iterator[EmulatorControl]:
    """The control API, with faults off, rate limits off, default token life, an empty log."""
    _session_ctl.post("faults", {"rate_limits": False})
    _session_ctl.post("tokens", {"lifetime_seconds": 3600})
    _session_ctl.clear_requests()
    yield _session_ctl
    _session_ctl.post("faults", {"rate_limits": False})


@pytest.fixture
def clock(ctl: EmulatorControl) -> TestClock:
    return TestClock(ctl)


@pytest.fixture
def make_client(graph_emu: Any, clock: TestClock) -> Iterator[Callable[..., GraphClient]]:
    clients: list[GraphClient] = []

    def make(app: str = "full", *, retry: RetryPolicy | None = None, pace: bool = False,
             redactor: Redactor | None = None, **overrides: Any) -> GraphClient:
        connection = graph_emu.connection(app=app)
        connection.update(overrides)
        client = GraphClient(GraphSettings.from_connection(connection),
                             redactor=redactor or Redactor(), sleep=clock.sleep,
                             monotonic=clock.monotonic, retry=retry, pace=pace,
                             rng=random.Random(7))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def when(entry: dict[str, Any]) -> float:
    """A request-log entry's emulator time, in seconds."""
    return datetime.fromisoformat(entry["time"]).timestamp()


def graph_calls(ctl: EmulatorControl, prefix: str = "/v1.0/") -> list[dict[str, Any]]:
    return [r for r in ctl.graph_requests() if r["path"].startswith(prefix)]


def token_calls(ctl: EmulatorControl) -> list[dict[str, Any]]:
    return [r for r in ctl.graph_requests() if r["path"].endswith("/oauth2/v2.0/token")]


def truth_ids(ctl: EmulatorControl, resource: str) -> list[str]:
    return [r["id"] for r in ctl.get(f"records/{resource}", select="id")["value"]]
