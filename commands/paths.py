"""Graph resource paths (relative to ``{server_url}/{api_version}/``) and path-segment safety."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from executor.model import CommandSpec, ResourceSpec

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def guid_segment(value: str) -> str:
    """A path segment that can only be a GUID: URL-safe by construction."""
    if not _GUID.match(value):
        raise ValueError(f"'{value}' is not a GUID")
    return value.lower()


def resource_path(resource: ResourceSpec, command: CommandSpec,
                  inputs: Mapping[str, Any]) -> str:
    """The resource's path with each ``{name}`` filled by the input declared for it."""
    path = resource.path
    for spec in command.inputs:
        if spec.path_parameter:
            path = path.replace("{" + spec.path_parameter + "}", guid_segment(inputs[spec.id]))
    return path
