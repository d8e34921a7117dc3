"""The shipped manifest read as plain YAML, so tests derive their expectations from what it
declares (commands, resources, permissions, page sizes) instead of restating them."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from tests.conftest import ROOT


@cache
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "integration.yaml").read_text(encoding="utf-8"))


def resources() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in manifest()["resources"]}


def commands() -> dict[str, dict[str, Any]]:
    """Commands by display name."""
    return {c["display_name"]: c for c in manifest()["commands"]}


def list_commands() -> dict[str, dict[str, Any]]:
    return {name: c for name, c in commands().items() if c.get("handler") == "list"}


def action_commands() -> dict[str, dict[str, Any]]:
    return {name: c for name, c in commands().items() if c.get("handler") == "action"}


def resource_of(command_name: str) -> dict[str, Any]:
    return resources()[commands()[command_name]["resource"]]


def event_types() -> dict[str, dict[str, Any]]:
    """Fetch Event's event type values and the resource each one reads."""
    by = commands()["Fetch Event"]["resource_by"]["values"]
    return {value: resources()[entry["resource"]] for value, entry in by.items()}


def permissions(command_name: str) -> list[str]:
    """What `commands` should list for a command: declared, else its resource(s)'."""
    command = commands()[command_name]
    if "permissions" in command:
        return list(command["permissions"])
    if "resource_by" in command:
        seen: dict[str, None] = {}
        for resource in event_types().values():
            seen.update(dict.fromkeys(resource["permissions"]))
        return list(seen)
    return list(resources()[command["resource"]]["permissions"])
