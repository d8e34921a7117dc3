"""A command's result as the Test Command window shows it: tabs, a collapsible tree, tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

MAX_CHILDREN = 200
MAX_ROWS = 500
MAX_COLUMNS = 40
OPEN_LEVELS = 2
MAX_JSON_CHARS = 512 * 1024


@dataclass(frozen=True)
class Tab:
    id: str
    title: str
    value: Any
    active: bool = False


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def json_preview(value: Any) -> tuple[str, int]:
    """The value as indented JSON, cut at MAX_JSON_CHARS (a page stays light whatever the
    result's size), and the full length."""
    text = as_json(value)
    return text[:MAX_JSON_CHARS], len(text)


def is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def tabs(result: dict[str, Any]) -> list[Tab]:
    """Return Data, Raw Data, Key Fields, Context Data (and Events when the command has them);
    an Error tab when there are errors, opened first when the command failed."""
    failed = result.get("status") == "Failed"
    shown = [Tab("return", "Return Data", result.get("return_data"), not failed),
             Tab("raw", "Raw Data", result.get("raw_data")),
             Tab("key", "Key Fields", result.get("key_fields")),
             Tab("context", "Context Data", result.get("context_data"))]
    if result.get("events") is not None:
        shown.append(Tab("events", "Events", result.get("events")))
    if result.get("errors"):
        shown.append(Tab("error", "Error", result.get("errors"), failed))
    return shown


def _scalar(value: Any) -> Markup:
    kind = ("null" if value is None else "bool" if isinstance(value, bool)
            else "num" if isinstance(value, int | float) else "str")
    text = json.dumps(value, ensure_ascii=False) if kind != "str" else str(value)
    return Markup('<span class="v-{}">{}</span>').format(kind, text)


def tree(value: Any, level: int = 0) -> Markup:
    """Nested <details> for objects and arrays: collapsible without any script."""
    if is_scalar(value):
        return _scalar(value)
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    opening = Markup("<details open>") if level < OPEN_LEVELS else Markup("<details>")
    label = (f"{{{len(items)} keys}}" if isinstance(value, dict) else f"[{len(items)} items]")
    parts = [opening, Markup('<summary class="t-size">{}</summary><ul class="tree">').format(label)]
    for key, child in items[:MAX_CHILDREN]:
        parts.append(Markup('<li><span class="t-key">{}</span>: {}</li>').format(
            key, tree(child, level + 1)))
    if len(items) > MAX_CHILDREN:
        parts.append(Markup("<li>… {} more (see the JSON view)</li>").format(
            len(items) - MAX_CHILDREN))
    parts.append(Markup("</ul></details>"))
    return Markup("").join(parts)


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    total: int


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def table_of(value: Any, title: str = "") -> list[Table]:
    """A table for each list of objects: the value itself or any of its top-level members.
    Mapped events (``{"event_type", "fields"}``) get one column per mapped field."""
    if isinstance(value, list) and value and all(
            isinstance(i, dict) and isinstance(i.get("fields"), dict) for i in value):
        value = [{"event_type": i.get("event_type"), **i["fields"]} for i in value]
    candidates = [(title, value)]
    if isinstance(value, dict):
        candidates += [(str(k), v) for k, v in value.items()]
    found = []
    for name, candidate in candidates:
        if isinstance(candidate, list) and candidate and all(isinstance(i, dict)
                                                             for i in candidate):
            columns: dict[str, None] = {}
            for item in candidate[:MAX_ROWS]:
                columns.update(dict.fromkeys(map(str, item)))
            names = list(columns)[:MAX_COLUMNS]
            rows = [[_cell(item.get(c)) for c in names] for item in candidate[:MAX_ROWS]]
            found.append(Table(name, names, rows, len(candidate)))
    return found


def readiness(views: list[Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per command: ready or not, from the connection test's allowed commands and missing
    permissions (looked for in key fields, then context data)."""
    places = [result.get("key_fields") or {}, result.get("context_data") or {}]
    allowed = next((p["allowed_commands"] for p in places
                    if isinstance(p.get("allowed_commands"), list)), None)
    missing: dict[str, Any] = next((p["missing_permissions"] for p in places
                                   if isinstance(p.get("missing_permissions"), dict)), {})
    rows = []
    for view in views:
        if allowed is None:
            state, detail = "unknown", "the connection test did not say"
        else:
            partial = [a for a in allowed if isinstance(a, str)
                       and a.startswith(view.name + " (")]
            variants = {p[len(view.name) + 2:-1] for p in partial}
            covered = bool(view.variants) and variants >= set(view.variants)
            full = view.name in allowed or covered
            state = "ready" if full or partial else "not ready"
            detail = ("only " + ", ".join(p[len(view.name) + 2:-1] for p in partial)
                      if partial and not full else "")
            lacking = missing.get(view.name) or missing.get(view.id)
            if lacking:
                detail = (detail + "; " if detail else "") + "missing " + (
                    ", ".join(map(str, lacking)) if isinstance(lacking, list) else str(lacking))
        rows.append({"name": view.name, "state": state, "detail": detail,
                     "permissions": ", ".join(view.permissions)})
    return rows


def fetch_command(manifest: Any, sources: list[Any]) -> tuple[str, str | None, str | None] | None:
    """(command id, event-type input id, event-count input id) of the command that fetches the
    events the mapping sources describe: the one with an input offering every source's type."""
    wanted = {s.event_type for s in sources if s.event_type}
    for command in manifest.commands:
        for spec in command.inputs:
            values = {getattr(a, "value", a) for a in getattr(spec, "allowed_values", ()) or ()}
            if wanted and wanted <= values:
                limit = next((i.id for i in command.inputs if i.type == "integer"), None)
                return command.id, spec.id, limit
    return None
