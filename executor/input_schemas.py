"""JSON Schemas derived from the manifest (inputs and resources are declared once there).

Each command's schema is built at load from its inputs' ``type``, their ``schema`` keywords and
what they take from the command's resource (``maximum_from_resource``, ``items_from_resource``),
then registered in the schema store under ``schemas/commands/<id>.input.json`` so that input
validation and ``validate`` use it like a file.
"""

from __future__ import annotations

from typing import Any

from executor.model import CommandSpec, InputSpec, ResourceSpec

DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$"
"""What input normalisation makes of any accepted date (``executor.datetimes.format_datetime``)."""

_BY_TYPE: dict[str, dict[str, Any]] = {
    "string": {"type": "string", "minLength": 1, "maxLength": 4000},
    "integer": {"type": "integer"},
    "datetime": {"type": "string", "pattern": DATETIME_PATTERN,
                 "x-hint": "a UTC time such as 04/15/2024 01:00 AM or 2024-04-15T01:00:00Z"},
    "list": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
    "enum": {},
}


def schema_path(command_id: str) -> str:
    return f"schemas/commands/{command_id}.input.json"


def _relative_refs(node: Any) -> Any:
    """``schemas/common.json#/...`` as seen from ``schemas/commands/``."""
    if isinstance(node, dict):
        return {k: ("../" + v.removeprefix("schemas/") if k == "$ref" and isinstance(v, str)
                    else _relative_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_relative_refs(v) for v in node]
    return node


def input_schema(spec: InputSpec, resource: ResourceSpec | None) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_BY_TYPE[spec.type])
    if spec.type == "enum" and spec.open:
        schema = {"type": "string", "minLength": 1}
    elif spec.type == "enum":
        schema = ({"$ref": spec.allowed_values_ref} if spec.allowed_values_ref
                  else {"enum": [a.value for a in spec.allowed_values]})
    if "$ref" in spec.schema:
        schema = {}
    schema.update(spec.schema)
    if resource is not None and spec.maximum_from_resource == "max_top" and resource.max_top:
        schema["maximum"] = resource.max_top
    if resource is not None and spec.items_from_resource == "properties":
        schema["items"] = {"enum": list(resource.properties)}
        schema["description"] = f"Properties of the {resource.item_type} resource."
    return _relative_refs(schema)


def command_input_schema(command: CommandSpec) -> dict[str, Any]:
    """The JSON Schema of one command's normalised inputs."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{command.id} inputs, after normalisation (derived from the manifest)",
        "type": "object",
        "properties": {spec.id: input_schema(spec, command.resource) for spec in command.inputs},
        "required": [spec.id for spec in command.inputs if spec.required],
        "additionalProperties": False,
    }


def output_schema_path(command_id: str) -> str:
    return f"schemas/commands/{command_id}.output.json"


def command_output_schema(command: CommandSpec, base: str) -> dict[str, Any]:
    """The command's declared output schema, narrowed by its resource: every returned item has
    only the resource's properties (and ``@odata.*`` annotations)."""
    assert command.resource is not None
    properties = list(command.resource.properties)
    item = {"type": "object",
            "propertyNames": {"anyOf": [{"enum": properties}, {"pattern": "^@"}]},
            "description": f"A {command.resource.item_type}: only its properties "
                           f"({', '.join(properties)})."}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{command.display_name}: result (derived from {base} and the resource "
                 f"{command.resource.id})",
        "allOf": [{"$ref": "../" + base.removeprefix("schemas/")}],
        "properties": {"raw_data": {"anyOf": [
            {"type": "null"},
            {"type": "object", "properties": {"value": {"type": "array", "items": item}}}]}},
    }
