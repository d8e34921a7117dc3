"""Every command's result validates against its output schema, failed or not, and Return Data
is the run's status string (the reference's "If the Return Data is Failed ...")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from tests import manifest_facts as facts
from tests.conftest import ROOT

STATUSES = {"Successful", "Partially Successful", "Failed"}


def _validator(relpath: str) -> Draft202012Validator:
    """The output schema read from its file, with relative $ref resolved beside it (jsonschema's
    own resolution, not the executor's schema store)."""
    def retrieve(uri: str) -> Resource:
        path = ROOT / "schemas" / uri.removeprefix("https://plugin.test/schemas/")
        return Resource.from_contents(json.loads(path.read_text()))

    document = json.loads((ROOT / relpath).read_text())
    return Draft202012Validator({**document, "$id": f"https://plugin.test/{relpath}"},
                                registry=Registry(retrieve=retrieve))  # type: ignore[call-arg]


def _described(schema: Any, where: str = "$") -> list[str]:
    """Paths of properties (under "properties") that carry no description."""
    missing: list[str] = []
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and "description" not in sub and "$ref" not in sub \
                    and name not in ("command",):
                missing.append(f"{where}.{name}")
            missing += _described(sub, f"{where}.{name}")
        for key in ("anyOf", "allOf", "oneOf"):
            for i, sub in enumerate(schema.get(key) or []):
                missing += _described(sub, f"{where}.{key}[{i}]")
        if isinstance(schema.get("items"), dict):
            missing += _described(schema["items"], f"{where}[]")
    return missing


@pytest.mark.parametrize("name", sorted(facts.commands()))
def test_the_output_schema_describes_every_field(name: str) -> None:
    relpath = facts.commands()[name]["output_schema"]
    assert _described(json.loads((ROOT / relpath).read_text())) == []


@pytest.mark.parametrize("name", sorted(facts.commands()))
def test_a_sample_validates_and_its_return_data_is_the_status(name: str) -> None:
    command = facts.commands()[name]
    sample = json.loads((ROOT / "sample_outputs" / f"{command['id']}.json").read_text())
    assert sample["return_data"] == sample["status"] in STATUSES
    assert list(_validator(command["output_schema"]).iter_errors(sample)) == []


@pytest.mark.parametrize("name", sorted(n for n in facts.commands() if n != "Test Connection"))
def test_a_failed_run_validates_against_the_output_schema(name: str, connector: Any,
                                                          emulator: Any) -> None:
    """An app without roles: Graph's 403 (after valid inputs) is a Failed result."""
    command = facts.commands()[name]
    inputs = dict(command.get("sample_inputs", [{}])[0])
    for spec in command["inputs"]:
        if spec["required"]:
            inputs[spec["display_name"]] = "29f270bb-4d23-4f68-8a57-dc73dc0d4caf"
    inputs = {k: v for k, v in inputs.items() if "{" not in str(v)}
    result = connector.run(name, inputs, emulator.connection(app="none"))
    assert result["status"] == result["return_data"] == "Failed", result
    assert list(_validator(command["output_schema"]).iter_errors(result)) == []


def test_a_failed_test_connection_validates(connector: Any, emulator: Any) -> None:
    connection = {**emulator.connection(), "client_secret": "Wr0ng~Secret.Value_0123456789abcdef"}
    result = connector.run("Test Connection", {}, connection)
    assert result["status"] == result["return_data"] == "Failed"
    relpath = facts.commands()["Test Connection"]["output_schema"]
    assert list(_validator(relpath).iter_errors(result)) == []
