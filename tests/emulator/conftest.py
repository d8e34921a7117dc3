"""Fixtures: real HTTPS emulators on free loopback ports, and a small client for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import Emulator
from tests.emulator.support import Client

NOW = "2025-03-01T12:00:00Z"


@pytest.fixture(scope="session")
def emu() -> Iterator[Emulator]:
    """The shared, read-only tenant: tests using it must not change its state."""
    with Emulator(seed=42, signins=5000, now=NOW, frozen=True) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def client(emu: Emulator) -> Client:
    return Client(emu)


@pytest.fixture()
def fresh() -> Iterator[Client]:
    """A private emulator for tests that change state (actions, clock, faults, records)."""
    with Emulator(seed=7, signins=600, now=NOW, frozen=True) as emulator:
        yield Client(emulator)
