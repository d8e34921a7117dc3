"""Fetch Event: sign-ins, risk detections or risky users in a time window, most recent first.

Every input becomes one ``$filter``: string literals quoted with ``'`` doubled, times as
DateTimeOffset literals, the user's own Filter (already parsed, so balanced) in parentheses.
Risk detections are windowed on lastUpdatedDateTime and risky users on riskLastUpdatedDateTime,
the fields that move when a record changes, so that late offline detections are not missed.

Where, per event type, to read, on which cursor field, and whether Graph orders it all come from
the manifest's resource catalogue (Fetch Event's ``resource_by``). Only sign-ins document
``$orderby`` (createdDateTime; newest first is even their default). For the others Graph promises
no order, so the whole window is read and sorted here before the most recent N are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from commands import registry
from commands.listing import collect, require_available
from commands.odata import quote
from commands.retention import check_filter_dates, clamp_window
from executor.errors import ManifestError
from executor.job.instants import instant_key
from executor.model import CommandSpec, ResourceSpec
from executor.plugin import CommandContext
from executor.result import CommandOutput, Status

FETCH_EVENT = "fetch-event"


@dataclass(frozen=True)
class EventSource:
    """One event type of Fetch Event, read from its resource in the catalogue."""

    event_type: str
    resource: ResourceSpec

    @property
    def path(self) -> str:
        return self.resource.path

    @property
    def time_field(self) -> str:
        return self.resource.cursor or "createdDateTime"

    @property
    def page_max(self) -> int:
        return self.resource.page_size or self.resource.max_top or 100

    @property
    def server_ordered(self) -> bool:
        """Graph sorts this resource by ``time_field`` and accepts it in ``$orderby``."""
        return self.resource.ordered_by == self.time_field


def event_sources(command: CommandSpec) -> dict[str, EventSource]:
    """Fetch Event's event types and where each one reads (its ``resource_by``)."""
    if command.resource_by is None:
        raise ManifestError("integration.yaml", f"command {command.id}",
                            "needs resource_by (the resource per event type)")
    _, by_value = command.resource_by
    for value, resource in by_value.items():
        if resource.cursor is None:
            raise ManifestError("integration.yaml", f"$.resources.{resource.id}",
                                f"event type {value} needs the resource's cursor field")
    return {value: EventSource(value, resource) for value, resource in by_value.items()}


class _ShippedSources(Mapping[str, EventSource]):
    """Fetch Event's sources as the shipped manifest declares them, read on first use (for
    callers that hold no :class:`~executor.model.Manifest`, such as the job's command line)."""

    @cached_property
    def _sources(self) -> dict[str, EventSource]:
        from executor.manifest import load_manifest

        command = load_manifest(Path(__file__).resolve().parent.parent).command_named(FETCH_EVENT)
        if command is None:
            raise ManifestError("integration.yaml", "$.commands", f"no command {FETCH_EVENT}")
        return event_sources(command)

    def __getitem__(self, key: str) -> EventSource:
        return self._sources[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


SOURCES: Mapping[str, EventSource] = _ShippedSources()

_EQUALS = (("risk_detail", "riskDetail"), ("risk_state", "riskState"),
           ("risk_level", "riskLevel"), ("risk_event_type", "riskEventType"))


def build_filter(source: EventSource, inputs: Mapping[str, Any]) -> str:
    clauses = [f"{source.time_field} ge {inputs['start_time']}",
               f"{source.time_field} le {inputs['end_time']}"]
    names = inputs.get("user_principal_names") or []
    if names:
        either = " or ".join(f"userPrincipalName eq {quote(n)}" for n in names)
        clauses.append(f"({either})" if len(names) > 1 else either)
    for input_id, field in _EQUALS:
        if inputs.get(input_id):
            clauses.append(f"{field} eq {quote(inputs[input_id])}")
    if inputs.get("filter"):
        clauses.append(f"({inputs['filter']})")
    return " and ".join(clauses)


def query(source: EventSource, inputs: Mapping[str, Any]) -> dict[str, str]:
    if not source.server_ordered:
        return {"$filter": build_filter(source, inputs), "$top": str(source.page_max)}
    limit = inputs.get("number_of_events_fetched")
    return {"$filter": build_filter(source, inputs),
            "$orderby": f"{source.time_field} desc",
            "$top": str(min(limit or source.page_max, source.page_max))}


def _instant(value: Any) -> str:
    """Graph's timestamps vary in precision (``...:00Z``, ``...:00.1234567Z``): compare them
    in one fixed-width form."""
    try:
        return instant_key(str(value))
    except ValueError:
        return ""


def most_recent(events: list[dict[str, Any]], source: EventSource,
                limit: int | None) -> list[dict[str, Any]]:
    """Newest first by the window's field (ties by id, for a stable answer), at most ``limit``."""
    events.sort(key=lambda e: (_instant(e.get(source.time_field)), str(e.get("id") or "")),
                reverse=True)
    return events[:limit] if limit else events


@registry.handler("fetch-event")
def run(client: Any, inputs: dict[str, Any], context: CommandContext) -> CommandOutput:
    source = event_sources(context.command)[inputs["event_type"]]
    require_available(context, source.resource)
    inputs = dict(inputs)
    warnings = clamp_window(source.resource, inputs, context.now())
    check_filter_dates(inputs.get("filter") or "", source.resource, context.now())
    limit = inputs.get("number_of_events_fetched")
    params = query(source, inputs)
    pages = client.iter_pages(source.path, params=params,
                              permissions=context.command.permissions.for_inputs(inputs),
                              max_items=limit if source.server_ordered else None,
                              unique_key="id")  # offset paging repeats inserted-over items
    events = collect(pages).items
    if not source.server_ordered:
        events = most_recent(events, source, limit)
    for event in events:
        event["eventType"] = source.event_type
    raw = {"value": events}
    mapped = context.map_events(raw)
    for event in mapped:  # sign-ins match no search string: they are what Default maps
        event["event_type"] = event["event_type"] or source.event_type
    return CommandOutput(
        return_data=Status.SUCCESSFUL.value, raw_data=raw,
        key_fields={"count": len(events), "event_type": source.event_type},
        context_data={"filter": params["$filter"],
                      "ids": [e["id"] for e in events if "id" in e]},
        events=mapped, warnings=warnings)
