"""One console per test session, served over real HTTP on 127.0.0.1, with the session's
emulator tenant as its connections; one headless system Chromium per session drives it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
PASSPHRASE = "pa$$ phrase/ü+=&console"  # a made-up certificate passphrase, never to be shown


class FixedClock:
    """The console's idea of now, set by the test."""

    def __init__(self) -> None:
        self.value = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.value


@dataclass
class ConsoleSession:
    url: str
    base: str
    token: str
    csrf: str
    clock: FixedClock
    state_path: Path
    job_dir: Path
    secrets: list[str]
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)


def _write_connection(directory: Path, name: str, connection: dict[str, Any]) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(connection), encoding="utf-8")
    return path


def run_job(directory: Path, emulator: Any) -> Path:
    """One real cycle of the fetch job: a healthy tenant and one whose app has no roles."""
    state = directory / "job.db"
    full = _write_connection(directory, "tenant", emulator.connection())
    none = _write_connection(directory, "no-roles", emulator.connection(app="none"))
    subprocess.run(
        [sys.executable, str(ROOT / "connector.py"), "job", "run", "--connection", str(full),
         "--connection", str(none), "--state", str(state), "--sink",
         str(directory / "events.ndjson"), "--event-type", "riskDetection"],
        check=False, capture_output=True, timeout=120, cwd=ROOT)
    return state


@pytest.fixture(scope="session")
def console(emulator: Any, connector: Any) -> Iterator[ConsoleSession]:
    from console.app import ConsoleConfig
    from console.connections import Connections
    from console.server import running

    directory = Path(tempfile.mkdtemp(prefix="console-test-"))
    state = run_job(directory, emulator)
    connections = Connections(connector.plugin.manifest)
    full = emulator.connection()
    cert = {**emulator.connection(app="cert"), "certificate_passphrase": PASSPHRASE}
    given = {"emulator": full, "no-roles": emulator.connection(app="none"), "cert": cert}
    for label, parameters in given.items():
        connections.add(label, parameters)
    clock = FixedClock()
    config = ConsoleConfig(connector, connections, state_path=state, now=clock,
                           refresh_seconds=0.5)
    try:
        with running(config) as url:
            base = url.split("/?", 1)[0]
            yield ConsoleSession(url=url, base=base, token=config.keys.token,
                                 csrf=config.keys.csrf, clock=clock, state_path=state,
                                 job_dir=directory,
                                 secrets=[*(c["client_secret"] for c in given.values()
                                            if c.get("client_secret")), PASSPHRASE],
                                 connections=given)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


@dataclass
class Seen:
    """One response the browser received, read when it arrived."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Browser:
    context: Any
    responses: list[Seen] = field(default_factory=list)

    def record(self, request: Any) -> None:
        response = request.response()
        if response is None:
            return
        try:
            body = response.body()
        except Exception:  # a redirect has no body
            body = b""
        self.responses.append(Seen(response.url, response.all_headers(), body))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900}, accept_downloads=True)
        context.set_default_timeout(30_000)
        shared = Browser(context)
        context.on("requestfinished", shared.record)
        try:
            yield shared
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Browser, console: ConsoleSession) -> Iterator[Any]:
    """A tab that has entered the console through its tokened URL."""
    tab = browser.context.new_page()
    tab.goto(console.url)
    yield tab
    tab.close()
