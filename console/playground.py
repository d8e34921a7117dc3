"""The field-mapping playground: map a response with the shipped event sources plus a user's
overrides, and report every field's value per event and its coverage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from executor.mapping import MappingError, MappingSet, system_name

MAX_EVENT_COLUMNS = 25


@dataclass(frozen=True)
class FieldRow:
    name: str
    system_name: str
    path: str
    source: str
    custom: bool
    matched: int
    values: tuple[Any, ...]  # one per shown event; None where the field did not match


@dataclass
class PlaygroundReport:
    events: int
    shown_events: int
    rows: list[FieldRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SourceChoice:
    id: str
    name: str
    event_type: str | None  # the value its search string selects; None for the Default


def clean_overrides(raw: Any) -> dict[str, dict[str, list[Any]]]:
    """The overrides as the browser sent them, reduced to `{source: {add, remove}}` of plain
    values (names and paths as text); anything else is dropped."""
    clean: dict[str, dict[str, list[Any]]] = {}
    if not isinstance(raw, dict):
        return clean
    for source_id, change in raw.items():
        if not isinstance(source_id, str) or not isinstance(change, dict):
            continue
        add = [{"name": str(e["name"]), "path": str(e["path"])}
               for e in change.get("add") or [] if isinstance(e, dict)
               and str(e.get("name", "")).strip() and isinstance(e.get("path"), str)]
        remove = [str(n) for n in change.get("remove") or [] if isinstance(n, str) and n]
        entry: dict[str, list[Any]] = {}
        if add:
            entry["add"] = add
        if remove:
            entry["remove"] = remove
        if entry:
            clean[source_id] = entry
    return clean


def overrides_yaml(overrides: dict[str, Any]) -> str:
    """The overrides file the CLI's ``--mappings`` reads."""
    header = "# Field-mapping overrides for connector.py --mappings (from the console)\n"
    return header + yaml.safe_dump(overrides, sort_keys=False, allow_unicode=True)


class Playground:
    def __init__(self, mapping_files: Sequence[Path]) -> None:
        self.mapping_files = list(mapping_files)
        self.base = MappingSet.load(self.mapping_files)

    def sources(self) -> list[SourceChoice]:
        return [SourceChoice(s.id, s.name, s.search.value if s.search else None)
                for s in self.base.sources]

    def map(self, document: Any, source_id: str, overrides: dict[str, Any]) -> PlaygroundReport:
        """Map every event of `document` as events of `source_id` (events that name their own
        type keep it), with `overrides` applied; problems are reported, never raised."""
        try:
            mappings = MappingSet.load(self.mapping_files, overrides or None, strict=False)
        except MappingError as exc:
            return PlaygroundReport(0, 0, problems=[str(p) for p in exc.problems])
        problems = [str(p) for p in mappings.problems]
        try:
            chosen = mappings.source(source_id)
        except KeyError:
            chosen = mappings.default
        events = list(mappings.events(document))
        wanted = chosen.search.value if chosen.search else None
        for event in events:
            if wanted is not None and isinstance(event, dict):
                for key in mappings.search_keys():
                    event.setdefault(key, wanted)
        mapped = [mappings.map_event(event) for event in events]
        shown = mapped[:MAX_EVENT_COLUMNS]
        fields = list(mappings.default.fields)
        if chosen is not mappings.default:
            names = {f.system_name for f in chosen.fields}
            fields = [f for f in fields if f.system_name not in names] + list(chosen.fields)
        rows = []
        for f in fields:
            owner = chosen if f in chosen.fields else mappings.default
            rows.append(FieldRow(
                name=f.name, system_name=f.system_name, path=f.path.text, source=owner.id,
                custom=f.custom,
                matched=sum(1 for m in mapped if f.system_name in m),
                values=tuple(m.get(f.system_name) for m in shown)))
        return PlaygroundReport(len(mapped), len(shown), rows, problems)


def custom_system_name(name: str) -> str:
    """What a custom field is called in mapped events (the ``__`` prefix rule)."""
    return system_name(name, custom=True)
