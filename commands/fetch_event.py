"""Fetch Event: sign-ins, risk detections or risky users in a time window, most recent first.

Every input becomes one ``$filter``: string literals quoted with ``'`` doubled, times as
DateTimeOffset literals, the user's own Filter (already parsed, so balanced) in parentheses.
Risk detections are windowed on lastUpdatedDateTime and risky users on riskLastUpdatedDateTime,
the fields that move when a record changes, so that late offline detections are not missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from commands import registry
from commands.listing import collect, require_identity_protection
from commands.odata import quote
from commands.paths import RISK_DETECTIONS, RISKY_USERS, SIGN_INS
from executor.result import CommandOutput


@dataclass(frozen=True)
class EventSource:
    event_type: str
    path: str
    time_field: str
    page_max: int


SOURCES = {
    "signIn": EventSource("signIn", SIGN_INS, "createdDateTime", 1000),
    "riskDetection": EventSource("riskDetection", RISK_DETECTIONS, "lastUpdatedDateTime", 500),
    "riskUser": EventSource("riskUser", RISKY_USERS, "riskLastUpdatedDateTime", 500),
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
    limit = inputs.get("number_of_events_fetched")
    return {"$filter": build_filter(source, inputs),
            "$orderby": f"{source.time_field} desc",
            "$top": str(min(limit or source.page_max, source.page_max))}


@registry.handler("fetch-event")
def run(client: Any, inputs: dict[str, Any], context: Any) -> CommandOutput:
    source = SOURCES[inputs["event_type"]]
    if source.event_type != "signIn":
        require_identity_protection(context)
    limit = inputs.get("number_of_events_fetched")
    pages = client.iter_pages(source.path, params=query(source, inputs),
                              permissions=context.command.permissions.for_inputs(inputs),
                              max_items=limit)
    events, _ = collect(pages, limit)
    for event in events:
        event["eventType"] = source.event_type
    raw = {"value": events}
    mapped = context.options["map_events"](raw)
    for event in mapped:  # sign-ins match no search string: they are what Default maps
        event["event_type"] = event["event_type"] or source.event_type
    return CommandOutput(
        return_data=len(events), raw_data=raw,
        key_fields={"count": len(events), "event_type": source.event_type},
        context_data={"filter": query(source, inputs)["$filter"],
                      "ids": [e["id"] for e in events if "id" in e]},
        events=mapped)
