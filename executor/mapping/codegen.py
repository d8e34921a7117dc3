"""One generated Python function per profile (the set of fields applied to an event).

Mapping runs on every event of every fetch, so a profile's fields are turned into the code a
careful person would write by hand: each intermediate object is looked up once and shared by
the fields below it, and each field is a dict lookup and a null check. Everything outside
that common case (an array where an object was expected, indexes, wildcards, jsonpath-ng
paths, an event that is not an object) goes to the evaluator in `paths`, the one
`map_generic` uses, so generated code and evaluator agree (a property test holds them to it).

Field names and path segments enter the source text only through `repr`; compiled paths,
tables and finishers are passed in the function's namespace, never as source text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from executor.mapping.model import FieldMapping
from executor.mapping.paths import FIELD, collect, field_of_each
from executor.mapping.results import NO_ENTRY, spread

Mapper = Callable[[Any], dict[str, Any]]


class _Walk:
    """Marks an intermediate object reached through something other than objects."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WALK"


WALK = _Walk()


def map_generic(fields: Sequence[FieldMapping], event: Any) -> dict[str, Any]:
    """Map `event` by evaluating each field's path on its own: the reference behaviour."""
    out: dict[str, Any] = {}
    for field in fields:
        matches = field.path.find(event)
        if matches:
            value = field.finisher(matches)
            if value is not None:
                out[field.system_name] = value
    return out


@dataclass(frozen=True)
class Dispatch:
    """Lets a generated function pick the profile first: events whose `key` is a string in
    `mappers` go to that mapper; events it cannot decide alone (not an object, `key` not a
    string) go to `general`; the rest get the generated function's own fields."""

    key: str
    mappers: Mapping[str, Mapper]
    general: Mapper


class _Source:
    """Source text under construction: a header of shared lookups, a body of fields, and the
    namespace their names refer to."""

    def __init__(self) -> None:
        self.header: list[str] = []
        self.body: list[str] = []
        self.namespace: dict[str, Any] = {
            "_collect": collect,
            "_each": field_of_each,
            "_spread": spread,
            "WALK": WALK,
            "NO_ENTRY": NO_ENTRY,
        }
        self.nodes: dict[tuple[str, ...], tuple[str, str]] = {(): ("event", "get")}

    def add(self, indent: int, line: str) -> None:
        self.body.append("    " * indent + line)

    def constant(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def node(self, chain: tuple[str, ...]) -> tuple[str, str]:
        """Locals for the object at `chain` (field names from the event), looked up once:
        the value, and its bound `get` when it is an object (else None).

        The value is WALK when something on the way is not an object (an array, a string...):
        fields below it are then left to the evaluator.
        """
        if chain in self.nodes:
            return self.nodes[chain]
        parent, parent_get = self.node(chain[:-1])
        number = len(self.nodes)
        local, local_get = f"n{number}", f"g{number}"
        key = repr(chain[-1])
        if parent == "event":
            self.header.append(f"    {local} = get({key})")
        else:
            self.header.append(
                f"    {local} = {parent_get}({key}) if {parent_get} is not None "
                f"else (None if {parent} is None else WALK)"
            )
        self.header.append(f"    {local_get} = {local}.get if type({local}) is dict else None")
        self.nodes[chain] = (local, local_get)
        return local, local_get

    def store(self, indent: int, field: FieldMapping, matches: str) -> None:
        """Lines that put the list of matches named `matches` into `out` unless it is empty."""
        key = repr(field.system_name)
        self.add(indent, f"if {matches}:")
        if field.is_plain_value:
            self.add(indent + 1, f"out[{key}] = {matches}[0] if len({matches}) == 1 else {matches}")
        elif field.values is None:
            # `type: list`; the matches are a fresh list, handed out as is unless some of them
            # are arrays to spread.
            self.add(
                indent + 1,
                f"out[{key}] = {matches} if list not in map(type, {matches}) "
                f"else _spread({matches})",
            )
        else:
            finish = self.constant("finish", field.finisher)
            self.add(indent + 1, f"value = {finish}({matches})")
            self.add(indent + 1, "if value is not None:")
            self.add(indent + 2, f"out[{key}] = value")

    def store_one(self, indent: int, field: FieldMapping) -> None:
        """Lines that put the one non-null match `v` into `out` (as the finisher would)."""
        key = repr(field.system_name)
        if field.is_plain_value:
            self.add(indent, f"out[{key}] = v")
        elif field.values is None:
            self.add(indent, "if type(v) is list:")
            self.add(
                indent + 1, f"out[{key}] = [x for x in v if x is not None] if None in v else v[:]"
            )
            self.add(indent, "else:")
            self.add(indent + 1, f"out[{key}] = [v]")
        elif not field.as_list:
            # A `values:` table, looked up by JSON kind (true is not 1).
            table = field.values
            strings = self.constant("strings", table.strings)
            numbers = self.constant("numbers", table.numbers)
            bools = self.constant("bools", table.bools)
            otherwise = self.constant("otherwise", table.otherwise)
            self.add(indent, "kind = type(v)")
            self.add(indent, "if kind is int or kind is float:")
            self.add(indent + 1, f"value = {numbers}.get(v, {otherwise})")
            self.add(indent, "elif kind is str:")
            self.add(indent + 1, f"value = {strings}.get(v, {otherwise})")
            self.add(indent, "elif kind is bool:")
            self.add(indent + 1, f"value = {bools}.get(v, {otherwise})")
            self.add(indent, "else:")
            self.add(indent + 1, f"value = {self.constant('values', table)}.apply(v)")
            self.add(indent, "if value is NO_ENTRY:")
            self.add(indent + 1, "value = v")
            self.add(indent, "if value is not None:")
            self.add(indent + 1, f"out[{key}] = value")
        else:
            finish = self.constant("finish", field.finisher)
            self.add(indent, f"value = {finish}([v])")
            self.add(indent, "if value is not None:")
            self.add(indent + 1, f"out[{key}] = value")

    def field(self, field: FieldMapping) -> None:
        path = field.path
        self.add(1, f"# {field.name!r} <- {path.text!r}")
        if path.steps is None:
            find = self.constant("path", path)
            indent = 1
            if path.guard_key is not None:
                self.add(1, f"if {path.guard_key!r} in event:")
                indent = 2
            self.add(indent, f"m = {find}.find(event)")
            self.store(indent, field, "m")
            return
        steps = path.steps
        chain_length = 0
        while chain_length < len(steps) and steps[chain_length][0] == FIELD:
            chain_length += 1
        names = tuple(arg for _, arg in steps[:chain_length])
        if chain_length == len(steps):
            self._field_chain(field, names)
            return
        # Field names, then an index or a wildcard: the evaluator goes on from the last object.
        anchor, _ = self.node(names)
        rest = self.constant("steps", steps[chain_length:])
        if anchor == "event":
            self.add(1, f"m = _collect(event, {rest})")
            self.store(1, field, "m")
            return
        self.add(1, f"if {anchor} is WALK:")
        self.add(2, f"m = _collect(event, {self.constant('steps', steps)})")
        self.store(2, field, "m")
        self.add(1, f"elif {anchor} is not None:")
        self.add(2, f"m = _collect({anchor}, {rest})")
        self.store(2, field, "m")

    def _field_chain(self, field: FieldMapping, names: tuple[str, ...]) -> None:
        """A path of field names only: the last one looked up in its parent object."""
        anchor, anchor_get = self.node(names[:-1])
        last = repr(names[-1])
        if anchor == "event":
            self.add(1, f"v = get({last})")
            self.add(1, "if v is not None:")
            self.store_one(2, field)
            return
        self.add(1, f"if {anchor_get} is not None:")
        self.add(2, f"v = {anchor_get}({last})")
        self.add(2, "if v is not None:")
        self.store_one(3, field)
        # An array of objects reached through objects (appliedConditionalAccessPolicies):
        # the field of each element.
        self.add(1, f"elif type({anchor}) is list:")
        self.add(2, f"m = _each({anchor}, {last})")
        self.store(2, field, "m")
        # Anything else that is not null (WALK, a string, a dict subclass): the evaluator.
        self.add(1, f"elif {anchor} is not None:")
        self.add(2, f"m = _collect(event, {self.constant('steps', field.path.steps)})")
        self.store(2, field, "m")


def generate_source(
    fields: Sequence[FieldMapping], dispatch: Dispatch | None = None
) -> tuple[str, dict[str, Any]]:
    """Source text of `map_event(event)` for `fields`, and the namespace it runs in."""
    fields = list(fields)
    src = _Source()
    for field in fields:
        src.field(field)
    src.namespace["_generic"] = lambda event: map_generic(fields, event)
    prelude = [
        "def map_event(event):",
        "    if type(event) is not dict:",
        "        return _generic(event)",
        "    get = event.get",
    ]
    if dispatch is not None:
        src.namespace["_general"] = dispatch.general
        src.namespace["_mappers"] = dict(dispatch.mappers)
        prelude = [
            "def map_event(event):",
            "    if type(event) is not dict:",
            "        return _general(event)",
            "    get = event.get",
            f"    selected = get({dispatch.key!r})",
            "    if selected is not None:",
            "        if type(selected) is not str:",
            "            return _general(event)",
            "        mapper = _mappers.get(selected)",
            "        if mapper is not None:",
            "            return mapper(event)",
        ]
    lines = [*prelude, "    out = {}", *src.header, *src.body, "    return out"]
    return "\n".join(lines) + "\n", src.namespace


def build_mapper(
    fields: Sequence[FieldMapping], label: str = "profile", dispatch: Dispatch | None = None
) -> Mapper:
    """Compile `fields` into one function; `label` names it in tracebacks."""
    source, namespace = generate_source(fields, dispatch)
    code = compile(source, f"<field mapping: {label}>", "exec")
    exec(code, namespace)
    mapper: Mapper = namespace["map_event"]
    return mapper
