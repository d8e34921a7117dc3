"""Shared fixtures: one seeded emulator tenant per test session, over real HTTPS on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.control import EmulatorControl, SteppedClock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _own_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite (and the processes it starts) keep their cache out of the user's."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from emulator import Emulator

    with Emulator(seed=7, signins=3000) as emu:
        yield emu


@pytest.fixture(scope="session")
def control(emulator: Any) -> EmulatorControl:
    return EmulatorControl(emulator)


@pytest.fixture
def connection(emulator: Any) -> dict[str, Any]:
    return emulator.connection()


@pytest.fixture(scope="session")
def connector() -> Any:
    from connector import Connector

    return Connector.load(ROOT)


@pytest.fixture
def clock(control: EmulatorControl) -> SteppedClock:
    """Waits of the Graph client become steps of the emulator's clock."""
    return SteppedClock(control)
