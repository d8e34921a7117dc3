"""Test-side access to the emulator's control API (SPEC §9) over real HTTPS."""

from __future__ import annotations

from typing import Any

import requests


class EmulatorControl:
    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE must not override the test CA

    def _url(self, path: str) -> str:
        return f"{self.emu.base_url}/_emulator/{path}"

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self._url(path), params=params, verify=self.emu.ca_bundle,
                                    timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any, **params: Any) -> Any:
        response = self.session.post(self._url(path), json=body, params=params,
                                     verify=self.emu.ca_bundle, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def requests(self) -> list[dict[str, Any]]:
        return self.get("requests")["value"]

    def graph_requests(self) -> list[dict[str, Any]]:
        """Requests to Graph or the token endpoint (everything but the control API)."""
        return [r for r in self.requests() if not r["path"].startswith("/_emulator")]

    def clear_requests(self) -> None:
        response = self.session.delete(self._url("requests"), verify=self.emu.ca_bundle,
                                       timeout=30)
        response.raise_for_status()

    def advance(self, seconds: float) -> None:
        self.post("clock", {"advance_seconds": seconds})

    def faults(self, **settings: Any) -> None:
        self.post("faults", settings)

    def records(self, resource: str, **params: Any) -> list[dict[str, Any]]:
        return self.get(f"records/{resource}", **params)["value"]


class SteppedClock:
    """A monotonic clock that moves only when slept on; every sleep also advances the emulator.

    Handed to the Graph client (``options={"sleep": ..., "monotonic": ...}``), it turns pacing
    and Retry-After waits into clock steps: tests never sleep, and the emulator's rate limits and
    Retry-After windows still see the time pass.
    """

    def __init__(self, control: EmulatorControl) -> None:
        self.control = control
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.now += seconds
        self.slept.append(seconds)
        self.control.advance(seconds)

    def options(self) -> dict[str, Any]:
        return {"sleep": self.sleep, "monotonic": self.monotonic}
