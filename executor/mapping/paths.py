"""Compiling mapping paths and evaluating them against events.

A path is relative to one event and starts with `.` or `[` (`.deviceDetail.browser`); it is
read as jsonpath-ng reads `$` + path. Two forms come out of compilation:

* plain chains of field names, integer indexes and wildcards become a tuple of steps that
  `collect` (and the generated mappers in `codegen`) walk directly, without jsonpath-ng;
* everything else (recursive descent `..`, filters `[?()]`, slices, unions, named operators)
  stays a jsonpath-ng expression, parsed once.

Both follow the same rules: a field name applied to an array applies to each element (nested
arrays included), so `.appliedConditionalAccessPolicies.displayName` yields every name; a null
value is never a match. Evaluation never raises on data of the wrong shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

FIELD = 0
INDEX = 1
WILDCARD = 2

Step = tuple[int, Any]

_STEP_RE = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\.(?P<dotstar>\*)"
    r"|\[(?P<bracketstar>\*)\]"
    r"|\[(?P<index>-?[0-9]+)\]"
    r"|\['(?P<squoted>[^'\\]*)'\]"
    r'|\["(?P<dquoted>[^"\\]*)"\]'
)
# Words jsonpath-ng's lexer reads as operators, never as field names.
_RESERVED = frozenset({"where", "wherenot"})


class PathSyntaxError(ValueError):
    """The path text is not a JSONPath that jsonpath-ng can read."""


def parse_plain(text: str) -> tuple[Step, ...] | None:
    """Read `text` as a plain chain without jsonpath-ng, or return None if it is not one.

    Only forms whose jsonpath-ng reading is certain are accepted (see the equivalence test);
    anything else is left to jsonpath-ng, which may still find it to be a plain chain.
    """
    steps: list[Step] = []
    position = 0
    while position < len(text):
        match = _STEP_RE.match(text, position)
        if match is None:
            return None
        name = match.group("name")
        if name is not None:
            if name in _RESERVED:
                return None
            steps.append((FIELD, name))
        elif match.group("index") is not None:
            steps.append((INDEX, int(match.group("index"))))
        elif match.group("squoted") is not None:
            steps.append((FIELD, match.group("squoted")))
        elif match.group("dquoted") is not None:
            steps.append((FIELD, match.group("dquoted")))
        else:
            steps.append((WILDCARD, None))
        position = match.end()
    return tuple(steps) if steps else None


def _walk_field(value: Any, name: str, out: list[Any]) -> None:
    """Append field `name` of `value`, or of each element when it is an array (nested arrays
    too, however deep: an explicit stack, not recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found = item.get(name)
            if found is not None:
                out.append(found)
        elif isinstance(item, list):
            stack.extend(reversed(item))


def field_of_each(items: list[Any], name: str) -> list[Any]:
    """The non-null field `name` of each element of `items` (nested arrays walked)."""
    found: list[Any] = []
    for item in items:
        if type(item) is dict:
            value = item.get(name)
            if value is not None:
                found.append(value)
        elif isinstance(item, dict | list):
            _walk_field(item, name, found)
    return found


def collect(value: Any, steps: tuple[Step, ...]) -> list[Any]:
    """Every non-null value that `steps` reaches from `value`, in document order."""
    if value is None:
        return []
    current = [value]
    for kind, arg in steps:
        found: list[Any] = []
        if kind == FIELD:
            for item in current:
                if isinstance(item, dict):
                    child = item.get(arg)
                    if child is not None:
                        found.append(child)
                elif isinstance(item, list):
                    _walk_field(item, arg, found)
        elif kind == INDEX:
            for item in current:
                if isinstance(item, list) and -len(item) <= arg < len(item):
                    child = item[arg]
                    if child is not None:
                        found.append(child)
        else:
            for item in current:
                if isinstance(item, dict):
                    found.extend(child for child in item.values() if child is not None)
                elif isinstance(item, list):
                    found.extend(child for child in item if child is not None)
        if not found:
            return found
        current = found
    return current


@dataclass(frozen=True, eq=False)
class CompiledPath:
    """A path compiled once: `steps` for a plain chain, otherwise a jsonpath-ng expression.

    `guard_key` is the first field of a jsonpath-ng expression's leading chain: when an event
    (a dict) lacks that key, the expression cannot match and jsonpath-ng is not called.
    """

    text: str
    steps: tuple[Step, ...] | None
    expression: Any = None
    guard_key: str | None = None

    @property
    def is_plain(self) -> bool:
        return self.steps is not None

    @property
    def canonical(self) -> str:
        """One spelling per meaning, to find fields that duplicate another's path."""
        if self.steps is not None:
            return "".join(_step_text(step) for step in self.steps)
        return str(self.expression)

    def find(self, data: Any) -> list[Any]:
        """Every non-null match in `data`; never raises."""
        if self.steps is not None:
            return collect(data, self.steps)
        if self.guard_key is not None and isinstance(data, dict) and self.guard_key not in data:
            return []
        from executor.mapping.jsonpath_adapter import find_values

        return find_values(self.expression, data)


def _step_text(step: Step) -> str:
    kind, arg = step
    if kind == FIELD:
        return f"[{arg!r}]"
    if kind == INDEX:
        return f"[{arg}]"
    return "[*]"


def compile_path(text: str) -> CompiledPath:
    """Compile a relative path (leading `.` or `[`); raise PathSyntaxError if malformed."""
    if not isinstance(text, str) or not text.strip():
        raise PathSyntaxError("path must be a non-empty string")
    if text.startswith("$"):
        raise PathSyntaxError(
            "path must be relative to the event and start with '.' or '[' "
            f"(write {_relative_hint(text)!r}, not {text!r}{_array_note(text)})"
        )
    if not text.startswith((".", "[")):
        raise PathSyntaxError(f"path must start with '.' or '[' (did you mean {'.' + text!r}?)")
    steps = parse_plain(text)
    if steps is not None:
        return CompiledPath(text=text, steps=steps)
    from executor.mapping.jsonpath_adapter import compile_expression

    steps, expression, guard_key = compile_expression("$" + text)
    return CompiledPath(text=text, steps=steps, expression=expression, guard_key=guard_key)


_EVENT_ARRAY = re.compile(r"\$\.[A-Za-z_][A-Za-z0-9_]*\[(?:\*|:)?\](?=[.\[])")


def _relative_hint(text: str) -> str:
    """The relative path a `$`-rooted one most likely meant: `$.riskLevel` -> `.riskLevel`;
    `$.value[*].riskLevel` (through the response's event array) -> `.riskLevel` as well."""
    through_array = _EVENT_ARRAY.match(text)
    return text[through_array.end():] if through_array else text[1:]


def _array_note(text: str) -> str:
    if _EVENT_ARRAY.match(text):
        return "; the Main Event JSON Path already picks each event out of the response"
    return ""


def compile_root_path(text: str) -> CompiledPath:
    """Compile an absolute path (`$.value`), as Main Event JSON Paths and search strings use."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"path must start with '$', got {text!r}")
    if text.strip() == "$":
        return CompiledPath(text=text, steps=())
    return replace(compile_path(text[1:]), text=text)
