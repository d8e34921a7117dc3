"""Turning a field's matches into its mapped value: one, many, `type: list`, `values:` tables.

Rules (SPEC §7): no match leaves the field out; one match is the value; several are a list;
a field of `type: list` is always a list, with matched arrays spread into it. Null is never a
value: null matches were already dropped by the paths, and a `values:` entry that maps to
null leaves the field out too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from executor.jsonfast import marked

_OTHERWISE = "*"


class _NoEntry:
    """Stands for "the table says nothing": the matched value is shown as it is."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_ENTRY"


NO_ENTRY = _NoEntry()

Finisher = Callable[[list[Any]], Any]


class ValuesTable:
    """A field's optional `values:` table: matched value -> shown value; `"*"` for any other.

    Values without an entry (and no `"*"`) pass through unchanged; so do objects. A matched
    array has the table applied to each element. Keys are JSON scalars and compare as JSON
    does: `true` is not `1`.
    """

    __slots__ = ("bools", "numbers", "otherwise", "source", "strings")

    def __init__(self, source: Mapping[Any, Any]) -> None:
        self.source = dict(source)
        self.strings: dict[str, Any] = {}
        self.numbers: dict[int | float, Any] = {}
        self.bools: dict[bool, Any] = {}
        self.otherwise: Any = NO_ENTRY  # what `"*"` shows, if the table has it
        for key, shown in source.items():
            shown = marked(shown)  # a float the sink must spell Python's way (jsonfast)
            if isinstance(key, bool):
                self.bools[key] = shown
            elif isinstance(key, int | float):
                self.numbers[key] = shown
            elif key == _OTHERWISE:
                self.otherwise = shown
            elif isinstance(key, str):
                self.strings[key] = shown
            else:
                raise ValueError(f"values: key {key!r} is not a string, number or boolean")

    def apply(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            shown = self.strings.get(value, self.otherwise)
        elif kind is int or kind is float or isinstance(value, float):  # also a ReprFloat
            shown = self.numbers.get(value, self.otherwise)
        elif kind is bool:
            shown = self.bools.get(value, self.otherwise)
        elif kind is list:
            return [self.apply(item) for item in value]
        else:
            return value
        return value if shown is NO_ENTRY else shown


def plain_finish(matches: list[Any]) -> Any:
    return matches[0] if len(matches) == 1 else matches


def spread(matches: list[Any]) -> list[Any]:
    """`type: list`: the matches, with matched arrays spread into the list (nulls dropped)."""
    spread_matches: list[Any] = []
    for match in matches:
        if isinstance(match, list):
            spread_matches.extend(item for item in match if item is not None)
        else:
            spread_matches.append(match)
    return spread_matches


def make_finisher(as_list: bool, values: ValuesTable | None) -> Finisher:
    """The function that shapes a non-empty list of matches; returns None to leave the field out."""

    def finish(matches: list[Any]) -> Any:
        if values is not None:
            matches = [shown for shown in map(values.apply, matches) if shown is not None]
            if not matches:
                return None
        if not as_list:
            return matches[0] if len(matches) == 1 else matches
        return spread(matches)

    return finish
