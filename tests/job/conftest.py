"""Job tests report their figures (chaos runs, steady state) at the end of the session, also
under xdist: each test records them with ``record_property("figures", text)``."""

from __future__ import annotations

from typing import Any

_FIGURES: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: Any) -> None:
    if report.when == "call":
        for name, value in getattr(report, "user_properties", []):
            if name == "figures":
                _FIGURES.append((report.nodeid, str(value)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("job figures")
        for nodeid, text in sorted(_FIGURES):
            terminalreporter.write_line(f"{nodeid.split('::')[-1]}: {text}")
