"""The typed objects mapping files are loaded into."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from executor.mapping.paths import CompiledPath
from executor.mapping.results import Finisher, ValuesTable, make_finisher, plain_finish

CUSTOM_PREFIX = "__"


def system_name(field_name: str, custom: bool = False) -> str:
    """The key a mapped event uses: spaces become underscores; custom fields get `__` in front."""
    name = field_name.replace(" ", "_")
    return CUSTOM_PREFIX + name if custom else name


@dataclass(frozen=True, eq=False)
class FieldMapping:
    """One field of an event source: Field Name, System Name, compiled path and how to shape it."""

    name: str
    system_name: str
    path: CompiledPath
    file: str
    as_list: bool = False
    values: ValuesTable | None = None
    custom: bool = False
    reference_path: str | None = None
    reason: str | None = None
    beta_only: bool = False

    @property
    def is_plain_value(self) -> bool:
        """True when one match is simply the value (no `type: list`, no `values:`)."""
        return not self.as_list and self.values is None

    @cached_property
    def finisher(self) -> Finisher:
        """Shapes a non-empty list of matches into the mapped value (None: leave it out)."""
        if self.is_plain_value:
            return plain_finish
        return make_finisher(self.as_list, self.values)

    @property
    def shape_key(self) -> tuple[Any, ...]:
        """What, besides the path, decides the value: two fields equal here map the same value."""
        values = tuple(sorted(map(repr, self.values.source.items()))) if self.values else None
        return (self.path.canonical, self.as_list, values)


@dataclass(frozen=True, eq=False)
class SearchString:
    """`{$.eventType}=riskDetection`: the events whose `$.eventType` equals `riskDetection`."""

    text: str
    path: CompiledPath
    value: str


def search_text(value: Any) -> str | None:
    """How a matched value compares with a search string's value (JSON spelling for scalars)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return None


@dataclass(frozen=True, eq=False)
class EventSource:
    """One mapping file: the Default source (with a Main Event JSON Path) or a specific one."""

    id: str
    name: str
    file: str
    fields: tuple[FieldMapping, ...]
    main_event_json_path: CompiledPath | None = None
    search: SearchString | None = None

    @property
    def is_default(self) -> bool:
        return self.search is None


def profile_fields(default: EventSource, specific: EventSource | None) -> list[FieldMapping]:
    """The fields applied to an event, in order: Default's, then the specific source's.

    Applied in this order, a specific field that matches overwrites the Default field of the
    same System Name (keeping its place in the mapped event); one that does not match leaves
    the Default's value.
    """
    if specific is None:
        return list(default.fields)
    return [*default.fields, *specific.fields]
