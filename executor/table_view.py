"""The human view of results and command listings (`--output table`).

A result shows its status, Return Data, Key Fields, errors and each row: the events of a fetch,
else the first list of objects in Raw Data or Context Data. Rows are a table when they fit the
terminal, else one block of `name  value` lines per row. JSON (`--output json`) stays the
complete, machine-readable form; this view may shorten long values.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from typing import Any

CELL_WIDTH = 48
"""A value longer than this is cut in a horizontal table (blocks show it whole)."""


def text(value: Any) -> str:
    """One line for any JSON value: strings as they are, the rest as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split()) if "\n" in value else value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cut(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, cut: int = CELL_WIDTH
          ) -> list[str]:
    """Aligned columns under a header; cells cut at `cut` characters."""
    cells = [[_cut(text(cell), cut) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return lines


def pairs(mapping: dict[str, Any], indent: str = "  ") -> list[str]:
    """`name  value` lines, names aligned."""
    if not mapping:
        return [f"{indent}(none)"]
    width = max(len(str(k)) for k in mapping)
    return [f"{indent}{str(k).ljust(width)}  {text(v)}".rstrip() for k, v in mapping.items()]


def result_rows(result: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(where, rows) sections: a fetch's events, else each list of objects in Raw Data and
    Context Data (a listing's items, an action's per-id outcomes)."""
    events = result.get("events")
    if isinstance(events, list):
        return [("Events", [_event_row(e) for e in events])]
    sections = []
    for where in ("raw_data", "context_data"):
        name = where.replace("_", " ").title()
        for key, rows in _object_lists(result.get(where)):
            sections.append((f"{name} {key}" if key else name, rows))
    return sections


def _event_row(event: Any) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("fields"), dict):
        return {"event_type": event.get("event_type"), **event["fields"]}
    return event if isinstance(event, dict) else {"value": event}


def _object_lists(data: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    def is_rows(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)

    if is_rows(data):
        return [("", data)]
    if isinstance(data, dict):
        return [(str(key), value) for key, value in data.items() if is_rows(value)]
    return []


def rows_view(rows: list[dict[str, Any]], width: int) -> list[str]:
    """A table when every column fits `width`, else a block per row."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    header = list(columns)
    lines = table(header, ([row.get(c) for c in header] for row in rows))
    if max(len(line) for line in lines) <= width:
        return lines
    out: list[str] = []
    for number, row in enumerate(rows, 1):
        out.append(f"  [{number}]")
        out.extend(pairs({k: v for k, v in row.items() if v is not None}, indent="    "))
    return out


def render_result(result: dict[str, Any], width: int | None = None) -> str:
    """The human view of one result object (SPEC §4)."""
    width = width or shutil.get_terminal_size().columns
    lines = [f"{result.get('command')}: {result.get('status')}", "",
             f"Return Data  {text(result.get('return_data'))}", "", "Key Fields"]
    lines += pairs(result.get("key_fields") or {})
    errors = result.get("errors") or []
    if errors:
        lines += ["", "Errors"]
        lines += [f"  {e.get('failure_indicator')} "
                  f"({e.get('status_code') if e.get('status_code') is not None else '-'}): "
                  f"{e.get('message')}" for e in errors]
    warnings = result.get("warnings") or []
    if warnings:
        lines += ["", "Warnings"] + [f"  {w}" for w in warnings]
    for where, rows in result_rows(result):
        lines += ["", f"{where}: {len(rows)} row(s)"]
        lines += ["  " + line for line in rows_view(rows, width - 2)]
    return "\n".join(lines) + "\n"


def render_commands(commands: list[dict[str, Any]]) -> str:
    """`commands` as a table: name, id, inputs."""
    rows = [(c["name"], c["id"], ", ".join(_input_names(c.get("inputs", []))))
            for c in commands]
    return "\n".join(table(("Command", "Id", "Inputs"), rows, cut=200)) + "\n"


def _input_names(inputs: list[Any]) -> list[str]:
    return [i["name"] if isinstance(i, dict) else str(i) for i in inputs]


def render_details(details: list[dict[str, Any]]) -> str:
    """`commands --details`: per command its description, permissions and an input table."""
    blocks: list[str] = []
    for command in details:
        lines = [f"{command['name']} ({command['id']})"]
        if command.get("description"):
            lines.append(f"  {text(command['description'])}")
        if command.get("permissions"):
            lines.append(f"  Permissions: {', '.join(command['permissions'])}")
        rows = [(i["name"], "yes" if i.get("required") else "no", i.get("type"),
                 _allowed_cell(i), i.get("default"), i.get("example"))
                for i in command.get("inputs", [])]
        if rows:
            lines += ["  " + line for line in table(
                ("Input", "Required", "Type", "Allowed", "Default", "Example"), rows, cut=60)]
        else:
            lines.append("  (no inputs)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _allowed_cell(detail: dict[str, Any]) -> str:
    """The allowed values, or for an open input "any, such as" its suggested ones."""
    if detail.get("suggested"):
        return "any, such as " + ", ".join(map(text, detail["suggested"]))
    return ", ".join(map(text, detail.get("allowed") or []))
