"""Saved Graph responses on which ``validate`` measures how well the field mappings match.

The sample outputs of the list commands and Fetch Event, and Microsoft's own example responses
(``../shared/reference/graph_examples`` beside the plugin when present, else the copies under
``tests/mapping/graph_examples``, named ``<resource id>_*.json``). Each event gets the
``eventType`` Fetch Event would give it: the event type whose resource (in the manifest's
catalogue) the document lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FETCH_EVENT = "fetch-event"


def _event_types(plugin_dir: Path) -> tuple[dict[str, str | None], dict[str, str]]:
    """(event type per sample-output command id, event type per resource id)."""
    from executor.manifest import load_manifest

    manifest = load_manifest(plugin_dir)
    fetch = manifest.command_named(FETCH_EVENT)
    by_resource = ({resource.id: value for value, resource in fetch.resource_by[1].items()}
                   if fetch is not None and fetch.resource_by else {})
    samples: dict[str, str | None] = {
        c.id: by_resource[c.resource.id] for c in manifest.commands
        if c.handler == "list" and c.resource is not None and c.resource.id in by_resource}
    samples[FETCH_EVENT] = None
    return samples, by_resource


def _typed(document: Any, event_type: str | None) -> dict[str, Any] | None:
    values = document.get("value") if isinstance(document, dict) else None
    if not isinstance(values, list):
        return None
    events = [dict(v) for v in values if isinstance(v, dict)]
    for event in events:
        if event_type is not None:
            event.setdefault("eventType", event_type)
    return {"value": events}


def _loose_json(text: str) -> Any:
    """Microsoft's published examples sometimes carry trailing commas."""
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def mapping_documents(plugin_dir: Path) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    sample_event_types, example_event_types = _event_types(plugin_dir)
    for command_id, event_type in sample_event_types.items():
        path = plugin_dir / "sample_outputs" / f"{command_id}.json"
        if path.is_file():
            raw = json.loads(path.read_text(encoding="utf-8")).get("raw_data")
            typed = _typed(raw, event_type)
            if typed:
                documents.append(typed)
    shared = plugin_dir.parent / "shared" / "reference" / "graph_examples"
    examples = shared if shared.is_dir() else plugin_dir / "tests" / "mapping" / "graph_examples"
    for path in sorted(examples.glob("*.json")):
        if path.name.endswith(".normalized.json"):
            continue
        event_type = example_event_types.get(path.name.split("_")[0])
        if event_type:
            typed = _typed(_loose_json(path.read_text(encoding="utf-8")), event_type)
            if typed:
                documents.append(typed)
    return documents
