"""OData query options evaluated on internal records: $filter, $select, $orderby, $top.

$filter is parsed by odata-query's lexer and parser and the AST is compiled here into a Python
predicate, with types checked against the emulator's own schema (emulator.schema).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from emulator import schema, timefmt

if TYPE_CHECKING:
    from odata_query import ast
else:

    class _LazyAst:
        """``odata_query.ast`` (~40 ms of imports, dateutil's parser among them), imported when
        a $filter is first parsed: most requests carry only $top and $select."""

        def __getattr__(self, name: str) -> Any:
            from odata_query import ast as module

            return getattr(module, name)

    ast = _LazyAst()

Env = dict[str, Any]
Fn = Callable[[Env], Any]


class ODataError(Exception):
    """A query option Graph would reject with 400 BadRequest."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Filter:
    """A compiled $filter: the predicate plus what the store can use to narrow its scan."""

    text: str
    predicate: Callable[[dict[str, Any]], bool]
    time_bounds: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    id_equals: str | None = None
    mentions: frozenset[str] = frozenset()

    def __call__(self, record: dict[str, Any]) -> bool:
        return self.predicate(record)


_QUALIFIED = re.compile(r"(microsoft\.graph\.([A-Za-z_]\w*))\s*$")
_FUNC = re.compile(r"\b([A-Za-z_][\w.]*)(\s*\()")


def _preprocess(text: str) -> tuple[str, list[str]]:
    """Rewrite enum literals `microsoft.graph.riskLevel'x'` to `'x'` (odata-query cannot parse
    them) and lower-case function names (`startsWith`), touching nothing inside strings."""
    out: list[str] = []
    enum_types: list[str] = []
    plain: list[str] = []
    i, n = 0, len(text)

    def flush() -> None:
        if plain:
            segment = "".join(plain)
            segment = _FUNC.sub(lambda m: m.group(1).lower() + m.group(2), segment)
            segment = re.sub(r"\bnot\(", "not (", segment)
            out.append(segment)
            plain.clear()

    while i < n:
        c = text[i]
        if c != "'":
            plain.append(c)
            i += 1
            continue
        j = i + 1
        while j < n:
            if text[j] == "'":
                if j + 1 < n and text[j + 1] == "'":
                    j += 2
                    continue
                break
            j += 1
        if j >= n:
            raise ODataError(f"Syntax error: unterminated string literal at position {i} in "
                             f"'{text}'.")
        pending = "".join(plain)
        match = _QUALIFIED.search(pending)
        if match:
            enum_types.append(match.group(2))
            plain[:] = list(pending[: match.start(1)])
        flush()
        out.append(text[i : j + 1])
        i = j + 1
    flush()
    return "".join(out), enum_types


def _parse(text: str) -> ast._Node:
    # Imported here: SLY builds the parser's LR tables when the grammar module loads (about a
    # quarter of an embedded emulator's start), and most runs send no $filter at all.
    from odata_query import exceptions as odata_exceptions
    from odata_query.grammar import ODataLexer, ODataParser

    try:
        return ODataParser().parse(ODataLexer().tokenize(text))
    except odata_exceptions.TokenizingException as exc:
        pos = getattr(exc.token, "index", 0)
        raise ODataError(f"Syntax error at position {pos} in '{text}'.") from exc
    except odata_exceptions.ParsingException as exc:
        pos = getattr(exc.token, "index", len(text)) if exc.token is not None else len(text)
        raise ODataError(f"Syntax error at position {pos} in '{text}'.") from exc
    except odata_exceptions.UnknownFunctionException as exc:
        raise ODataError(
            f"An unknown function with name '{exc.function_name}' was found. This may also be a "
            "function import or a key lookup on a navigation property, which is not allowed."
        ) from exc
    except odata_exceptions.ODataException as exc:
        raise ODataError(str(exc)) from exc


_EDM = {"string": "Edm.String", "bool": "Edm.Boolean", "int": "Edm.Int32",
        "double": "Edm.Double", "datetime": "Edm.DateTimeOffset"}


@cache
def _ops() -> dict[type, str]:
    return {ast.Eq: "Equal", ast.NotEq: "NotEqual", ast.Gt: "GreaterThan",
            ast.GtE: "GreaterThanOrEqual", ast.Lt: "LessThan", ast.LtE: "LessThanOrEqual",
            ast.In: "In"}


@cache
def _flip() -> dict[type, Any]:
    return {ast.Gt: ast.Lt(), ast.GtE: ast.LtE(), ast.Lt: ast.Gt(), ast.LtE: ast.GtE(),
            ast.Eq: ast.Eq(), ast.NotEq: ast.NotEq()}


def _edm(t: Any) -> str:
    if isinstance(t, str):
        return _EDM.get(t, t)
    if t[0] == "enum":
        return f"microsoft.graph.{t[1]}"
    if t[0] == "collection":
        return f"Collection({_edm(t[1])})"
    return "microsoft.graph.complexType"


def _literal_edm(node: ast._Node) -> str:
    return {
        ast.String: "Edm.String", ast.Integer: "Edm.Int32", ast.Float: "Edm.Double",
        ast.Boolean: "Edm.Boolean", ast.DateTime: "Edm.DateTimeOffset", ast.GUID: "Edm.Guid",
        ast.Date: "Edm.Date", ast.Time: "Edm.TimeOfDay", ast.Duration: "Edm.Duration",
        ast.Null: "null",
    }.get(type(node), type(node).__name__)


class _Compiler:
    def __init__(self, resource: schema.ResourceSchema, include_unknown: bool,
                 case_sensitive: bool = False) -> None:
        self.resource = resource
        self.include_unknown = include_unknown
        self.fold: Callable[[str], str] = (lambda v: v) if case_sensitive else str.lower
        self.mentions: set[str] = set()

    def hidden(self, t: Any) -> frozenset[str]:
        """Evolvable members the caller did not opt in to (they read as the sentinel)."""
        if self.include_unknown or not (isinstance(t, tuple) and t[0] == "enum"):
            return frozenset()
        return schema.evolvable(t[1])

    def unknown(self, name: str, owner: str) -> ODataError:
        return ODataError(f"Could not find a property named '{name}' on type '{owner}'.")

    # -- values ---------------------------------------------------------------------------

    def value(self, node: ast._Node, scope: dict[str, Any]) -> tuple[Fn, Any]:
        if isinstance(node, ast.Identifier):
            if node.namespace:
                raise self.unknown(node.full_name(), f"microsoft.graph.{self.resource.entity}")
            if node.name in scope:
                name = node.name
                return (lambda env: env[name]), scope[name]
            prop = self.resource.resolve(node.name)
            if prop is None:
                raise self.unknown(node.name, f"microsoft.graph.{self.resource.entity}")
            self.mentions.add(prop)
            return (lambda env: env["$it"].get(prop)), self.resource.props[prop]
        if isinstance(node, ast.Attribute):
            owner_fn, owner_t = self.value(node.owner, scope)
            if not (isinstance(owner_t, tuple) and owner_t[0] == "complex"):
                raise self.unknown(node.attr, _edm(owner_t))
            lower = {k.lower(): k for k in owner_t[1]}
            attr = lower.get(node.attr.lower())
            if attr is None:
                raise self.unknown(node.attr, _edm(owner_t))

            def get(env: Env) -> Any:
                owner = owner_fn(env)
                return owner.get(attr) if owner is not None else None

            return get, owner_t[1][attr]
        raise ODataError(
            f"The query specified in the URI is not valid. Unsupported expression "
            f"'{type(node).__name__}'."
        )

    def literal(self, node: ast._Node, target: Any, op: str) -> Any:
        if isinstance(node, ast.Null):
            return None
        mismatch = ODataError(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{_edm(target)}' and '{_literal_edm(node)}' for operator kind '{op}'."
        )
        if target == "datetime":
            if not isinstance(node, ast.DateTime):
                raise mismatch
            try:
                return timefmt.parse_iso(node.val)
            except ValueError as exc:
                raise ODataError(f"Invalid DateTimeOffset literal '{node.val}'.") from exc
        if target == "string":
            if not isinstance(node, ast.String):
                raise mismatch
            return self.fold(node.val)
        if target in ("int", "double"):
            if isinstance(node, ast.Integer):
                return int(node.val)
            if isinstance(node, ast.Float) and target == "double":
                return float(node.val)
            raise mismatch
        if target == "bool":
            if not isinstance(node, ast.Boolean):
                raise mismatch
            return node.py_val
        if isinstance(target, tuple) and target[0] == "enum":
            if not isinstance(node, ast.String):
                raise mismatch
            member = schema.enum_lookup(target[1]).get(node.val.lower())
            if member is None or member in self.hidden(target):
                raise ODataError(
                    f"The string '{node.val}' is not a valid enumerated type constant."
                )
            return member
        raise mismatch

    # -- predicates -----------------------------------------------------------------------

    def predicate(self, node: ast._Node, scope: dict[str, Any]) -> Fn:
        if isinstance(node, ast.BoolOp):
            left = self.predicate(node.left, scope)
            right = self.predicate(node.right, scope)
            if isinstance(node.op, ast.And):
                return lambda env: left(env) and right(env)
            return lambda env: left(env) or right(env)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.predicate(node.operand, scope)
            return lambda env: not inner(env)
        if isinstance(node, ast.Compare):
            return self.compare(node, scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.CollectionLambda):
            return self.collection(node, scope)
        if isinstance(node, ast._Literal):
            raise ODataError("The $filter expression must evaluate to a single boolean value.")
        raise ODataError(
            "The query specified in the URI is not valid. The $filter expression must evaluate "
            "to a single boolean value."
        )

    def compare(self, node: ast.Compare, scope: dict[str, Any]) -> Fn:
        left, right, comparator = node.left, node.right, node.comparator
        if isinstance(left, ast._Literal) and not isinstance(right, ast._Literal):
            if isinstance(comparator, ast.In):
                raise ODataError("The right operand of 'in' must be a list of literals.")
            left, right, comparator = right, left, _flip()[type(comparator)]
        op_name = _ops()[type(comparator)]
        get, t = self.value(left, scope)
        if isinstance(t, tuple) and t[0] in ("collection", "complex"):
            raise ODataError(
                f"The operand for a binary operator '{op_name}' is not a single value. Binary "
                "operators require both operands to be single values."
            )
        if isinstance(comparator, ast.In):
            if not isinstance(right, ast.List):
                raise ODataError("The right operand of 'in' must be a list of literals.")
            values = {self.literal(v, t, "Equal") for v in right.val}
            if t == "string":
                fold = self.fold
                return lambda env: (None if (v := get(env)) is None else fold(v)) in values
            hidden = self.hidden(t)
            if hidden:
                sentinel = schema.SENTINEL[t[1]]
                return lambda env: (sentinel if (v := get(env)) in hidden else v) in values
            return lambda env: get(env) in values
        if not isinstance(right, ast._Literal) or isinstance(right, ast.List):
            raise ODataError(
                "The query specified in the URI is not valid. Only comparisons between a "
                "property and a literal are supported."
            )
        lit = self.literal(right, t, op_name)
        ordered = not isinstance(comparator, ast.Eq | ast.NotEq)
        if ordered and (t == "bool" or (isinstance(t, tuple) and t[0] == "enum")):
            raise ODataError(
                f"A binary operator with incompatible types was detected. Found operand types "
                f"'{_edm(t)}' and '{_literal_edm(right)}' for operator kind '{op_name}'."
            )
        hidden = self.hidden(t)
        norm: Callable[[Any], Any]
        if t == "string":
            fold = self.fold
            norm = lambda v: fold(v) if v is not None else None  # noqa: E731
        elif hidden:
            sentinel = schema.SENTINEL[t[1]]
            norm = lambda v: sentinel if v in hidden else v  # noqa: E731
        else:
            norm = lambda v: v  # noqa: E731
        if isinstance(comparator, ast.Eq):
            return lambda env: norm(get(env)) == lit
        if isinstance(comparator, ast.NotEq):
            return lambda env: norm(get(env)) != lit
        if lit is None:
            return lambda env: False
        cmp = {ast.Gt: lambda a: a > lit, ast.GtE: lambda a: a >= lit,
               ast.Lt: lambda a: a < lit, ast.LtE: lambda a: a <= lit}[type(comparator)]
        return lambda env: (v := norm(get(env))) is not None and cmp(v)

    def call(self, node: ast.Call, scope: dict[str, Any]) -> Fn:
        name = node.func.full_name().lower()
        if name != "startswith":
            raise ODataError(
                f"The query specified in the URI is not valid. The function '{name}' is not "
                "supported on this resource."
            )
        target, prefix = node.args
        get, t = self.value(target, scope)
        if t != "string" or not isinstance(prefix, ast.String):
            raise ODataError(
                "No function signature for the function with name 'startswith' matches the "
                f"specified arguments. The function signatures considered are: "
                f"startswith(Edm.String Nullable=true, Edm.String Nullable=true); found "
                f"({_edm(t)}, {_literal_edm(prefix)})."
            )
        fold = self.fold
        lit = fold(prefix.val)
        return lambda env: (v := get(env)) is not None and fold(v).startswith(lit)

    def collection(self, node: ast.CollectionLambda, scope: dict[str, Any]) -> Fn:
        get, t = self.value(node.owner, scope)
        if not (isinstance(t, tuple) and t[0] == "collection"):
            raise ODataError(
                f"The parent value for a property access of a property 'any' is not a single "
                f"value. Property access can only be applied to a collection value "
                f"('{_edm(t)}')."
            )
        is_any = isinstance(node.operator, ast.Any)
        if node.lambda_ is None:
            if not is_any:
                raise ODataError("all() requires a lambda expression.")
            return lambda env: bool(get(env))
        var = node.lambda_.identifier.name
        body = self.predicate(node.lambda_.expression, {**scope, var: t[1]})

        def check(env: Env) -> bool:
            items = get(env) or ()
            inner = dict(env)
            for item in items:
                inner[var] = item
                if body(inner) != is_any:
                    continue
                return is_any
            return not is_any

        return check


class FilterRulesError(ODataError):
    """A $filter that parses but uses a property or operator Graph does not document."""


@cache
def _op_names() -> dict[type, str]:
    return {ast.Eq: "eq", ast.NotEq: "ne", ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt",
            ast.LtE: "le", ast.In: "in"}


@dataclass(frozen=True)
class FilterRules:
    """The documented $filter surface of one collection (emulator.resources)."""

    properties: dict[str, frozenset[str]]  # "location/city" -> {"eq", "startswith"}
    collections: dict[str, frozenset[str]]  # filterable via any(x: x <op> literal)

    def check(self, tree: ast._Node, resource: schema.ResourceSchema) -> None:
        self._walk(tree, resource, None)

    def _path(self, node: ast._Node, resource: schema.ResourceSchema) -> str | None:
        if isinstance(node, ast.Identifier) and not node.namespace:
            return resource.resolve(node.name) or node.name
        if isinstance(node, ast.Attribute):
            owner = self._path(node.owner, resource)
            return None if owner is None else f"{owner}/{node.attr}"
        return None

    def _allowed(self, table: dict[str, frozenset[str]], path: str) -> frozenset[str] | None:
        lower = path.lower()
        return next((ops for name, ops in table.items() if name.lower() == lower), None)

    def _walk(self, node: ast._Node, resource: schema.ResourceSchema,
              lam: tuple[str, frozenset[str]] | None) -> None:
        """`lam`: inside any(), the lambda variable and the operators allowed on it."""
        if isinstance(node, ast.BoolOp):
            self._walk(node.left, resource, lam)
            self._walk(node.right, resource, lam)
            return
        if isinstance(node, ast.UnaryOp):
            raise FilterRulesError("The operator 'not' is not supported.")
        if isinstance(node, ast.Compare):
            left, right, op = node.left, node.right, node.comparator
            if isinstance(left, ast._Literal) and not isinstance(right, ast._Literal):
                left, right = right, left
                op = _flip().get(type(op), op)
            self._operand(left, _op_names()[type(op)], resource, lam)
            return
        if isinstance(node, ast.Call):
            name = node.func.full_name().lower()
            self._operand(node.args[0] if node.args else node, name, resource, lam)
            return
        if isinstance(node, ast.CollectionLambda):
            path = self._path(node.owner, resource)
            allowed = self._allowed(self.collections, path) if path else None
            if (allowed is None or lam is not None or not isinstance(node.operator, ast.Any)
                    or node.lambda_ is None):
                raise FilterRulesError(f"Lambda expressions are not supported on "
                                       f"'{path or 'this property'}'.")
            self._walk(node.lambda_.expression, resource,
                       (node.lambda_.identifier.name, allowed))
            return
        raise FilterRulesError("The expression is not supported.")

    def _operand(self, node: ast._Node, op: str, resource: schema.ResourceSchema,
                 lam: tuple[str, frozenset[str]] | None) -> None:
        if lam is not None and isinstance(node, ast.Identifier) and node.name == lam[0]:
            if op not in lam[1]:
                raise FilterRulesError(f"The operator '{op}' is not supported inside any().")
            return
        path = self._path(node, resource)
        allowed = self._allowed(self.properties, path) if path else None
        if allowed is None:
            raise FilterRulesError(f"Filtering on '{path or 'this expression'}' is not "
                                   "supported.")
        if op not in allowed:
            raise FilterRulesError(f"The operator '{op}' is not supported for '{path}'; "
                                   f"supported: {', '.join(sorted(allowed))}.")


def _and_terms(node: ast._Node) -> list[ast._Node]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return _and_terms(node.left) + _and_terms(node.right)
    return [node]


def compile_filter(
    text: str, resource: schema.ResourceSchema, datetime_props: tuple[str, ...] = (),
    include_unknown: bool = False, rules: FilterRules | None = None,
    case_sensitive: bool = False,
) -> Filter:
    """Compile a $filter for `resource`; raises ODataError as Graph would answer 400.

    Without `Prefer: include-unknown-enum-members` (include_unknown False) evolvable enum
    members read as their sentinel and naming one in a literal is an error. With `rules`, only
    the documented properties and operators pass (FilterRulesError otherwise).
    """
    if not text.strip():
        raise ODataError("The $filter expression must not be empty.")
    rewritten, enum_types = _preprocess(text)
    for enum_type in enum_types:
        if enum_type not in schema.ENUMS:
            raise ODataError(f"The type 'microsoft.graph.{enum_type}' is not defined.")
    tree = _parse(rewritten)
    compiler = _Compiler(resource, include_unknown, case_sensitive)
    fn = compiler.predicate(tree, {})  # type errors first, as Graph reports them
    if rules is not None:
        rules.check(tree, resource)

    def predicate(record: dict[str, Any]) -> bool:
        return bool(fn({"$it": record}))

    result = Filter(text=text, predicate=predicate, mentions=frozenset(compiler.mentions))
    for term in _and_terms(tree):
        if not (isinstance(term, ast.Compare) and isinstance(term.left, ast.Identifier)):
            continue
        prop = resource.resolve(term.left.name)
        if prop == "id" and isinstance(term.comparator, ast.Eq) and isinstance(
            term.right, ast.String
        ):
            result.id_equals = term.right.val
        if prop in datetime_props and isinstance(term.right, ast.DateTime):
            ticks = timefmt.parse_iso(term.right.val)
            lo, hi = result.time_bounds.get(prop, (None, None))
            c = term.comparator
            if isinstance(c, ast.Eq | ast.GtE | ast.Gt):
                bound = ticks + (1 if isinstance(c, ast.Gt) else 0)
                lo = bound if lo is None else max(lo, bound)
            if isinstance(c, ast.Eq | ast.LtE | ast.Lt):
                bound = ticks - (1 if isinstance(c, ast.Lt) else 0)
                hi = bound if hi is None else min(hi, bound)
            result.time_bounds[prop] = (lo, hi)
    return result


def literal_datetimes(text: str) -> list[int]:
    """Every DateTimeOffset literal in a filter (for Graph's 90-day look-back check)."""
    rewritten, _ = _preprocess(text)
    found: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, ast.DateTime):
            found.append(timefmt.parse_iso(node.val))
        elif isinstance(node, ast._Node):
            for value in vars(node).values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(_parse(rewritten))
    return found


def parse_select(text: str, resource: schema.ResourceSchema) -> list[str]:
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            raise ODataError(f"Syntax error at position {len(text)} in '{text}'.")
        if name == "*":
            return list(resource.props)
        prop = resource.resolve(name)
        if prop is None:
            raise ODataError(
                f"Could not find a property named '{name}' on type "
                f"'microsoft.graph.{resource.entity}'."
            )
        if prop not in names:
            names.append(prop)
    return names


def parse_orderby(text: str, resource: schema.ResourceSchema,
                  allowed: tuple[str, ...]) -> tuple[str, bool]:
    """(property, descending) for a single-property $orderby Graph supports here."""
    parts = text.strip().split()
    if not parts or len(parts) > 2 or "," in text:
        raise ODataError(f"The query specified in the URI is not valid. Only one property can "
                         f"be used in $orderby: '{text}'.")
    prop = resource.resolve(parts[0])
    if prop is None:
        raise ODataError(
            f"Could not find a property named '{parts[0]}' on type "
            f"'microsoft.graph.{resource.entity}'."
        )
    if prop not in allowed:
        raise ODataError(
            f"The query specified in the URI is not valid. The property '{prop}' cannot be "
            "used in the $orderby query option."
        )
    direction = parts[1].lower() if len(parts) == 2 else "asc"
    if direction not in ("asc", "desc"):
        raise ODataError(f"Syntax error at position {len(text)} in '{text}'.")
    return prop, direction == "desc"


def parse_top(text: str, maximum: int) -> int:
    try:
        top = int(text.strip())
    except ValueError:
        raise ODataError(
            f"Invalid value '{text}' for $top query option found. The $top query option "
            "requires a non-negative integer value."
        ) from None
    if top > maximum:
        raise ODataError(
            f"The limit of '{maximum}' for Top query has been exceeded. The value from the "
            f"incoming request is '{top}'."
        )
    if top < 1:
        raise ODataError(f"Invalid value '{text}' for $top query option found. The page size "
                         f"must be between 1 and {maximum}.")
    return top
