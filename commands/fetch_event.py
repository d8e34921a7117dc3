"""Fetch Event: sign-ins, risk detections or risky users in a time window, most recent first.

Every input becomes one ``$filter``: string literals quoted with ``'`` doubled, times as
DateTimeOffset literals, the user's own Filter (already parsed, so balanced) in parentheses.
Risk detections are windowed on lastUpdatedDateTime and risky users on riskLastUpdatedDateTime,
the fields that move when a record changes, so that late offline detections are not missed.

Only sign-ins document ``$orderby`` (createdDateTime; newest first is even their default). For
risk detections and risky users Graph promises no order, so the whole window is read and sorted
here before the most recent N are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from commands import registry
from commands.listing import collect, require_identity_protection
from commands.odata import quote
from commands.paths import RISK_DETECTIONS, RISKY_USERS, SIGN_INS
from executor.job.instants import instant_key
from executor.result import CommandOutput


@dataclass(frozen=True)
class EventSource:
    event_type: str
    path: str
    time_field: str
    page_max: int
    server_ordered: bool
    """Graph documents ``$orderby`` on ``time_field`` for this resource."""


SOURCES = {
    "signIn": EventSource("signIn", SIGN_INS, "createdDateTime", 1000, True),
    "riskDetection": EventSource("riskDetection", RISK_DETECTIONS, "lastUpdatedDateTime", 500,
                                 False),
    "riskUser": EventSource("riskUser", RISKY_USERS, "riskLastUpdatedDateTime", 500, False),
}

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
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    source = SOURCES[inputs["event_type"]]
    if not source.server_ordered:
        require_identity_protection(context)
    limit = inputs.get("number_of_events_fetched")
    params = query(source, inputs)
    pages = client.iter_pages(source.path, params=params,
                              permissions=context.command.permissions.for_inputs(inputs),
                              max_items=limit if source.server_ordered else None)
    events = collect(pages).items
    if not source.server_ordered:
        events = most_recent(events, source, limit)
    for event in events:
        event["eventType"] = source.event_type
    raw = {"value": events}
    mapped = context.options["map_events"](raw)
    for event in mapped:  # sign-ins match no search string: they are what Default maps
        event["event_type"] = event["event_type"] or source.event_type
    return CommandOutput(
        return_data=len(events), raw_data=raw,
        key_fields={"count": len(events), "event_type": source.event_type},
        context_data={"filter": params["$filter"],
                      "ids": [e["id"] for e in events if "id" in e]},
        events=mapped)
