"""OData ``$filter`` text: checking what users type and building what we send.

Filters are parsed with odata-query's grammar before any request. Graph spells functions
``startsWith`` and allows qualified enum literals (``microsoft.graph.riskLevel'high'``), which the
grammar does not know; both are rewritten outside string literals before parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from commands.resources import RESOURCES

_FUNCTIONS = ("startswith", "endswith", "contains", "tolower", "toupper", "trim", "length",
              "indexof", "substring", "concat", "year", "month", "day", "hour", "minute",
              "second", "date", "time", "now", "round", "floor", "ceiling")
_QUALIFIED_PREFIX = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
"""``microsoft.graph.riskLevel`` right before a string literal: a qualified enum literal."""
_FUNCTION_NAME = re.compile(r"\b([A-Za-z]+)(?=\s*\()")


def quote(value: str) -> str:
    """A string literal for ``$filter``: single quotes doubled (the OData ABNF rule)."""
    return "'" + value.replace("'", "''") + "'"


def _outside_strings(text: str) -> Iterator[tuple[bool, str]]:
    """Split filter text into (is_string_literal, chunk) pieces; ``''`` stays inside."""
    for piece in re.split(r"('(?:[^']|'')*'?)", text):
        if piece:
            yield piece.startswith("'"), piece


def canonical(text: str) -> str:
    """The filter with functions lower-cased and enum literals unqualified, for the parser."""
    out = []
    pieces = list(_outside_strings(text))
    for index, (is_string, chunk) in enumerate(pieces):
        if not is_string:
            if index + 1 < len(pieces):
                chunk = _QUALIFIED_PREFIX.sub("", chunk)
            chunk = _FUNCTION_NAME.sub(
                lambda m: m.group(1).lower() if m.group(1).lower() in _FUNCTIONS
                else m.group(1), chunk)
        out.append(chunk)
    return "".join(out)


def parse(text: str) -> Any:
    """The odata-query AST of ``text``; ``ValueError`` with a readable reason when invalid."""
    from odata_query import exceptions as odata_errors
    from odata_query.grammar import ODataLexer, ODataParser

    source = canonical(text)
    try:
        return ODataParser().parse(ODataLexer().tokenize(source))
    except odata_errors.UnknownFunctionException as exc:
        raise ValueError(f"unknown function '{exc.function_name}'") from None
    except odata_errors.ArgumentCountException:
        raise ValueError("a function has the wrong number of arguments") from None
    except odata_errors.TokenizingException as exc:
        position = getattr(exc.token, "index", None)
        raise ValueError(f"is not valid OData syntax (unexpected character at position "
                         f"{position + 1 if position is not None else '?'})") from None
    except odata_errors.ParsingException as exc:
        if exc.token is None or exc.eof or _ends_early(source):
            raise ValueError("is not valid OData syntax (it ends too early)") from None
        raise ValueError(f"is not valid OData syntax (unexpected '{exc.token.value}' at "
                         f"position {exc.token.index + 1})") from None
    except odata_errors.ODataException as exc:
        raise ValueError(f"is not valid OData syntax ({exc})") from None
    except RecursionError:
        raise ValueError("is nested too deeply") from None


def _ends_early(source: str) -> bool:
    """Would the text parse if something were added at its end?"""
    from odata_query.grammar import ODataLexer, ODataParser

    for suffix in (" 1", ")", " 1)", " eq 1", "))"):
        try:
            ODataParser().parse(ODataLexer().tokenize(source + suffix))
        except Exception:  # any failure means "not this suffix"
            continue
        return True
    return False


def _property_paths(node: Any, scope: dict[str, list[str]]) -> Iterator[list[str]]:
    """Every property path (``['status', 'errorCode']``) the expression refers to.

    Inside ``any``/``all`` the lambda variable stands for an item of its collection, so
    ``appliedConditionalAccessPolicies/any(p: p/result eq 'failure')`` refers to
    ``appliedConditionalAccessPolicies/result``.
    """
    from odata_query import ast

    if isinstance(node, ast.CollectionLambda):
        owner = _resolved(_path_of(node.owner), scope)
        if owner is not None:
            yield owner
            inner = {**scope, node.lambda_.identifier.name: owner}
            yield from _property_paths(node.lambda_.expression, inner)
        return
    path = _resolved(_path_of(node), scope)
    if path is not None:
        yield path
        return
    if isinstance(node, ast.Call):
        for arg in node.args:
            yield from _property_paths(arg, scope)
        return
    for name in getattr(node, "__dataclass_fields__", {}):
        child = getattr(node, name)
        for item in child if isinstance(child, list | tuple) else [child]:
            if isinstance(item, ast._Node):
                yield from _property_paths(item, scope)


def _resolved(path: list[str] | None, scope: dict[str, list[str]]) -> list[str] | None:
    """A path with a leading lambda variable replaced by the collection it ranges over."""
    if path is None or path[0] not in scope:
        return path
    return [*scope[path[0]], *path[1:]]


def _path_of(node: Any) -> list[str] | None:
    from odata_query import ast

    if isinstance(node, ast.Identifier):
        return [node.name]
    if isinstance(node, ast.Attribute):
        owner = _path_of(node.owner)
        return None if owner is None else [*owner, node.attr]
    return None


def check_filter(text: str, resource: str) -> None:
    """Refuse invalid syntax or properties the resource does not have (``ValueError``)."""
    if len(text) > 4000:
        raise ValueError("is longer than 4000 characters")
    tree = parse(text)
    properties = RESOURCES[resource]
    for path in _property_paths(tree, {}):
        node: Any = properties
        for depth, segment in enumerate(path):
            if not isinstance(node, dict) or segment not in node:
                where = "/".join(path[:depth + 1])
                known = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
                raise ValueError(f"'{where}' is not a property of {resource} "
                                 f"(properties: {known})")
            node = node[segment]
