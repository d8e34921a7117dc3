"""Loading event sources: read the YAML files, check them, apply a user's overrides, compile.

Each stage is its own function and reports problems (file, field, what is wrong) instead of
stopping at the first, so `validate` can show them all. Nothing here knows which product the
mappings are for: source ids are the file names, the Default source is the one with a
Main Event JSON Path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from executor.mapping.errors import MappingError, Problem
from executor.mapping.model import EventSource, FieldMapping, SearchString, system_name
from executor.mapping.paths import PathSyntaxError, compile_path, compile_root_path
from executor.mapping.results import ValuesTable

SCHEMA_FILE = Path(__file__).with_name("mapping_file.schema.json")
"""The JSON Schema of a mapping file: ``validate`` checks every file against it, and the keys
and types below are read from it, so the format is declared once."""
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
SOURCE_KEYS = frozenset(SCHEMA["properties"])
FIELD_KEYS = frozenset(SCHEMA["$defs"]["field"]["properties"])
CUSTOM_FIELD_KEYS = FIELD_KEYS - {"reference_path", "reason", "beta_only"}
OVERRIDE_KEYS = frozenset({"add", "remove"})
FIELD_TYPES = frozenset(SCHEMA["$defs"]["field"]["properties"]["type"]["enum"])


def schema_problems(label: str, document: Any) -> list[Problem]:
    """Every violation of the mapping-file schema, each with its JSON path."""
    from jsonschema import Draft202012Validator

    problems = []
    for error in sorted(Draft202012Validator(SCHEMA).iter_errors(document), key=str):
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                              for p in error.absolute_path)
        problems.append(Problem(label, None, f"at {where}: {error.message} (mapping-file schema)"))
    return problems

_SEARCH_RE = re.compile(r"^\s*\{(?P<path>[^{}]+)\}\s*=\s*(?P<value>.*?)\s*$", re.DOTALL)


@dataclass
class RawSource:
    """A mapping file as read, before compilation."""

    file: str
    id: str
    document: dict[str, Any]
    fields: list[tuple[dict[str, Any], bool]] = field(default_factory=list)  # (entry, custom)


def parse_search_string(text: str) -> SearchString:
    """`{$.eventType}=riskDetection` -> SearchString. The reference's prose form `{eventType}`
    (no `$.`) is read the same way. Raises ValueError if malformed."""
    if not isinstance(text, str):
        raise ValueError(f"search string must be a string, got {type(text).__name__}")
    match = _SEARCH_RE.match(text)
    if match is None:
        raise ValueError(f"search string {text!r} is not of the form '{{$.path}}=value'")
    path_text = match.group("path").strip()
    value = match.group("value")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if not value:
        raise ValueError(f"search string {text!r} has no value after '='")
    if not path_text.startswith("$"):
        path_text = "$" + (path_text if path_text.startswith((".", "[")) else "." + path_text)
    try:
        path = compile_root_path(path_text)
    except PathSyntaxError as error:
        raise ValueError(f"search string {text!r}: malformed path {path_text!r}: {error}") from None
    return SearchString(text=text, path=path, value=value)


def read_sources(mappings: Path | Sequence[Path], problems: list[Problem]) -> list[RawSource]:
    """The mapping files named (or every `*.yaml` in a directory), parsed with the safe loader
    and shape-checked."""
    import yaml

    from executor.limits import SAFE_LOADER

    sources: list[RawSource] = []
    if isinstance(mappings, Path):
        mappings_dir, files = mappings, sorted(mappings.glob("*.yaml"))
    else:
        files = [Path(f) for f in mappings]
        mappings_dir = files[0].parent if files else Path()
    if not files:
        problems.append(Problem(str(mappings_dir), None, "no *.yaml mapping files found"))
    for path in files:
        label = str(path)
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
        except (OSError, yaml.YAMLError) as error:
            problems.append(Problem(label, None, f"cannot be read as YAML: {error}"))
            continue
        raw = _check_source(label, path.stem, document, problems)
        if raw is not None:
            sources.append(raw)
    defaults = [raw.file for raw in sources if "main_event_json_path" in raw.document]
    if sources and len(defaults) != 1:
        where = ", ".join(defaults) if defaults else "none of the files"
        problems.append(
            Problem(
                str(mappings_dir),
                None,
                f"exactly one source must have main_event_json_path (the Default), found: {where}",
            )
        )
    return sources


def _check_source(
    label: str, stem: str, document: Any, problems: list[Problem]
) -> RawSource | None:
    if not isinstance(document, dict):
        problems.append(Problem(label, None, "must be a mapping with id, name and fields"))
        return None
    ok = True
    for key in sorted(set(document) - SOURCE_KEYS, key=str):
        problems.append(Problem(label, None, f"unknown key {key!r}"))
    if document.get("id") != stem:
        problems.append(
            Problem(label, None, f"id must be the file's name {stem!r}, got {document.get('id')!r}")
        )
        ok = False
    if not isinstance(document.get("name"), str) or not document["name"].strip():
        problems.append(Problem(label, None, "name must be a non-empty string"))
    has_main = "main_event_json_path" in document
    has_search = "search_string" in document
    if has_main == has_search:
        problems.append(
            Problem(
                label, None, "needs exactly one of main_event_json_path (Default) or search_string"
            )
        )
        ok = False
    entries = document.get("fields")
    if not isinstance(entries, list):
        problems.append(Problem(label, None, "fields must be a list"))
        return None
    raw = RawSource(file=label, id=stem, document=document)
    for position, entry in enumerate(entries):
        if _check_field(label, position, entry, FIELD_KEYS, problems):
            raw.fields.append((entry, False))
    return raw if ok else None


def _check_field(
    label: str, position: int, entry: Any, allowed: frozenset[str], problems: list[Problem]
) -> bool:
    """Shape of one field entry; the path itself is checked when compiled."""
    if not isinstance(entry, dict):
        problems.append(Problem(label, f"#{position + 1}", "must be a mapping with name and path"))
        return False
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(label, f"#{position + 1}", "name must be a non-empty string"))
        return False
    ok = True
    for key in sorted(set(entry) - allowed, key=str):
        problems.append(Problem(label, name, f"unknown key {key!r}"))
        ok = False
    if not isinstance(entry.get("path"), str):
        problems.append(Problem(label, name, "path must be a string"))
        ok = False
    if "type" in entry and entry["type"] not in FIELD_TYPES:
        problems.append(Problem(label, name, f"unknown type {entry['type']!r} (known: list)"))
        ok = False
    if "values" in entry and not isinstance(entry["values"], dict):
        problems.append(
            Problem(label, name, "values must be a mapping of matched value to shown value")
        )
        ok = False
    for key in ("reference_path", "reason", "description"):
        if key in entry and not isinstance(entry[key], str):
            problems.append(Problem(label, name, f"{key} must be a string"))
            ok = False
    if "beta_only" in entry and not isinstance(entry["beta_only"], bool):
        problems.append(Problem(label, name, "beta_only must be true or false"))
        ok = False
    if (entry.get("reference_path") or entry.get("beta_only")) and not entry.get("reason"):
        problems.append(Problem(label, name, "reference_path and beta_only need a reason"))
        ok = False
    return ok


def apply_overrides(
    sources: list[RawSource], overrides: Any, label: str, problems: list[Problem]
) -> None:
    """Add custom fields and remove built-in ones, per source id, as a user's file asks."""
    if overrides is None:
        return
    if not isinstance(overrides, Mapping):
        problems.append(
            Problem(label, None, "overrides must be a mapping of source id to add/remove")
        )
        return
    by_id = {raw.id: raw for raw in sources}
    for source_id, change in overrides.items():
        raw = by_id.get(source_id)
        if raw is None:
            known = ", ".join(sorted(by_id))
            problems.append(Problem(label, None, f"unknown source {source_id!r} (known: {known})"))
            continue
        if change is None:
            continue
        if not isinstance(change, Mapping):
            problems.append(
                Problem(label, None, f"{source_id}: must be a mapping with add and/or remove")
            )
            continue
        for key in sorted(set(change) - OVERRIDE_KEYS, key=str):
            problems.append(
                Problem(label, None, f"{source_id}: unknown key {key!r} (known: add, remove)")
            )
        _remove_fields(raw, change.get("remove") or [], label, source_id, problems)
        additions = change.get("add") or []
        if not isinstance(additions, list):
            problems.append(Problem(label, None, f"{source_id}: add must be a list of fields"))
            continue
        for position, entry in enumerate(additions):
            if _check_field(label, position, entry, CUSTOM_FIELD_KEYS, problems):
                raw.fields.append((entry, True))


def _remove_fields(
    raw: RawSource, removals: Any, label: str, source_id: str, problems: list[Problem]
) -> None:
    if not isinstance(removals, list):
        problems.append(Problem(label, None, f"{source_id}: remove must be a list of Field Names"))
        return
    for removal in removals:
        if not isinstance(removal, str):
            problems.append(
                Problem(label, None, f"{source_id}: remove entry {removal!r} is not a name")
            )
            continue
        kept = [
            (entry, custom)
            for entry, custom in raw.fields
            if custom or removal not in (entry["name"], system_name(entry["name"]))
        ]
        if len(kept) == len(raw.fields):
            problems.append(
                Problem(
                    label, removal, f"cannot remove: {source_id} ({raw.file}) has no such field"
                )
            )
        raw.fields = kept


def compile_source(
    raw: RawSource, overrides_label: str, problems: list[Problem]
) -> EventSource | None:
    """Typed, compiled EventSource; fields with problems are left out and reported."""
    document = raw.document
    main_path = search = None
    if "main_event_json_path" in document:
        try:
            main_path = compile_root_path(document["main_event_json_path"])
        except PathSyntaxError as error:
            problems.append(Problem(raw.file, None, f"malformed main_event_json_path: {error}"))
            return None
    else:
        try:
            search = parse_search_string(document["search_string"])
        except ValueError as error:
            problems.append(Problem(raw.file, None, f"malformed search_string: {error}"))
            return None
    fields: list[FieldMapping] = []
    seen: dict[str, str] = {}
    for entry, custom in raw.fields:
        label = overrides_label if custom else raw.file
        name = entry["name"]
        key = system_name(name, custom)
        if key in seen:
            problems.append(
                Problem(
                    label,
                    name,
                    f"duplicate name: System Name {key!r} is also used by {seen[key]!r}",
                )
            )
            continue
        try:
            path = compile_path(entry["path"])
        except PathSyntaxError as error:
            problems.append(Problem(label, name, f"malformed path {entry['path']!r}: {error}"))
            continue
        try:
            values = ValuesTable(entry["values"]) if "values" in entry else None
        except ValueError as error:
            problems.append(Problem(label, name, str(error)))
            continue
        seen[key] = name
        fields.append(
            FieldMapping(
                name=name,
                system_name=key,
                path=path,
                file=label,
                as_list=entry.get("type") == "list",
                values=values,
                custom=custom,
                reference_path=entry.get("reference_path"),
                reason=entry.get("reason"),
                beta_only=bool(entry.get("beta_only", False)),
            )
        )
    return EventSource(
        id=raw.id,
        name=document["name"] if isinstance(document.get("name"), str) else raw.id,
        file=raw.file,
        fields=tuple(fields),
        main_event_json_path=main_path,
        search=search,
    )


def read_overrides(path: Path | str) -> Any:
    """A user's overrides file (`--mappings FILE`), YAML or JSON, read with `yaml.safe_load`.

    Raises MappingError naming the file when it cannot be read.
    """
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MappingError([Problem(str(path), None, f"cannot be read as YAML: {error}")]) from None
