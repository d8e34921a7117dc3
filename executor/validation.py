"""``validate``: the whole plugin checked at once: manifest, schemas, mappings, sample outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from executor.errors import ManifestError
from executor.schema_store import json_path

MANIFEST = "integration.yaml"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    coverage: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "notes": self.notes,
                "mapping_coverage": self.coverage}


def check_schema_files(plugin: Any, report: Report) -> None:
    """Every JSON file under ``schemas/`` parses and is a valid draft 2020-12 schema."""
    for path in sorted((plugin.plugin_dir / "schemas").rglob("*.json")):
        relpath = path.relative_to(plugin.plugin_dir).as_posix()
        try:
            plugin.store.check_schema(relpath)
        except ManifestError as exc:
            report.problems.append(str(exc))
    for relpath in plugin.store.generated():
        try:
            plugin.store.check_schema(relpath)
        except ManifestError as exc:
            report.problems.append(f"{exc} (derived from {MANIFEST})")
    report.notes.append(f"schemas: checked ({len(plugin.store.generated())} derived from "
                        f"{MANIFEST})")


def check_catalogue(plugin: Any, report: Report) -> None:
    """The resource catalogue against the API's metadata, when the plugin registered a check."""
    hook = plugin.registry.catalogue_check
    if hook is None:
        return
    problems, notes = hook(plugin.manifest, plugin.plugin_dir)
    report.problems.extend(problems)
    report.notes.extend(notes)


def check_sample_outputs(plugin: Any, report: Report) -> None:
    """``sample_outputs/<command-id>.json`` exists for every command and matches its schema."""
    for command in plugin.manifest.commands:
        relpath = f"sample_outputs/{command.id}.json"
        path = plugin.plugin_dir / relpath
        if not path.is_file():
            report.problems.append(f"{relpath}: missing (run `make samples`)")
            continue
        try:
            sample = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            report.problems.append(f"{relpath}: not valid JSON: {exc.msg}")
            continue
        error = plugin.store.first_error(command.output_schema, sample)
        if error is not None:
            report.problems.append(f"{relpath}: at {json_path(error)}: {error.message} "
                                   f"(schema {command.output_schema})")
    report.notes.append(f"sample outputs: {len(plugin.manifest.commands)} checked")


def check_mappings(plugin: Any, report: Report) -> dict[str, Any] | None:
    """Mappings load without problems; coverage over the plugin's saved responses."""
    import yaml

    from executor.mapping import MappingSet
    from executor.mapping.sources import schema_problems

    for path in plugin.mapping_files():
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue  # reported by the loader below
        for problem in schema_problems(str(path), document):
            report.problems.append(f"field mappings: {problem}")
    mappings = MappingSet.load(plugin.mapping_files(), strict=False)
    for problem in mappings.problems:
        report.problems.append(f"field mappings: {problem}")
    hook = plugin.registry.coverage_documents
    if hook is None:
        return None
    coverage = mappings.coverage(hook(plugin.plugin_dir))
    for unmatched in coverage.never_matching:
        report.notes.append(f"field never matched: {unmatched.file}: {unmatched.name} "
                            f"({unmatched.path})")
    for duplicate in coverage.duplicates:
        report.notes.append(f"fields share a path: {duplicate}")
    return coverage.to_dict()


def validate_plugin(plugin: Any) -> Report:
    report = Report(notes=[f"manifest: {len(plugin.manifest.commands)} commands, "
                           f"{len(plugin.manifest.event_sources)} event sources"])
    check_schema_files(plugin, report)
    check_catalogue(plugin, report)
    check_sample_outputs(plugin, report)
    report.coverage = check_mappings(plugin, report)
    return report
