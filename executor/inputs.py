"""Command inputs: map names, normalise what people type, apply defaults, validate.

Normalisation accepts the forms a platform user types: JSON arrays as text (curly quotes too),
comma lists or one value; integers as text; dates in the reference's form or ISO 8601; enum
display names or API values in any case. Validation then runs the command's input JSON Schema
and the manifest's cross-input rules. Every refusal is one :class:`InvalidInput` naming the
input by its display name and saying what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from jsonschema.exceptions import ValidationError

from executor.datetimes import format_datetime, parse_datetime
from executor.errors import InvalidInput
from executor.model import AllowedValue, CommandSpec, InputSpec
from executor.registry import Check
from executor.schema_store import SchemaStore

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CURLY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_INTEGER = re.compile(r"^[+]?\d{1,18}$")


def fold(text: str) -> str:
    """``At Risk``, ``at-risk``, ``AT_RISK`` and ``atRisk`` all fold to ``atrisk``."""
    return re.sub(r"[\s_-]+", "", text).casefold()


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def _as_text(spec: InputSpec, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(spec.display_name, f"must be text, not {type(value).__name__}")
    text = str(value).strip()
    if _CONTROL.search(text):
        raise InvalidInput(spec.display_name, "must not contain control characters")
    return text


def _normalise_integer(spec: InputSpec, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise InvalidInput(spec.display_name, f"{_quote(value)} is not a whole number")


def _normalise_datetime(spec: InputSpec, value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    text = _as_text(spec, value)
    try:
        return format_datetime(parse_datetime(text))
    except (ValueError, OverflowError):
        raise InvalidInput(spec.display_name,
                           f"{_quote(text)} is not a date; use the form 04/15/2024 01:00 AM "
                           "or ISO 8601 such as 2024-04-15T01:00:00Z (UTC)") from None


def describe_allowed(values: tuple[AllowedValue, ...]) -> str:
    names = ", ".join(v.display_name for v in values)
    graph = ", ".join(v.value for v in values if fold(v.value) != fold(v.display_name))
    return f"{names}" + (f" (or the API values {graph})" if graph else "")


def _normalise_enum(spec: InputSpec, value: Any) -> str:
    text = _as_text(spec, value)
    key = fold(text)
    for allowed in spec.allowed_values:
        if key in (fold(allowed.value), fold(allowed.display_name)):
            return allowed.value
    if spec.open:  # the known values are suggestions; the schema's pattern checks the rest
        return text.strip()
    raise InvalidInput(spec.display_name,
                       f"{_quote(text)} is not one of {describe_allowed(spec.allowed_values)}")


def _normalise_list(spec: InputSpec, value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.translate(_CURLY).strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(spec.display_name,
                                   f"is not a valid JSON array ({exc.msg} at character "
                                   f"{exc.pos}); give a JSON array, a comma list or one value"
                                   ) from None
        else:
            value = text.split(",")
    elif not isinstance(value, list | tuple):
        value = [value]
    items: list[str] = []
    seen: set[str] = set()
    for item in value:
        if isinstance(item, list | dict) or item is None:
            raise InvalidInput(spec.display_name, f"items must be text, not {_quote(item)}")
        text = _as_text(spec, item)
        if text and text.casefold() not in seen:  # duplicates removed, first spelling kept
            seen.add(text.casefold())
            items.append(text)
    if not items:
        raise InvalidInput(spec.display_name, "is empty; give at least one value")
    return items


_NORMALISERS: dict[str, Callable[[InputSpec, Any], Any]] = {
    "string": _as_text,
    "integer": _normalise_integer,
    "datetime": _normalise_datetime,
    "enum": _normalise_enum,
    "list": _normalise_list,
}


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


class InputValidator:
    """Validates one command's inputs; built once per command and reused."""

    def __init__(self, command: CommandSpec, store: SchemaStore, checks: Mapping[str, Check],
                 now: Callable[[], datetime]) -> None:
        self.command = command
        self.store = store
        self.checks = checks
        self.now = now

    def _by_name(self, raw: Mapping[str, Any]) -> dict[str, tuple[InputSpec, Any]]:
        given: dict[str, tuple[InputSpec, Any]] = {}
        for name, value in raw.items():
            spec = self.command.input_named(str(name))
            if spec is None:
                valid = ", ".join(s.display_name for s in self.command.inputs) or "none"
                raise InvalidInput(str(name), f"is not an input of {self.command.display_name};"
                                              f" valid inputs: {valid}")
            if spec.id in given:
                raise InvalidInput(spec.display_name, "is given twice")
            if not _is_empty(value):
                given[spec.id] = (spec, value)
        return given

    def validate(self, raw: Mapping[str, Any],
                 warnings: list[str] | None = None) -> dict[str, Any]:
        """Normalised, validated inputs keyed by input id; raises :class:`InvalidInput`.
        An input given where it does not apply is dropped, and said in ``warnings``."""
        given = self._by_name(raw)
        values: dict[str, Any] = {}
        for spec_id, (spec, value) in given.items():
            values[spec_id] = _NORMALISERS[spec.type](spec, value)
        self._apply_defaults(values)
        ignored = self._drop_inapplicable(values)
        if warnings is not None:
            warnings.extend(ignored)
        self._check_schema(values)
        self._check_order(values)
        self._run_checks(values)
        return values

    def _apply_defaults(self, values: dict[str, Any]) -> None:
        pending = [s for s in self.command.inputs if s.id not in values and s.default is not None]
        for spec in sorted(pending, key=lambda s: isinstance(s.default, dict)):
            if spec.required:
                continue
            default = spec.default
            if default == "now" and spec.type == "datetime":
                values[spec.id] = format_datetime(self.now())
            elif isinstance(default, dict):
                base = parse_datetime(values[default["offset_from"]])
                try:
                    moment = base + timedelta(hours=default["hours"])
                except OverflowError:
                    other = next(s for s in self.command.inputs
                                 if s.id == default["offset_from"])
                    raise InvalidInput(other.display_name, f"{values[other.id]} is too far "
                                       f"from today to derive {spec.display_name}") from None
                values[spec.id] = format_datetime(moment)
            else:
                values[spec.id] = _NORMALISERS[spec.type](spec, default)
        for spec in self.command.inputs:
            if spec.required and spec.id not in values:
                raise InvalidInput(spec.display_name, "is required")

    def _drop_inapplicable(self, values: dict[str, Any]) -> list[str]:
        """Inputs that apply only to some values of another (Risk Level: only to risk event
        types) are refused elsewhere, or ignored with one warning each when the manifest says
        ``ignored_elsewhere`` (as the reference documents Risk Level and Risk Event Type)."""
        warnings: list[str] = []
        for spec in self.command.inputs:
            if spec.only_when is None or spec.id not in values:
                continue
            other_id, allowed = spec.only_when
            other = next(s for s in self.command.inputs if s.id == other_id)
            if values.get(other_id) not in allowed:
                names = {v.value: v.display_name for v in other.allowed_values}
                wanted = ", ".join(names.get(a, a) for a in allowed)
                given = str(values.get(other_id))
                actual = names.get(given, given)
                if not spec.ignored_elsewhere:
                    raise InvalidInput(spec.display_name,
                                       f"applies only when {other.display_name} is one of "
                                       f"{wanted} (it is {actual})")
                del values[spec.id]
                warnings.append(f"Input '{spec.display_name}' ignored: it applies only when "
                                f"{other.display_name} is one of {wanted} (it is {actual})")
        return warnings

    def _check_schema(self, values: dict[str, Any]) -> None:
        error = self.store.first_error(self.command.input_schema, values)
        if error is not None:
            raise self._explain(error, values)

    def _explain(self, error: ValidationError, values: Mapping[str, Any]) -> InvalidInput:
        path = list(error.absolute_path)
        spec_id = str(path[0]) if path else None
        if error.validator == "required":
            missing = [r for r in error.validator_value if r not in values]
            spec_id = missing[0] if missing else spec_id
        if error.validator == "additionalProperties" and not path:
            extra = sorted(set(values) - set(self.store.document(
                self.command.input_schema).get("properties", {})))
            return InvalidInput(extra[0] if extra else "?", "is not accepted")
        spec = next((s for s in self.command.inputs if s.id == spec_id), None)
        name = spec.display_name if spec else str(spec_id)
        schema = error.schema if isinstance(error.schema, dict) else {}
        item = f"item {path[1] + 1} " if len(path) > 1 and isinstance(path[1], int) else ""
        validator, bound, instance = error.validator, error.validator_value, error.instance
        if validator == "required":
            problem = "is required"
        elif validator in ("minimum", "maximum"):
            full = self._bounds(spec_id)
            problem = f"{instance} is out of range; must be between {full[0]} and {full[1]}"
        elif validator == "enum":
            shown = ", ".join(map(str, bound))
            problem = f"{item}{_quote(instance)} is not one of {shown}"
        elif validator == "pattern":
            hint = schema.get("x-hint", f"matching {bound}")
            problem = f"{item}{_quote(instance)} is not {hint}"
        elif validator == "minItems":
            problem = f"needs at least {bound} value(s)"
        elif validator == "maxItems":
            problem = f"takes at most {bound} values (got {len(instance)})"
        elif validator == "uniqueItems":
            problem = "lists a value twice"
        elif validator == "minLength":
            problem = f"{item}is too short (at least {bound} characters)"
        elif validator == "maxLength":
            problem = f"{item}is too long (at most {bound} characters)"
        else:
            problem = f"{item}{error.message}"
        return InvalidInput(name, problem)

    def _bounds(self, spec_id: str | None) -> tuple[Any, Any]:
        prop = self.store.document(self.command.input_schema)["properties"].get(spec_id, {})
        return prop.get("minimum", "-"), prop.get("maximum", "-")

    def _check_order(self, values: dict[str, Any]) -> None:
        for spec in self.command.inputs:
            if not (spec.not_after and spec.id in values and spec.not_after in values):
                continue
            if parse_datetime(values[spec.id]) > parse_datetime(values[spec.not_after]):
                other = next(s for s in self.command.inputs if s.id == spec.not_after)
                raise InvalidInput(spec.display_name,
                                   f"{values[spec.id]} is after {other.display_name} "
                                   f"{values[spec.not_after]}")

    def _run_checks(self, values: dict[str, Any]) -> None:
        for spec in self.command.inputs:
            if spec.check and spec.id in values:
                resource = self.command.resource_for(values)
                try:
                    self.checks[spec.check["name"]](values[spec.id], values, resource)
                except ValueError as exc:
                    raise InvalidInput(spec.display_name, str(exc)) from None
