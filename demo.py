#!/usr/bin/env python3
"""The main job against the embedded emulator tenant: every command once, printed for people.

    python demo.py                      # what `make demo` runs
    python demo.py --samples DIR        # also write each result to DIR/<command-id>.json

Samples come from a pinned, frozen emulator clock so that `make samples` is reproducible.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from connector import Connector
from emulator import Emulator

SAMPLE_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
COLUMNS = {
    "List Risky Users": ("userPrincipalName", "riskLevel", "riskState", "riskDetail"),
    "List Risk Detections": ("userPrincipalName", "riskEventType", "riskLevel", "riskState"),
    "List History": ("riskLastUpdatedDateTime", "riskLevel", "riskState", "riskDetail"),
    "List Sign-In": ("createdDateTime", "userPrincipalName", "appDisplayName", "ipAddress"),
}


def plan(users: list[str], now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Every command once, and a Fetch Event of each type, on the emulator's own clock."""
    window = {"Start Time": (now - timedelta(days=29)).strftime("%m/%d/%Y %I:%M %p"),
              "End Time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return [
        ("Test Connection", {}),
        ("List Risky Users", {"Top": 5, "Filter": "riskState eq 'atRisk'"}),
        ("List Risk Detections", {"Top": 5, "Select": "id,userPrincipalName,riskEventType,"
                                                      "riskLevel,riskState,detectedDateTime"}),
        ("List History", {"Risky User ID": users[0], "Top": 5}),
        ("List Sign-In", {"Top": 5, "Filter": "status/errorCode ne 0"}),
        ("Fetch Event", {"Event Type": "Sign-in Logs", "Number of Event(s) Fetched": 3,
                         **window}),
        ("Fetch Event", {"Event Type": "Risk Detections", "Number of Event(s) Fetched": 3,
                         **window}),
        ("Fetch Event", {"Event Type": "Risk Users", "Risk State": "At Risk",
                         "Number of Event(s) Fetched": 3, **window}),
        ("Confirm Compromised", {"User IDs": json.dumps([users[0]])}),
        ("Dismiss Risky User", {"User IDs": users[1]}),
        ("Confirm Safe", {"User IDs": f"{users[2]}, {users[3]}"}),
    ]


def show(result: dict[str, Any]) -> None:
    print(f"\n== {result['command']}: {result['status']}")
    for error in result["errors"]:
        print(f"   ! {error['failure_indicator']} {error['status_code']}: {error['message']}")
    columns = COLUMNS.get(result["command"])
    raw = result.get("raw_data") or {}
    if columns and isinstance(raw, dict):
        for item in raw.get("value", []):
            print("   " + "  ".join(str(item.get(c, "-"))[:38].ljust(38 if i == 0 else 24)
                                    for i, c in enumerate(columns)))
        if raw.get("@odata.nextLink"):
            print("   … more results (continuation link in raw_data)")
    elif result["command"] == "Fetch Event":
        for event in result.get("events") or []:
            fields = event["fields"]
            picked = {k: fields[k] for k in ("Start_Time", "User_Principal_Name", "Severity",
                                             "Risk_State", "Source_IP_address", "App")
                      if k in fields}
            print(f"   [{event['event_type']}] " + ", ".join(f"{k}={v}" for k, v in
                                                             picked.items()))
    else:
        print("   " + json.dumps(result["context_data"], ensure_ascii=False)[:400])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, help="write results to DIR/<command-id>.json")
    args = parser.parse_args()
    pinned = {"now": SAMPLE_NOW, "frozen": True} if args.samples else {}
    connector = Connector.load()
    ids = {c["name"]: c["id"] for c in connector.commands()}
    with Emulator(seed=42, signins=5000, **pinned) as emu:
        connection = emu.connection()
        users = connector.run("List Risky Users", {"Filter": "riskState eq 'atRisk'",
                                                   "Select": "id"}, connection)
        at_risk = [u["id"] for u in users["raw_data"]["value"]]
        print(f"Emulator tenant {emu.tenant_ids[0]} at {emu.base_url}")
        failures = 0
        written: set[str] = set()
        for command, inputs in plan(at_risk, emulator_now(emu)):
            result = connector.run(command, inputs, connection)
            show(result)
            failures += result["status"] == "Failed"
            if args.samples and ids[command] not in written:
                written.add(ids[command])
                args.samples.mkdir(parents=True, exist_ok=True)
                (args.samples / f"{ids[command]}.json").write_text(
                    json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if failures else 0


def emulator_now(emu: Any) -> datetime:
    """The emulator's clock (pinned for samples), read through its control API."""
    response = requests.get(f"{emu.base_url}/_emulator/clock", verify=emu.ca_bundle, timeout=10)
    return datetime.fromisoformat(response.json()["now"])


if __name__ == "__main__":
    sys.exit(main())
