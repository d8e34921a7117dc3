"""Screenshots of each console page for the README: ``make screenshots`` (writes docs/).

Runs the console against a fresh emulator tenant and one real job cycle, in the same headless
system Chromium the tests use.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.conftest import ROOT
from tests.console.conftest import CHROMIUM, CHROMIUM_FLAGS, run_job


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from connector import Connector
    from console.app import ConsoleConfig
    from console.connections import Connections
    from console.server import running
    from emulator import Emulator

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="console-shots-"))
    shots: list[Path] = []
    try:
        with Emulator(seed=7, signins=500) as emu:
            connector = Connector.load(ROOT)
            connections = Connections(connector.plugin.manifest)
            connections.add("emulator", emu.connection())
            connections.add("read-only app", emu.connection(app="readonly"))
            connections.add("no-roles app", emu.connection(app="none"))
            config = ConsoleConfig(connector, connections, state_path=run_job(work, emu))
            with running(config) as url, sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    str(work / "profile"), executable_path=CHROMIUM, headless=True,
                    args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 860})
                page = context.new_page()
                page.goto(url)
                base = url.split("/?", 1)[0]

                def shot(name: str) -> None:
                    path = out / f"console-{name}.png"
                    page.screenshot(path=str(path), full_page=False)
                    shots.append(path)

                page.goto(f"{base}/commands/list-risky-users")
                page.fill("#in-top", "5")
                page.click("#run")
                page.wait_for_selector("#result-status")
                page.click("#tab-btn-raw")
                shot("commands")
                page.select_option("#connection", "no-roles app")
                page.click("#run")
                page.wait_for_selector("#tab-error:visible")
                shot("error")
                page.fill("#in-top", "twelve")
                page.click("#run")
                page.locator("#err-top", has_text="Top").wait_for()
                shot("invalid-input")
                page.goto(f"{base}/connections")
                page.locator("button.test-connection").nth(1).click()
                page.wait_for_selector(".readiness-result table")
                page.locator("section.connection").nth(1).scroll_into_view_if_needed()
                shot("connections")
                page.goto(f"{base}/playground")
                page.select_option("#source", "default")
                page.click("#fetch-page")
                page.wait_for_selector("#mapping-summary")
                page.fill("#new-name", "Risk Score")
                page.fill("#new-path", ".riskLevel")
                page.click("#add-field")
                page.wait_for_selector("tr[data-system-name='__Risk_Score']")
                page.locator("#mapping").scroll_into_view_if_needed()
                shot("playground")
                page.goto(f"{base}/jobs")
                shot("jobs")
                context.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return shots


if __name__ == "__main__":
    for written in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(written)
