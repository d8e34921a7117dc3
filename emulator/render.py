"""Internal records <-> the JSON Graph returns: version projection, $select, DateTimeOffset
strings, and evolvable enum members hidden behind `unknownFutureValue` unless the caller sent
`Prefer: include-unknown-enum-members` (Graph's documented default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator import schema, timefmt

Transform = Callable[[Any], Any]


def _transform(t: Any, include_unknown: bool, wider: Any = None) -> Transform | None:
    """A function rendering one value of type t, or None when the value passes through as is.

    `wider` is the same property's type in the widest version the records were built for
    (beta); nested objects are projected only where it has properties that t lacks.
    """
    if t == "datetime":
        return lambda v: timefmt.format_ticks(v) if isinstance(v, int) else v
    if isinstance(t, tuple) and t[0] == "enum":
        if include_unknown:
            return None
        hidden = schema.evolvable(t[1])
        if not hidden:
            return None
        sentinel = schema.SENTINEL[t[1]]
        return lambda v: sentinel if v in hidden else v
    if isinstance(t, tuple) and t[0] == "collection":
        wider_inner = wider[1] if isinstance(wider, tuple) and wider[0] == "collection" else None
        inner = _transform(t[1], include_unknown, wider_inner)
        if inner is None:
            return None

        def collection_value(v: Any) -> Any:
            if v is None:
                return None
            out = None
            for n, item in enumerate(v):
                rendered = inner(item)
                if rendered is not item:
                    if out is None:
                        out = list(v)  # copy only when something changes
                    out[n] = rendered
            return v if out is None else out

        return collection_value
    if isinstance(t, tuple) and t[0] == "complex":
        allowed = frozenset(t[1])
        wider_props = wider[1] if isinstance(wider, tuple) and wider[0] == "complex" else None
        project = wider_props is None or not set(wider_props) <= allowed
        maybe_subs = {name: _transform(sub, include_unknown,
                                       wider_props.get(name) if wider_props else None)
                      for name, sub in t[1].items()}
        subs = {name: fn for name, fn in maybe_subs.items() if fn is not None}
        if not subs and not project:
            return None

        def complex_value(v: Any) -> Any:
            """Project to this version's properties (beta-only nested ones dropped on v1.0)
            and render what needs it; the input is returned as is when nothing changes."""
            if v is None or not isinstance(v, dict):
                return v
            out: dict[str, Any] | None = None
            if project and not v.keys() <= allowed:
                out = {k: x for k, x in v.items() if k in allowed}
            for name, fn in subs.items():
                if name in v:
                    old = v[name]
                    new = fn(old)
                    if new is not old and new != old:
                        if out is None:
                            out = dict(v)  # copy only when something changes
                        out[name] = new
            return v if out is None else out

        return complex_value
    return None


class Renderer:
    """Renders records of one resource for one (version, select, Prefer) combination."""

    def __init__(
        self,
        resource: schema.ResourceSchema,
        include_unknown: bool = False,
        select: list[str] | None = None,
        superset: schema.ResourceSchema | None = None,
    ) -> None:
        names = select if select is not None else list(resource.props)
        self.names = names
        self._keep = frozenset(names)
        wider = superset.props if superset is not None else {}
        transforms = {name: _transform(resource.props[name], include_unknown, wider.get(name))
                      for name in names}
        self._transforms = [(name, fn) for name, fn in transforms.items() if fn is not None]

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record's properties in its own order (Graph's), missing ones as null."""
        keep = self._keep
        if record.keys() <= keep:
            out = dict(record)
        else:
            out = {name: value for name, value in record.items() if name in keep}
        for name, fn in self._transforms:
            value = out.get(name)
            if value is not None:
                out[name] = fn(value)
        if len(out) < len(keep):
            for name in self.names:
                out.setdefault(name, None)
        return out


class RecordFormatError(ValueError):
    """A control-API record does not fit the resource's schema."""


def to_internal(record: dict[str, Any], resource: schema.ResourceSchema) -> dict[str, Any]:
    """Convert a JSON record (control API) to internal form: names canonical, times as ticks."""
    if not isinstance(record, dict):
        raise RecordFormatError("each record must be a JSON object")
    out: dict[str, Any] = {}
    for raw_name, value in record.items():
        if raw_name.startswith("@odata."):
            continue
        name = resource.resolve(raw_name)
        if name is None:
            raise RecordFormatError(
                f"unknown property '{raw_name}' for microsoft.graph.{resource.entity}"
            )
        out[name] = _convert(value, resource.props[name], name)
    return out


def _convert(value: Any, t: Any, where: str) -> Any:
    if value is None:
        return None
    if t == "datetime":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise RecordFormatError(f"{where}: expected an ISO 8601 date-time")
        try:
            return timefmt.parse_iso(value)
        except ValueError as exc:
            raise RecordFormatError(f"{where}: {exc}") from exc
    if isinstance(t, tuple) and t[0] == "enum":
        member = schema.enum_lookup(t[1]).get(str(value).lower())
        if member is None:
            raise RecordFormatError(f"{where}: '{value}' is not a member of {t[1]}")
        return member
    if isinstance(t, tuple) and t[0] == "collection":
        if not isinstance(value, list):
            raise RecordFormatError(f"{where}: expected a list")
        return [_convert(v, t[1], where) for v in value]
    if isinstance(t, tuple) and t[0] == "complex":
        if not isinstance(value, dict):
            raise RecordFormatError(f"{where}: expected an object")
        lower = {k.lower(): k for k in t[1]}
        out = {}
        for key, sub in value.items():
            name = lower.get(key.lower())
            if name is None:
                if key.startswith("@odata."):
                    continue
                raise RecordFormatError(f"{where}: unknown property '{key}'")
            out[name] = _convert(sub, t[1][name], f"{where}/{name}")
        return out
    expected = _PYTHON_TYPES[t]
    if not isinstance(value, expected) or (t in ("int", "double") and isinstance(value, bool)):
        raise RecordFormatError(f"{where}: expected {t}")
    return value


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "bool": bool, "int": int, "double": (int, float)}


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge patch over base (objects merged, everything else replaced)."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
