"""jsonpath-ng behind the mapping engine: parsing, the array-walking rule, safe evaluation.

Imported only when a path is not a plain chain, so loading mappings made only of plain
chains never pays for jsonpath-ng.
"""

from __future__ import annotations

import warnings
from typing import Any

from jsonpath_ng import Child, DatumInContext, Descendants, Fields, Index, Root, Where, WhereNot
from jsonpath_ng.ext import parse as _parse
from jsonpath_ng.jsonpath import Wildcard

from executor.jsonfast import marked
from executor.mapping.paths import FIELD, INDEX, WILDCARD, PathSyntaxError, Step


class WalkingFields(Fields):
    """`Fields` that, applied to an array, applies to each element (nested arrays included).

    This is the platform's habit: `.appliedConditionalAccessPolicies.displayName` yields the
    name of every policy, where plain JSONPath would yield nothing.
    """

    def find(self, datum: Any) -> list[DatumInContext]:
        datum = DatumInContext.wrap(datum)
        if isinstance(datum.value, list):
            found: list[DatumInContext] = []
            for position, item in enumerate(datum.value):
                found.extend(self.find(DatumInContext(item, path=Index(position), context=datum)))
            return found
        return super().find(datum)


def _walking(node: Any) -> Any:
    """Rebuild `node` so that every field step of the path walks through arrays.

    A field step on the right of `..` is left alone: recursive descent already visits every
    array element, and walking there too would report each match twice. Filter expressions
    keep jsonpath-ng's own reading.
    """
    if type(node) is Child:
        right = node.right
        if type(right) is Fields:
            right = WalkingFields._compliant_constructor(*right.fields)
        else:
            right = _walking(right)
        return Child(_walking(node.left), right)
    if type(node) is Descendants:
        return Descendants(_walking(node.left), _walking(node.right))
    if type(node) in (Where, WhereNot):
        return type(node)(_walking(node.left), _walking(node.right))
    return node


def plain_steps(node: Any) -> tuple[Step, ...] | None:
    """The steps of a parsed path made only of single fields, indexes and wildcards, else None."""
    steps: list[Step] = []
    while type(node) is Child:
        right = node.right
        if type(right) is Fields and len(right.fields) == 1 and not right._deprecated_wildcard_use:
            steps.append((FIELD, right.fields[0]))
        elif type(right) is Index and len(right.indices) == 1:
            steps.append((INDEX, right.indices[0]))
        elif type(right) is Wildcard:
            steps.append((WILDCARD, None))
        else:
            return None
        node = node.left
    if type(node) is not Root or not steps:
        return None
    return tuple(reversed(steps))


def _guard_key(node: Any) -> str | None:
    """The first field of the chain every match must start with, if there is one."""
    while type(node) in (Child, Descendants, Where, WhereNot):
        left = node.left
        if type(node) is Child and type(left) is Root:
            right = node.right
            if type(right) is Fields and len(right.fields) == 1:
                return right.fields[0]
            return None
        node = left
    return None


def parse_expression(text: str) -> Any:
    """Parse an absolute JSONPath with jsonpath-ng's extended parser; PathSyntaxError if bad."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return _parse(text)
    except Exception as error:  # ply and jsonpath-ng raise assorted exception types
        raise PathSyntaxError(str(error) or type(error).__name__) from None


def compile_expression(text: str) -> tuple[tuple[Step, ...] | None, Any, str | None]:
    """(steps, None, None) if `text` reads as a plain chain, else (None, expression, guard_key)."""
    parsed = parse_expression(text)
    steps = plain_steps(parsed)
    if steps is not None:
        return steps, None, None
    return None, _walking(parsed), _guard_key(parsed)


def find_values(expression: Any, data: Any) -> list[Any]:
    """Non-null values of every match; an expression that fails on odd data matches nothing.
    (Values are ``marked``: arithmetic can compute a float the sink must spell Python's way.)"""
    try:
        return [marked(match.value) for match in expression.find(data)
                if match.value is not None]
    except Exception:  # mapping bad data never raises: arithmetic, `len` etc. on the wrong type
        return []
