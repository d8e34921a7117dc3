"""OData ``$filter`` text: checking what users type and building what we send.

Filters are parsed with odata-query's grammar before any request. Graph spells functions
``startsWith`` and allows qualified enum literals (``microsoft.graph.riskLevel'high'``), which the
grammar does not know; both are rewritten outside string literals before parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from executor.model import ResourceSpec

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


_COMPARATORS = {"Eq": "eq", "NotEq": "ne", "Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge",
                "In": "in"}
_MIRRORED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_FUNCTION_OPERATORS = {"startswith": "startsWith", "endswith": "endsWith"}


class _FilterCheck:
    """Walks a parsed filter: every condition must use a property and an operator that the
    resource documents as filterable (its ``filter`` table in the manifest's catalogue)."""

    def __init__(self, resource: ResourceSpec) -> None:
        self.resource = resource

    def refuse_path(self, path: list[str]) -> ValueError:
        filterable = ", ".join(self.resource.filters) or "none"
        where = "/".join(path)
        if path[0] not in self.resource.properties:
            return ValueError(f"'{where}' is not a property of {self.resource.item_type} "
                              f"(filterable properties: {filterable})")
        return ValueError(f"Graph does not filter {self.resource.item_type} on '{where}' "
                          f"(filterable properties: {filterable})")

    def operators(self, path: list[str]) -> tuple[str, ...]:
        operators = self.resource.filters.get("/".join(path))
        if operators is None:
            raise self.refuse_path(path)
        return operators

    def allow(self, path: list[str], operator: str) -> None:
        operators = self.operators(path)
        if operator not in operators:
            raise ValueError(f"'{'/'.join(path)}' does not support {operator} in Graph; "
                             f"allowed: {', '.join(operators)}")

    def walk(self, node: Any, scope: dict[str, list[str]]) -> None:
        from odata_query import ast

        if isinstance(node, ast.BoolOp):
            self.walk(node.left, scope)
            self.walk(node.right, scope)
        elif isinstance(node, ast.UnaryOp):
            raise ValueError("'not' is not supported by Graph here; state the condition "
                             "with the documented operators")
        elif isinstance(node, ast.Compare):
            self.compare(node, scope)
        elif isinstance(node, ast.Call):
            name = node.func.name.lower()
            operator = _FUNCTION_OPERATORS.get(name)
            path = _resolved(_path_of(node.args[0]), scope) if node.args else None
            if operator is None or path is None or not _is_literal(node.args[1]):
                raise ValueError(f"function '{name}' is not supported by Graph here; "
                                 "use startsWith(property, 'text') where documented")
            self.allow(path, operator)
        elif isinstance(node, ast.CollectionLambda):
            owner = _resolved(_path_of(node.owner), scope)
            if owner is None:
                raise ValueError("a lambda (any/all) needs a collection property")
            self.operators(owner)  # the collection itself must be filterable
            if not isinstance(node.operator, ast.Any):
                raise ValueError(f"'{'/'.join(owner)}/all(...)' is not supported by Graph; "
                                 "use any(...)")
            lambda_ = node.lambda_
            if lambda_ is None:
                raise ValueError(f"'{'/'.join(owner)}/any()' needs a condition")
            self.walk(lambda_.expression, {**scope, lambda_.identifier.name: owner})
        else:
            raise ValueError("is not a condition Graph accepts (use property operator value)")

    def compare(self, node: Any, scope: dict[str, list[str]]) -> None:
        operator = _COMPARATORS.get(type(node.comparator).__name__, "?")
        left, right = _resolved(_path_of(node.left), scope), _resolved(_path_of(node.right),
                                                                       scope)
        if left is None and right is not None and _is_literal(node.left):
            left, operator = right, _MIRRORED.get(operator, operator)
        elif left is None or not _is_literal(node.right):
            raise ValueError("compares something other than a property with a value")
        self.allow(left, operator)


def _is_literal(node: Any) -> bool:
    from odata_query import ast

    return isinstance(node, ast._Literal | ast.List)


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


def check_filter(text: str, resource: ResourceSpec) -> None:
    """Refuse invalid syntax, or a property or operator that Graph does not document as
    filterable on ``resource`` (``ValueError`` naming the allowed operators)."""
    if len(text) > 4000:
        raise ValueError("is longer than 4000 characters")
    _FilterCheck(resource).walk(parse(text), {})
