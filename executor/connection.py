"""Connection parameters: from a file or a dict, ``${ENV}`` references, defaults, validation."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from executor.errors import InvalidInput, UsageError
from executor.model import ConnectionParameter, Manifest
from executor.schema_store import SchemaStore

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def parse_bool(value: object) -> bool | None:
    """``True``/``False`` for a boolean or its usual spellings (``yes``, ``off``, ``1``...);
    None when the value is none of them."""
    if isinstance(value, bool):
        return value
    folded = str(value).strip().casefold()
    return folded in _TRUE if folded in _TRUE | _FALSE else None


def read_connection_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read connection file {path}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise UsageError(f"connection file {path} is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"connection file {path} must hold a mapping of parameter ids")
    return data


def _expand(param: ConnectionParameter, value: Any, environ: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise InvalidInput(param.display_name, f"environment variable {name} is not set")
        return environ[name]

    return _ENV_REFERENCE.sub(substitute, value)


def _coerce(param: ConnectionParameter, value: Any) -> Any:
    if param.type == "boolean" and isinstance(value, str):
        parsed = parse_bool(value)
        if parsed is None:
            raise InvalidInput(param.display_name, f"'{value}' is not true or false")
        return parsed
    if param.type in ("number", "integer") and isinstance(value, str):
        try:
            return float(value) if param.type == "number" else int(value)
        except ValueError:
            raise InvalidInput(param.display_name, f"'{value}' is not a number") from None
    if param.type == "string" and isinstance(value, str):
        return value.strip()
    return value


def resolve_connection(manifest: Manifest, store: SchemaStore, raw: Mapping[str, Any],
                       environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Validated connection parameters keyed by id, defaults applied, secrets from the env."""
    environ = os.environ if environ is None else environ
    params = {p.id: p for p in manifest.connection_parameters}
    by_name = {p.display_name.casefold(): p for p in manifest.connection_parameters}
    resolved: dict[str, Any] = {}
    for key, value in raw.items():
        param = params.get(str(key)) or by_name.get(str(key).casefold())
        if param is None:
            raise InvalidInput(str(key), "is not a connection parameter; valid: "
                               + ", ".join(params))
        value = _coerce(param, _expand(param, value, environ))
        if value is None or value == "":
            continue
        if param.fixed and param.default is not None and value != param.default:
            raise InvalidInput(param.display_name, f"is fixed to '{param.default}'")
        if param.allowed_values and value not in param.allowed_values:
            raise InvalidInput(param.display_name, f"'{value}' is not one of "
                               + ", ".join(map(str, param.allowed_values)))
        resolved[param.id] = value
    for param in manifest.connection_parameters:
        if param.id not in resolved and param.env and environ.get(param.env):
            resolved[param.id] = _coerce(param, environ[param.env])
        if param.id not in resolved and param.default is not None:
            resolved[param.id] = param.default
    error = store.first_error(manifest.connection_schema, resolved)
    if error is not None:
        path = list(error.absolute_path)
        key = str(path[0]) if path else None
        if error.validator == "anyOf" and not path:
            options = [r for branch in error.validator_value for r in branch.get("required", [])]
            names = [params[o].display_name for o in options if o in params]
            raise InvalidInput(names[0] if names else "connection",
                               "is required" + (f" (or set {', '.join(names[1:])})"
                                                if len(names) > 1 else ""))
        if error.validator == "required":
            key = next((r for r in error.validator_value if r not in resolved), key)
            problem = "is required"
        elif error.validator == "dependentRequired":
            key = next((r for r in error.validator_value if r not in resolved), key)
            problem = "is required with " + ", ".join(
                params[r].display_name for r in resolved if r in error.schema.get(
                    "dependentRequired", {}) and key in error.schema["dependentRequired"][r])
        else:
            hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
            problem = f"must be {hint}" if hint else error.message
            if key in params and params[key].secret:
                problem = "is not acceptable"  # never echo a secret back
        name = params[key].display_name if key in params else str(key)
        raise InvalidInput(name, problem)
    return resolved


def secret_values(manifest: Manifest, connection: Mapping[str, Any]) -> list[str]:
    return [str(connection[p.id]) for p in manifest.connection_parameters
            if p.secret and connection.get(p.id)]
