"""Connection parameters: from a file or a dict, ``${ENV}`` references, defaults, validation.

``${NAME}`` references are expanded only in connection files read from disk (the host's own
configuration, :class:`ConnectionFile`), never in a dict a platform passes to ``Connector.run``:
whoever edits an integration instance must not be able to send the host's environment variables
to a URL of their choosing. Error messages never echo a connection value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from executor.errors import InvalidInput, UsageError
from executor.limits import load_yaml, read_text
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


class ConnectionFile(dict[str, Any]):
    """Connection parameters read from a file on disk: the only kind whose ``${NAME}``
    references :func:`resolve_connection` expands."""


def read_connection_file(path: Path) -> ConnectionFile:
    data = load_yaml(read_text(path, "connection file"), f"connection file {path}")
    if data is None:
        return ConnectionFile()
    if not isinstance(data, dict):
        raise UsageError(f"connection file {path} must hold a mapping of parameter ids")
    return ConnectionFile(data)


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
        if isinstance(raw, ConnectionFile):
            value = _expand(param, value, environ)
        value = _coerce(param, value)
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
        field: str | None = str(path[0]) if path else None
        if error.validator == "anyOf" and not path:
            options = [r for branch in error.validator_value for r in branch.get("required", [])]
            names = [params[o].display_name for o in options if o in params]
            raise InvalidInput(names[0] if names else "connection",
                               "is required" + (f" (or set {', '.join(names[1:])})"
                                                if len(names) > 1 else ""))
        if error.validator == "required":
            field = next((r for r in error.validator_value if r not in resolved), field)
            problem = "is required"
        elif error.validator == "dependentRequired":
            field = next((r for r in error.validator_value if r not in resolved), field)
            problem = "is required with " + ", ".join(
                params[r].display_name for r in resolved if r in error.schema.get(
                    "dependentRequired", {}) and field in error.schema["dependentRequired"][r])
        else:
            hint = error.schema.get("x-hint") if isinstance(error.schema, dict) else None
            # jsonschema's own message quotes the value (a proxy URL's password, a secret):
            # name the rule instead.
            problem = f"must be {hint}" if hint else _rule(error.validator,
                                                           error.validator_value)
        name = params[field].display_name if field in params else str(field)
        raise InvalidInput(name, problem)
    return resolved


def _rule(validator: str, value: Any) -> str:
    """A jsonschema keyword as words, without the offending value."""
    words = {"type": f"of type {value}", "minimum": f"at least {value}",
             "maximum": f"at most {value}", "exclusiveMinimum": f"greater than {value}",
             "exclusiveMaximum": f"less than {value}", "minLength": "longer",
             "maxLength": f"at most {value} characters", "enum": "one of "
             + ", ".join(map(str, value)) if isinstance(value, list) else "an allowed value",
             "const": f"{value}"}
    return f"must be {words.get(validator, 'valid')}" if validator in words \
        else "is not valid"


def secret_values(manifest: Manifest, connection: Mapping[str, Any]) -> list[str]:
    """Every credential in the connection: secret parameters, and the user information of any
    URL-valued one (``https://user:password@proxy:3128``)."""
    found = [str(connection[p.id]) for p in manifest.connection_parameters
             if p.secret and connection.get(p.id)]
    for value in connection.values():
        found += url_credentials(value)
    return found


def url_credentials(value: Any) -> list[str]:
    """The user information of a URL, whole and by parts, plain and decoded."""
    if not isinstance(value, str) or "@" not in value:
        return []
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return []
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    found = [userinfo, parts.password or "", parts.username or ""]
    found += [unquote(f) for f in found]
    return [f for f in dict.fromkeys(found) if f]


def mask_url(value: str) -> str:
    """A URL with its user information replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "***"
    if "@" not in parts.netloc:
        return value
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
