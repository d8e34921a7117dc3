"""Loading a plugin manifest in explicit stages: parse, validate, build typed objects.

Each stage is a small function; a failure names the file, the JSON path and the broken rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from executor.errors import ManifestError
from executor.model import (
    AllowedValue,
    CommandSpec,
    ConnectionParameter,
    EventSourceRef,
    InputSpec,
    Manifest,
    Permissions,
)
from executor.schema_store import SchemaStore, json_path

MANIFEST_FILE = "integration.yaml"
META_SCHEMA = "schemas/integration.schema.json"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(path: Path, relpath: str) -> Any:
    """Stage 1: YAML text to plain data (safe loader only)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except FileNotFoundError:
        raise ManifestError(relpath, "$", "file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "$"
        problem = getattr(exc, "problem", exc)
        raise ManifestError(relpath, where, f"not valid YAML: {problem}") from None


def validate_manifest(data: Any, store: SchemaStore) -> None:
    """Stage 2a: the manifest against its hand-written meta-schema."""
    error = store.first_error(META_SCHEMA, data)
    if error is not None:
        raise ManifestError(MANIFEST_FILE, json_path(error), error.message)


def _allowed_values(raw: dict[str, Any] | None, store: SchemaStore,
                    where: str) -> tuple[AllowedValue, ...]:
    if raw is None:
        return ()
    try:
        definition = store.resolve_pointer(raw["$ref"])
    except ManifestError as exc:
        raise ManifestError(MANIFEST_FILE, where, f"{raw['$ref']}: {exc}") from None
    names = definition.get("x-display-names", {})
    return tuple(AllowedValue(value, names.get(value, value)) for value in definition["enum"])


def _input(raw: dict[str, Any], store: SchemaStore, where: str) -> InputSpec:
    only_when = None
    if "only_when" in raw:
        ((other, values),) = raw["only_when"].items()
        only_when = (other, tuple(values))
    return InputSpec(
        id=raw["id"], display_name=raw["display_name"], required=raw["required"],
        type=raw["type"], description=raw["description"], example=raw["example"],
        default=raw.get("default"),
        allowed_values=_allowed_values(raw.get("allowed_values"), store,
                                       f"{where}.allowed_values"),
        only_when=only_when, not_after=raw.get("not_after"), check=raw.get("check"),
    )


def _permissions(raw: Any) -> Permissions:
    if isinstance(raw, list):
        return Permissions(always=tuple(raw))
    return Permissions(by_input=raw["by_input"],
                       by_value={k: tuple(v) for k, v in raw["values"].items()})


def build_manifest(data: dict[str, Any], store: SchemaStore) -> Manifest:
    """Stage 3: plain data to typed, immutable objects."""
    commands = []
    for i, raw in enumerate(data["commands"]):
        where = f"$.commands[{i}]"
        inputs = tuple(_input(r, store, f"{where}.inputs[{j}]")
                       for j, r in enumerate(raw["inputs"]))
        commands.append(CommandSpec(
            id=raw["id"], display_name=raw["display_name"], description=raw["description"],
            permissions=_permissions(raw["permissions"]),
            failure_indicator=raw["failure_indicator"], input_schema=raw["input_schema"],
            output_schema=raw["output_schema"], inputs=inputs))
    params = tuple(
        ConnectionParameter(
            id=p["id"], display_name=p["display_name"], type=p["type"], required=p["required"],
            description=p["description"], example=p["example"], default=p.get("default"),
            fixed=p.get("fixed", False), secret=p.get("secret", False), env=p.get("env"),
            allowed_values=tuple(p.get("allowed_values", ())))
        for p in data["connection"]["parameters"])
    return Manifest(
        manifest_version=data["manifest_version"], integration=data["integration"],
        connection_schema=data["connection"]["schema"], connection_parameters=params,
        commands=tuple(commands),
        event_sources=tuple(EventSourceRef(s["id"], s["name"], s["file"])
                            for s in data["event_sources"]))


def check_consistency(manifest: Manifest, store: SchemaStore, plugin_dir: Path) -> None:
    """Stage 2b: rules that span files, which a single JSON Schema cannot express."""
    _unique([c.id for c in manifest.commands], "$.commands", "command id")
    _unique([c.display_name for c in manifest.commands], "$.commands", "command display_name")
    _unique([p.id for p in manifest.connection_parameters], "$.connection.parameters",
            "parameter id")
    store.document(manifest.connection_schema)
    for i, command in enumerate(manifest.commands):
        where = f"$.commands[{i}]"
        ids = [spec.id for spec in command.inputs]
        _unique(ids, f"{where}.inputs", "input id")
        schema = store.document(command.input_schema)
        store.document(command.output_schema)
        declared = set(schema.get("properties", {}))
        if declared != set(ids):
            raise ManifestError(command.input_schema, "$.properties",
                                f"properties {sorted(declared)} differ from the inputs of "
                                f"command '{command.id}' in {MANIFEST_FILE}: {sorted(ids)}")
        required = {spec.id for spec in command.inputs if spec.required}
        if set(schema.get("required", [])) != required:
            raise ManifestError(command.input_schema, "$.required",
                                f"must list exactly the required inputs {sorted(required)}")
        for j, spec in enumerate(command.inputs):
            spot = f"{where}.inputs[{j}]"
            for other in filter(None, [spec.not_after, spec.only_when and spec.only_when[0],
                                       isinstance(spec.default, dict)
                                       and spec.default["offset_from"]]):
                if other not in ids:
                    raise ManifestError(MANIFEST_FILE, spot, f"refers to unknown input '{other}'")
        if command.permissions.by_input and command.permissions.by_input not in ids:
            raise ManifestError(MANIFEST_FILE, f"{where}.permissions.by_input",
                                f"unknown input '{command.permissions.by_input}'")
    for i, source in enumerate(manifest.event_sources):
        if not (plugin_dir / source.file).is_file():
            raise ManifestError(MANIFEST_FILE, f"$.event_sources[{i}].file",
                                f"file not found: {source.file}")


def _unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ManifestError(MANIFEST_FILE, where, f"duplicate {what} '{value}'")
        seen.add(value)


def load_manifest(plugin_dir: Path, store: SchemaStore | None = None) -> Manifest:
    """Parse, validate and build the manifest of the plugin in ``plugin_dir``."""
    store = store or SchemaStore(plugin_dir)
    data = parse_yaml(plugin_dir / MANIFEST_FILE, MANIFEST_FILE)
    validate_manifest(data, store)
    manifest = build_manifest(data, store)
    check_consistency(manifest, store, plugin_dir)
    return manifest
