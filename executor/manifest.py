"""Loading a plugin manifest in explicit stages: parse, validate, build typed objects.

Each stage is a small function; a failure names the file, the JSON path and the broken rule.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from executor.errors import ManifestError
from executor.input_schemas import (
    command_input_schema,
    command_output_schema,
    output_schema_path,
    schema_path,
)
from executor.limits import SAFE_LOADER
from executor.model import (
    ActionSpec,
    AllowedValue,
    CommandSpec,
    ConnectionParameter,
    EventSourceRef,
    InputSpec,
    Manifest,
    OptionalPermissions,
    Permissions,
    ResourceSpec,
)
from executor.schema_store import SchemaStore, json_path

MANIFEST_FILE = "integration.yaml"
META_SCHEMA = "schemas/integration.schema.json"


def read_text(path: Path, relpath: str) -> str:
    """The manifest's text; a missing file is a :class:`ManifestError`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(relpath, "$", "file not found") from None


def parse_yaml_text(text: str, relpath: str) -> Any:
    """Stage 1: YAML text to plain data (safe loader only)."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
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


def parse_and_validate_once(text: str, store: SchemaStore) -> Any:
    """:func:`parse_yaml_text` and :func:`validate_manifest`, skipped for a manifest text that
    passed before with the same meta-schema (see :mod:`executor.validation_cache`); a failure
    is never remembered."""
    from executor import validation_cache

    try:
        meta_schema = store.document(META_SCHEMA)
    except ManifestError:  # refused as without a cache: the manifest's own errors come first
        key = None
    else:
        key = validation_cache.content_key(text, meta_schema, jsonschema_file())
        data = validation_cache.cached_manifest(key)
        if data is not validation_cache.MISSING:
            return data
    data = parse_yaml_text(text, MANIFEST_FILE)
    validate_manifest(data, store)
    if key is not None:
        validation_cache.remember(key, data)
    return data


def jsonschema_file() -> str:
    """The validator library's keyword code: part of what a cached verdict depends on."""
    import jsonschema._keywords

    return jsonschema._keywords.__file__ or ""


def _allowed_values(raw: dict[str, Any] | None, store: SchemaStore, where: str,
                    command: dict[str, Any]) -> tuple[AllowedValue, ...]:
    if raw is None:
        return ()
    if raw.get("from") == "resource_by":  # the values that select the command's resource
        if "resource_by" not in command:
            raise ManifestError(MANIFEST_FILE, where, "the command has no resource_by")
        return tuple(AllowedValue(value, entry["name"])
                     for value, entry in command["resource_by"]["values"].items())
    try:
        definition = store.resolve_pointer(raw["$ref"])
    except ManifestError as exc:
        raise ManifestError(MANIFEST_FILE, where, f"{raw['$ref']}: {exc}") from None
    names = definition.get("x-display-names", {})
    return tuple(AllowedValue(value, names.get(value, value)) for value in definition["enum"])


def _input(raw: dict[str, Any], store: SchemaStore, where: str,
           command: dict[str, Any]) -> InputSpec:
    only_when = None
    if "only_when" in raw:
        ((other, values),) = raw["only_when"].items()
        only_when = (other, tuple(values))
    return InputSpec(
        id=raw["id"], display_name=raw["display_name"], required=raw["required"],
        type=raw["type"], description=raw["description"], example=raw["example"],
        default=raw.get("default"),
        allowed_values=_allowed_values(raw.get("allowed_values"), store,
                                       f"{where}.allowed_values", command),
        allowed_values_ref=(raw.get("allowed_values") or {}).get("$ref"),
        only_when=only_when, not_after=raw.get("not_after"), check=raw.get("check"),
        schema=raw.get("schema", {}), maximum_from_resource=raw.get("maximum_from_resource"),
        items_from_resource=raw.get("items_from_resource"),
        path_parameter=raw.get("path_parameter"),
        open=bool(raw.get("open", False)),
        ignored_elsewhere=bool(raw.get("ignored_elsewhere", False)),
    )


def _resource(raw: dict[str, Any]) -> ResourceSpec:
    return ResourceSpec(
        id=raw["id"], path=raw["path"], item_type=raw["item_type"],
        permissions=tuple(raw["permissions"]), properties=tuple(raw["properties"]),
        filters={k: tuple(v) for k, v in raw["filter"].items()},
        page_size=raw["page_size"], max_top=raw["max_top"], cursor=raw.get("cursor"),
        ordered_by=raw["ordered_by"],
        unavailable_in_clouds=tuple(raw.get("unavailable_in_clouds", ())),
        optional_permissions=tuple(OptionalPermissions(tuple(o["permissions"]), o["for"])
                                   for o in raw.get("optional_permissions", ())),
        source=raw["source"], retention_days=raw.get("retention_days"))


def _lookup(resources: dict[str, ResourceSpec], name: str, where: str) -> ResourceSpec:
    if name not in resources:
        raise ManifestError(MANIFEST_FILE, where, f"unknown resource '{name}'; resources: "
                            + ", ".join(resources))
    return resources[name]


def _permissions(raw: dict[str, Any], resource: ResourceSpec | None,
                 resource_by: tuple[str, dict[str, ResourceSpec]] | None) -> Permissions:
    """Declared permissions win; else those of the resource(s) the command reads."""
    if "permissions" in raw:
        return Permissions(always=tuple(raw["permissions"]))
    if resource_by is not None:
        input_id, by_value = resource_by
        return Permissions(by_input=input_id,
                           by_value={k: r.permissions for k, r in by_value.items()})
    return Permissions(always=resource.permissions if resource else ())


def _command(raw: dict[str, Any], resources: dict[str, ResourceSpec], store: SchemaStore,
             where: str) -> CommandSpec:
    inputs = tuple(_input(r, store, f"{where}.inputs[{j}]", raw)
                   for j, r in enumerate(raw["inputs"]))
    resource = (_lookup(resources, raw["resource"], f"{where}.resource")
                if "resource" in raw else None)
    resource_by = None
    if "resource_by" in raw:
        by = raw["resource_by"]
        resource_by = (by["input"], {value: _lookup(resources, entry["resource"],
                                                    f"{where}.resource_by.values.{value}")
                                     for value, entry in by["values"].items()})
    action = ActionSpec(**raw["action"]) if "action" in raw else None
    return CommandSpec(
        id=raw["id"], display_name=raw["display_name"], description=raw["description"],
        permissions=_permissions(raw, resource, resource_by),
        failure_indicator=raw["failure_indicator"], input_schema=schema_path(raw["id"]),
        output_schema=raw["output_schema"], inputs=inputs, handler=raw.get("handler"),
        resource=resource, resource_by=resource_by, action=action,
        sample_inputs=tuple(raw.get("sample_inputs", ())))


def build_manifest(data: dict[str, Any], store: SchemaStore) -> Manifest:
    """Stage 3: plain data to typed, immutable objects."""
    resources = {r["id"]: _resource(r) for r in data.get("resources", [])}
    commands = [_command(raw, resources, store, f"$.commands[{i}]")
                for i, raw in enumerate(data["commands"])]
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
        commands=tuple(commands), resources=tuple(resources.values()),
        event_sources=tuple(EventSourceRef(s["id"], s["name"], s["file"])
                            for s in data["event_sources"]))


def check_consistency(manifest: Manifest, store: SchemaStore, plugin_dir: Path) -> None:
    """Stage 2b: rules that span files, which a single JSON Schema cannot express."""
    _unique([c.id for c in manifest.commands], "$.commands", "command id")
    _unique([c.display_name for c in manifest.commands], "$.commands", "command display_name")
    _unique([p.id for p in manifest.connection_parameters], "$.connection.parameters",
            "parameter id")
    _unique([r.id for r in manifest.resources], "$.resources", "resource id")
    for i, resource in enumerate(manifest.resources):
        _check_resource(resource, f"$.resources[{i}]")
    store.document(manifest.connection_schema)
    for i, command in enumerate(manifest.commands):
        where = f"$.commands[{i}]"
        ids = [spec.id for spec in command.inputs]
        _unique(ids, f"{where}.inputs", "input id")
        store.document(command.output_schema)
        _check_resource_use(command, where)
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


def _check_resource(resource: ResourceSpec, where: str) -> None:
    for path in resource.filters:
        if path.split("/")[0] not in resource.properties:
            raise ManifestError(MANIFEST_FILE, f"{where}.filter",
                                f"'{path}' is not one of the resource's properties")
    for field_name in filter(None, [resource.cursor, resource.ordered_by]):
        if field_name not in resource.properties:
            raise ManifestError(MANIFEST_FILE, where,
                                f"'{field_name}' is not one of the resource's properties")
    if resource.page_size and resource.max_top and resource.page_size > resource.max_top:
        raise ManifestError(MANIFEST_FILE, f"{where}.page_size",
                            f"{resource.page_size} is above max_top {resource.max_top}")


def _check_resource_use(command: CommandSpec, where: str) -> None:
    """What a command takes from its resource exists: path parameters, selects, event types."""
    ids = [spec.id for spec in command.inputs]
    needs_resource = [s.id for s in command.inputs
                      if s.maximum_from_resource or s.items_from_resource or s.path_parameter]
    if needs_resource and command.resource is None:
        raise ManifestError(MANIFEST_FILE, where, f"inputs {needs_resource} take values from "
                            "a resource but the command names none")
    if command.resource is not None:
        filled = {s.path_parameter for s in command.inputs if s.path_parameter}
        wanted = {part[1:-1] for part in command.resource.path.split("/")
                  if part.startswith("{")}
        if filled != wanted:
            raise ManifestError(MANIFEST_FILE, where,
                                f"resource path {command.resource.path} needs inputs for "
                                f"{sorted(wanted) or 'nothing'}; inputs fill "
                                f"{sorted(filled) or 'nothing'}")
    if command.resource_by is not None:
        input_id, by_value = command.resource_by
        spec = command.input_named(input_id)
        if spec is None:
            raise ManifestError(MANIFEST_FILE, f"{where}.resource_by.input",
                                f"unknown input '{input_id}'")
        allowed = {a.value for a in spec.allowed_values}
        if allowed != set(by_value):
            raise ManifestError(MANIFEST_FILE, f"{where}.resource_by.values",
                                f"must name a resource for each value of {input_id}: "
                                f"{sorted(allowed)}")
    if command.action is not None and command.action.ids_input not in ids:
        raise ManifestError(MANIFEST_FILE, f"{where}.action.ids_input",
                            f"unknown input '{command.action.ids_input}'")


def register_input_schemas(manifest: Manifest, store: SchemaStore) -> None:
    """Derive each command's input schema and make it available to validators."""
    for command in manifest.commands:
        store.add_document(command.input_schema, command_input_schema(command))


def _derived_output(command: CommandSpec, store: SchemaStore) -> CommandSpec:
    """A list command's output schema narrowed to its resource's properties (registered in the
    store under ``schemas/commands/<id>.output.json``)."""
    if command.handler != "list" or command.resource is None:
        return command
    relpath = output_schema_path(command.id)
    store.add_document(relpath, command_output_schema(command, command.output_schema))
    return replace(command, output_schema=relpath)


def _unique(values: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ManifestError(MANIFEST_FILE, where, f"duplicate {what} '{value}'")
        seen.add(value)


def load_manifest(plugin_dir: Path, store: SchemaStore | None = None) -> Manifest:
    """Parse, validate and build the manifest of the plugin in ``plugin_dir``."""
    store = store or SchemaStore(plugin_dir)
    text = read_text(plugin_dir / MANIFEST_FILE, MANIFEST_FILE)
    data = parse_and_validate_once(text, store)
    manifest = build_manifest(data, store)
    check_consistency(manifest, store, plugin_dir)
    register_input_schemas(manifest, store)
    return replace(manifest, commands=tuple(_derived_output(c, store)
                                            for c in manifest.commands))
