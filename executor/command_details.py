"""`commands --details [NAME]`: each command's inputs as a user needs them, from the manifest.

Reads the typed manifest through its public attributes only, each with a fallback, so a model
that gains or renames an optional attribute still lists (the entry just lacks that detail).
"""

from __future__ import annotations

from typing import Any

from executor.errors import UsageError


def _allowed(spec: Any) -> list[Any]:
    """Allowed values by display name (what a user types), else as given."""
    values = []
    for allowed in getattr(spec, "allowed_values", None) or ():
        values.append(getattr(allowed, "display_name", None) or getattr(allowed, "value", allowed))
    return values


def input_details(spec: Any) -> dict[str, Any]:
    detail = {
        "id": getattr(spec, "id", None),
        "name": getattr(spec, "display_name", None) or getattr(spec, "id", "?"),
        "type": getattr(spec, "type", None),
        "required": bool(getattr(spec, "required", False)),
        "allowed": _allowed(spec),
        "default": getattr(spec, "default", None),
        "example": getattr(spec, "example", None),
        "description": getattr(spec, "description", None),
    }
    if getattr(spec, "open", False):
        detail["suggested"] = detail.pop("allowed")  # any value passes; these are known ones
        detail["allowed"] = []
    only_when = getattr(spec, "only_when", None)
    if only_when:
        detail["only_when"] = {"input": only_when[0], "values": list(only_when[1]),
                               "otherwise": ("ignored" if getattr(spec, "ignored_elsewhere",
                                                                  False) else "refused")}
    return detail


def command_details(manifest: Any, name: str | None = None) -> list[dict[str, Any]]:
    """Details of every command, or of the one called `name` (display name or id)."""
    commands = list(manifest.commands)
    if name is not None:
        found = manifest.command_named(name)
        if found is None:
            known = ", ".join(c.display_name for c in commands)
            raise UsageError(f"commands --details: unknown command '{name}'; commands: {known}")
        commands = [found]
    details = []
    for command in commands:
        permissions = getattr(command, "permissions", None)
        all_permissions = (permissions.all() if permissions is not None
                           and hasattr(permissions, "all") else permissions)
        details.append({
            "id": command.id,
            "name": command.display_name,
            "description": getattr(command, "description", None),
            "permissions": list(all_permissions or ()),
            "inputs": [input_details(spec) for spec in getattr(command, "inputs", ())],
        })
    return details
