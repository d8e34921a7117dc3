"""Typed objects built from a validated manifest (the third loading stage)."""

from __future__ import annotations

from collections.abc import Mapping
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
    allowed_values_ref: str | None = None
    only_when: tuple[str, tuple[str, ...]] | None = None
    not_after: str | None = None
    check: dict[str, str] | None = None
    schema: dict[str, Any] = field(default_factory=dict)
    """JSON Schema keywords added to the schema derived from ``type``."""
    maximum_from_resource: str | None = None
    items_from_resource: str | None = None
    path_parameter: str | None = None
    """The ``{name}`` in the resource's path that this input's value fills."""
    ignored_elsewhere: bool = False
    """Given where ``only_when`` does not hold: ignored with a warning (else refused)."""
    open: bool = False
    """An enum whose allowed values are suggestions: other values pass as typed (an API field
    that is an open string, where new values appear)."""


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

    def for_inputs(self, inputs: Mapping[str, Any]) -> tuple[str, ...]:
        if self.by_input is None:
            return self.always
        return self.by_value.get(str(inputs.get(self.by_input)), ())

    def all(self) -> tuple[str, ...]:
        seen: dict[str, None] = dict.fromkeys(self.always)
        for perms in self.by_value.values():
            seen.update(dict.fromkeys(perms))
        return tuple(seen)


@dataclass(frozen=True)
class OptionalPermissions:
    permissions: tuple[str, ...]
    purpose: str
    """What the permissions add when granted (any one of them suffices)."""


@dataclass(frozen=True)
class ResourceSpec:
    """One API collection, declared once in the manifest's ``resources`` catalogue."""

    id: str
    path: str
    item_type: str
    permissions: tuple[str, ...]
    properties: tuple[str, ...]
    filters: dict[str, tuple[str, ...]]
    """Filterable property paths (``status/errorCode``) and the operators the API documents."""
    page_size: int | None
    """The page size asked for when reading every page; None: the API's default."""
    max_top: int | None
    cursor: str | None = None
    ordered_by: str | None = None
    """The field the API sorts by (newest first) and accepts in ``$orderby``."""
    unavailable_in_clouds: tuple[str, ...] = ()
    optional_permissions: tuple[OptionalPermissions, ...] = ()
    source: str = ""
    retention_days: int | None = None
    """How long the API keeps records (their ``cursor`` time); None: no limit to check."""


@dataclass(frozen=True)
class ActionSpec:
    """A bulk action on a resource: ``POST {path}/{name}`` with ``{body_field: [ids]}``."""

    name: str
    ids_input: str
    body_field: str


@dataclass(frozen=True)
class CommandSpec:
    id: str
    display_name: str
    description: str
    permissions: Permissions
    failure_indicator: str
    input_schema: str
    """Where the derived input schema is registered in the schema store."""
    output_schema: str
    inputs: tuple[InputSpec, ...]
    handler: str | None = None
    """A shared handler's name; None: the handler registered under the command id."""
    resource: ResourceSpec | None = None
    resource_by: tuple[str, dict[str, ResourceSpec]] | None = None
    """(input id, resource per input value) when the resource depends on an input."""
    action: ActionSpec | None = None
    sample_inputs: tuple[dict[str, Any], ...] = ()
    """Inputs the demo and ``make samples`` run the command with."""

    @property
    def handler_name(self) -> str:
        return self.handler or self.id

    def resource_for(self, inputs: Mapping[str, Any]) -> ResourceSpec | None:
        """The resource this run reads: the command's own, or the one its input selects."""
        if self.resource_by is not None:
            input_id, by_value = self.resource_by
            return by_value.get(str(inputs.get(input_id)))
        return self.resource

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
    resources: tuple[ResourceSpec, ...] = ()

    def command_named(self, name: str) -> CommandSpec | None:
        """A command by id or display name (case-insensitive)."""
        folded = name.strip().casefold()
        for spec in self.commands:
            if folded in (spec.id.casefold(), spec.display_name.casefold()):
                return spec
        return None
