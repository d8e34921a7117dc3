#!/usr/bin/env python3
"""The main job against the embedded emulator tenant: every command once, printed for people.

    python demo.py                      # what `make demo` runs
    python demo.py --samples DIR        # also write each result to DIR/<command-id>.json

The plan is the manifest's: each command's ``sample_inputs`` (or none), reads before actions.
In those inputs ``{riskyUsers:N}`` stands for the id of the N-th item its resource's list command
returns, and ``{now-Nd}`` for N days before the emulator's clock. Samples come from a pinned,
frozen emulator clock, with the emulator's host and port in links written as Graph's, so that
`make samples` is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from connector import Connector
from emulator import Emulator

SAMPLE_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GRAPH_ROOT = "https://graph.microsoft.com"
_PLACEHOLDER = re.compile(r"\{(?:(?P<resource>[A-Za-z]+):(?P<index>\d+)|now-(?P<days>\d+)d)\}")


def plan(connector: Connector) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every command with each of its sample inputs; bulk actions last (they change state)."""
    commands = sorted(connector.plugin.manifest.commands, key=lambda c: c.action is not None)
    for command in commands:
        for inputs in command.sample_inputs or ({},):
            yield command.display_name, dict(inputs)


class Placeholders:
    """Fills ``{resource:N}`` and ``{now-Nd}`` from the tenant, listing a resource once."""

    def __init__(self, connector: Connector, connection: dict[str, Any], now: datetime) -> None:
        self.connector = connector
        self.connection = connection
        self.now = now
        self.ids: dict[str, list[str]] = {}

    def _ids(self, resource_id: str) -> list[str]:
        if resource_id not in self.ids:
            command = next(c for c in self.connector.plugin.manifest.commands
                           if c.handler == "list" and c.resource is not None
                           and c.resource.id == resource_id)
            result = self.connector.run(command.display_name, {"Select": "id"}, self.connection)
            self.ids[resource_id] = [item["id"] for item in result["raw_data"]["value"]]
        return self.ids[resource_id]

    def _one(self, match: re.Match[str]) -> str:
        if match["days"]:
            return (self.now - timedelta(days=int(match["days"]))).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._ids(match["resource"])[int(match["index"])]

    def prefetch(self, inputs: dict[str, Any]) -> None:
        for value in inputs.values():
            for match in _PLACEHOLDER.finditer(value if isinstance(value, str) else ""):
                if match["resource"]:
                    self._ids(match["resource"])

    def fill(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {name: _PLACEHOLDER.sub(self._one, value) if isinstance(value, str) else value
                for name, value in inputs.items()}


def show(result: dict[str, Any]) -> None:
    print(f"\n== {result['command']}: {result['status']}")
    for error in result["errors"]:
        print(f"   ! {error['failure_indicator']} {error['status_code']}: {error['message']}")
    raw = result.get("raw_data") or {}
    if result.get("events") is not None:
        for event in result["events"]:
            fields = event["fields"]
            picked = {k: fields[k] for k in ("Start_Time", "User_Principal_Name", "Severity",
                                             "Risk_State", "Source_IP_address", "App")
                      if k in fields}
            print(f"   [{event['event_type']}] " + ", ".join(f"{k}={v}" for k, v in
                                                             picked.items()))
    elif isinstance(raw, dict) and isinstance(raw.get("value"), list):
        for item in raw["value"]:
            print("   " + json.dumps(item, ensure_ascii=False)[:150])
        if raw.get("@odata.nextLink"):
            print("   … more results (continuation link in raw_data)")
    else:
        print("   " + json.dumps(result["key_fields"], ensure_ascii=False)[:400])


def normalised(result: dict[str, Any], base_url: str) -> str:
    """The result as sample text: the emulator's random host and port written as Graph's."""
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    return text.replace(base_url.rstrip("/"), GRAPH_ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, help="write results to DIR/<command-id>.json")
    args = parser.parse_args()
    pinned: dict[str, Any] = {"now": SAMPLE_NOW, "frozen": True} if args.samples else {}
    with Emulator(seed=42, signins=5000, **pinned) as emu:
        now = emulator_now(emu)
        connector = Connector.load(now=lambda: now)
        ids = {c.display_name: c.id for c in connector.plugin.manifest.commands}
        connection = emu.connection()
        fill = Placeholders(connector, connection, now)
        print(f"Emulator tenant {emu.tenant_ids[0]} at {emu.base_url}")
        failures = 0
        written: set[str] = set()
        for _, inputs in plan(connector):
            fill.prefetch(inputs)  # list before any action changes the tenant
        for command, inputs in plan(connector):
            result = connector.run(command, fill.fill(inputs), connection)
            show(result)
            failures += result["status"] == "Failed"
            if args.samples and ids[command] not in written:
                written.add(ids[command])
                args.samples.mkdir(parents=True, exist_ok=True)
                (args.samples / f"{ids[command]}.json").write_text(
                    normalised(result, emu.base_url), encoding="utf-8")
    return 1 if failures else 0


def emulator_now(emu: Any) -> datetime:
    """The emulator's clock (pinned for samples), read through its control API."""
    response = requests.get(f"{emu.base_url}/_emulator/clock", verify=emu.ca_bundle, timeout=10)
    return datetime.fromisoformat(response.json()["now"])


if __name__ == "__main__":
    sys.exit(main())
