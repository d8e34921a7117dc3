"""Typed objects built from a validated manifest (the third loading stage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AllowedValue:
    value: str
    display_name: str


@dataclass(frozen=True)
class InputSpec:
    id: str
    display_name: str
    required: bool
    type: str  # string | integer | datetime | enum | list
    description: str
    example: Any
    default: Any = None
    allowed_values: tuple[AllowedValue, ...] = ()
    only_when: tuple[str, tuple[str, ...]] | None = None
    not_after: str | None = None
    check: dict[str, str] | None = None


@dataclass(frozen=True)
class ConnectionParameter:
    id: str
    display_name: str
    type: str
    required: bool
    description: str
    example: Any
    default: Any = None
    fixed: bool = False
    secret: bool = False
    env: str | None = None
    allowed_values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Permissions:
    """Either one list, or one list per value of an input (Fetch Event's Event Type)."""

    always: tuple[str, ...] = ()
    by_input: str | None = None
    by_value: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def for_inputs(self, inputs: dict[str, Any]) -> tuple[str, ...]:
        if self.by_input is None:
            return self.always
        return self.by_value.get(str(inputs.get(self.by_input)), ())

    def all(self) -> tuple[str, ...]:
        seen: dict[str, None] = dict.fromkeys(self.always)
        for perms in self.by_value.values():
            seen.update(dict.fromkeys(perms))
        return tuple(seen)


@dataclass(frozen=True)
class CommandSpec:
    id: str
    display_name: str
    description: str
    permissions: Permissions
    failure_indicator: str
    input_schema: str
    output_schema: str
    inputs: tuple[InputSpec, ...]

    def input_named(self, name: str) -> InputSpec | None:
        """An input by id or display name (case-insensitive), as a platform user types it."""
        folded = name.strip().casefold()
        for spec in self.inputs:
            if folded in (spec.id.casefold(), spec.display_name.casefold()):
                return spec
        return None


@dataclass(frozen=True)
class EventSourceRef:
    id: str
    name: str
    file: str


@dataclass(frozen=True)
class Manifest:
    manifest_version: int
    integration: dict[str, Any]
    connection_schema: str
    connection_parameters: tuple[ConnectionParameter, ...]
    commands: tuple[CommandSpec, ...]
    event_sources: tuple[EventSourceRef, ...]

    def command_named(self, name: str) -> CommandSpec | None:
        """A command by id or display name (case-insensitive)."""
        folded = name.strip().casefold()
        for spec in self.commands:
            if folded in (spec.id.casefold(), spec.display_name.casefold()):
                return spec
        return None
