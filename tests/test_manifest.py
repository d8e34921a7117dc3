"""The manifest and schemas load, and any breakage is named by file and JSON path."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import manifest_facts as facts
from tests.conftest import ROOT

PLUGIN_PARTS = ["integration.yaml", "connector.py", "schemas", "commands", "executor",
                "field_mappings", "sample_outputs", "emulator"]


def run_cli(plugin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(plugin_dir / "connector.py"), *args],
                          capture_output=True, text=True, timeout=60, cwd=plugin_dir)


@pytest.fixture
def plugin_copy(tmp_path: Path) -> Path:
    for part in PLUGIN_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy(source, tmp_path / part)
    return tmp_path


def test_validate_passes_on_the_shipped_plugin() -> None:
    run = run_cli(ROOT, "validate")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ok"] is True


def test_commands_lists_every_manifest_command_with_its_resources_permissions() -> None:
    run = run_cli(ROOT, "commands")
    assert run.returncode == 0
    listed = {c["name"]: c["permissions"] for c in json.loads(run.stdout)}
    assert listed == {name: facts.permissions(name) for name in facts.commands()}


def test_sign_ins_need_only_audit_log_read_all() -> None:
    """Least privilege (Graph's current permission table): no Directory.Read.All."""
    run = run_cli(ROOT, "commands")
    listed = {c["name"]: c["permissions"] for c in json.loads(run.stdout)}
    assert listed["List Sign-In"] == ["AuditLog.Read.All"]
    assert "Directory.Read.All" not in listed["Fetch Event"]


def _edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _command(manifest: Any, command_id: str) -> Any:
    return next(c for c in manifest["commands"] if c["id"] == command_id)


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


BREAKAGES: list[tuple[str, Callable[[Path], object], str, str]] = [
    ("unknown top-level key",
     lambda d: _edit_yaml(d / "integration.yaml", lambda m: m.update(extra=1)),
     "integration.yaml", "$"),
    ("wrong manifest_version",
     lambda d: _edit_yaml(d / "integration.yaml", lambda m: m.update(manifest_version=2)),
     "integration.yaml", "$.manifest_version"),
    ("input type misspelt",
     lambda d: _edit_yaml(d / "integration.yaml",
                          lambda m: m["commands"][3]["inputs"][0].update(type="datetim")),
     "integration.yaml", "$.commands[3].inputs[0].type"),
    ("command id not kebab-case",
     lambda d: _edit_yaml(d / "integration.yaml",
                          lambda m: m["commands"][0].update(id="Confirm_Compromised")),
     "integration.yaml", "$.commands[0].id"),
    ("permission malformed",
     lambda d: _edit_yaml(d / "integration.yaml",
                          lambda m: m["commands"][4].update(permissions=["read everything"])),
     "integration.yaml", "$.commands[4].permissions"),
    ("duplicate command",
     lambda d: _edit_yaml(d / "integration.yaml",
                          lambda m: m["commands"].append(dict(m["commands"][0]))),
     "integration.yaml", "$.commands"),
    ("enum reference to nothing",
     lambda d: _edit_yaml(d / "integration.yaml", lambda m: m["commands"][3]["inputs"][3]
                          .update(allowed_values={"$ref": "schemas/enums.json#/$defs/nope"})),
     "integration.yaml", "$.commands[3].inputs[3].allowed_values"),
    ("YAML syntax error",
     lambda d: (d / "integration.yaml").write_text("commands: [\n  - id: x\n"),
     "integration.yaml", "line"),
    ("derived input schema is not a JSON Schema",
     lambda d: _edit_yaml(d / "integration.yaml", lambda m: _command(m, "list-sign-in")[
         "inputs"][1].update(schema={"minimum": "one"})),
     "schemas/commands/list-sign-in.input.json", "$.properties.top.minimum"),
    ("command names an unknown resource",
     lambda d: _edit_yaml(d / "integration.yaml",
                          lambda m: _command(m, "list-sign-in").update(resource="signOuts")),
     "integration.yaml", "resource 'signOuts'"),
    ("filter on a property the resource lacks",
     lambda d: _edit_yaml(d / "integration.yaml",
                          lambda m: m["resources"][0]["filter"].update({"nope/x": ["eq"]})),
     "integration.yaml", "$.resources[0].filter"),
    ("resource path parameter no input fills",
     lambda d: _edit_yaml(d / "integration.yaml", lambda m: _command(m, "list-history")[
         "inputs"][0].pop("path_parameter")),
     "integration.yaml", "needs inputs for ['id']"),
    ("fetch event type naming an unknown resource",
     lambda d: _edit_yaml(d / "integration.yaml", lambda m: _command(m, "fetch-event")[
         "resource_by"]["values"]["riskUser"].update(resource="riskyAgents")),
     "integration.yaml", "resource_by.values.riskUser"),
    ("schema file is not JSON",
     lambda d: (d / "schemas/enums.json").write_text("{ not json"),
     "schemas/enums.json", "line 1"),
    ("meta-schema itself broken",
     lambda d: _edit_json(d / "schemas/integration.schema.json",
                          lambda s: s.update(type="objekt")),
     "schemas/integration.schema.json", "$.type"),
    ("output schema missing",
     lambda d: (d / "schemas/listing.output.json").unlink(),
     "schemas/listing.output.json", "file not found"),
    ("connection schema broken",
     lambda d: _edit_json(d / "schemas/connection.schema.json",
                          lambda s: s["properties"]["api_version"].update(enum="v1.0")),
     "schemas/connection.schema.json", "$.properties.api_version.enum"),
    ("event source file missing",
     lambda d: (d / "field_mappings/risk_user.yaml").unlink(),
     "integration.yaml", "$.event_sources[2].file"),
    ("a listed item carries a property its resource lacks",
     lambda d: _edit_json(d / "sample_outputs/list-risky-users.json",
                          lambda s: s["raw_data"]["value"][0].update(riskScore=9)),
     "sample_outputs/list-risky-users.json", "$.raw_data"),
    ("mapping file breaks the mapping-file schema",
     lambda d: _edit_yaml(d / "field_mappings/risk_user.yaml",
                          lambda m: m["fields"][0].update(colour="red")),
     "risk_user.yaml", "at $.fields[0]: Additional properties are not allowed"),
    ("sample output does not match its schema",
     lambda d: _edit_json(d / "sample_outputs/list-risky-users.json",
                          lambda s: s.update(status="Fine")),
     "sample_outputs/list-risky-users.json", "$.status"),
]


@pytest.mark.parametrize(("breakage", "expected_file", "expected_path"),
                         [(b, f, p) for _, b, f, p in BREAKAGES],
                         ids=[name for name, *_ in BREAKAGES])
def test_breaking_a_file_fails_validate_naming_file_and_path(
        plugin_copy: Path, breakage: Callable[[Path], object], expected_file: str,
        expected_path: str) -> None:
    breakage(plugin_copy)
    run = run_cli(plugin_copy, "validate")
    assert run.returncode != 0
    assert expected_file in run.stderr
    assert expected_path in run.stderr
    assert "Traceback" not in run.stderr


def test_a_command_without_a_handler_fails_at_load(plugin_copy: Path) -> None:
    _edit_yaml(plugin_copy / "integration.yaml", lambda m: m["commands"].append(
        {**_command(m, "test-connection"), "id": "list-risky-agents",
         "display_name": "List Risky Agents"}))
    run = run_cli(plugin_copy, "commands")
    assert run.returncode != 0
    assert "'list-risky-agents' has no registered handler" in run.stderr


def test_a_handler_without_a_command_fails_at_load(plugin_copy: Path) -> None:
    _edit_yaml(plugin_copy / "integration.yaml",
               lambda m: m.update(commands=[c for c in m["commands"]
                                            if c["id"] != "test-connection"]))
    run = run_cli(plugin_copy, "commands")
    assert run.returncode != 0
    assert "handler 'test-connection' has no command in the manifest" in run.stderr


def test_a_list_command_is_a_manifest_entry_without_python(plugin_copy: Path) -> None:
    """A second command on an existing resource needs no code: handler list + resource."""
    def add(m: Any) -> None:
        clone = {**_command(m, "list-risky-users"), "id": "list-risky-users-again",
                 "display_name": "List Risky Users Again"}
        clone.pop("sample_inputs")
        m["commands"].append(clone)
    _edit_yaml(plugin_copy / "integration.yaml", add)
    run = run_cli(plugin_copy, "commands")
    assert run.returncode == 0, run.stderr
    names = [c["name"] for c in json.loads(run.stdout)]
    assert "List Risky Users Again" in names


@pytest.fixture
def plugin_beside_shared(tmp_path: Path, plugin_copy: Path) -> Path:
    """The copy with the shared reference (the CSDL) beside it, as in the repository."""
    shutil.copytree(ROOT.parent / "shared" / "reference", plugin_copy.parent / "shared" /
                    "reference", dirs_exist_ok=True)
    return plugin_copy


def test_validate_checks_the_catalogue_against_the_csdl(plugin_beside_shared: Path) -> None:
    run = run_cli(plugin_beside_shared, "validate")
    assert run.returncode == 0, run.stderr
    assert any("checked against graph-v1.0-subset.csdl.xml" in n
               for n in json.loads(run.stdout)["notes"])
    _edit_yaml(plugin_beside_shared / "integration.yaml", lambda m: m["resources"][0][
        "properties"].append("signInColour"))
    run = run_cli(plugin_beside_shared, "validate")
    assert run.returncode != 0
    assert "resources.signIns: properties differ from CSDL signIn" in run.stdout + run.stderr
    assert "signInColour" in run.stdout + run.stderr


def test_only_the_mapping_files_the_manifest_names_are_loaded(plugin_copy: Path) -> None:
    (plugin_copy / "field_mappings" / "scratch.yaml").write_text("not: [a mapping")
    run = run_cli(plugin_copy, "validate")
    assert run.returncode == 0, run.stderr
    _edit_yaml(plugin_copy / "integration.yaml",
               lambda m: m["event_sources"].append(
                   {"id": "scratch", "name": "Scratch", "file": "field_mappings/scratch.yaml"}))
    run = run_cli(plugin_copy, "validate")
    assert run.returncode != 0
    assert "scratch.yaml" in run.stderr
