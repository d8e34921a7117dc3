"""Saved Graph responses on which ``validate`` measures how well the field mappings match.

The sample outputs of the list commands and Fetch Event, and Microsoft's own example responses
(``../shared/reference/graph_examples`` beside the plugin when present, else the copies under
``tests/mapping/graph_examples``). Each event gets the ``eventType`` Fetch Event would give it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SAMPLE_EVENT_TYPES = {"list-sign-in": "signIn", "list-risk-detections": "riskDetection",
                      "list-risky-users": "riskUser", "fetch-event": None}
EXAMPLE_EVENT_TYPES = {"signIns": "signIn", "riskDetections": "riskDetection",
                       "riskyUsers": "riskUser"}


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
    for command_id, event_type in SAMPLE_EVENT_TYPES.items():
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
        event_type = EXAMPLE_EVENT_TYPES.get(path.name.split("_")[0])
        if event_type:
            typed = _typed(_loose_json(path.read_text(encoding="utf-8")), event_type)
            if typed:
                documents.append(typed)
    return documents
