"""The shared shape of the list commands: Filter, Select, Top, and every page or at most Top.

No Top: every result, asking for the endpoint's largest page to spend the fewest requests
(Graph throttles identityProtection at one request per second). Top N: at most N results,
with the continuation link returned in ``raw_data["@odata.nextLink"]`` when more exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from executor.errors import InvalidInput
from executor.result import CommandOutput

NEXT_LINK = "@odata.nextLink"


def list_params(inputs: Mapping[str, Any], page_max: int) -> dict[str, str]:
    params: dict[str, str] = {"$top": str(inputs.get("top") or page_max)}
    if inputs.get("filter"):
        params["$filter"] = inputs["filter"]
    if inputs.get("select"):
        params["$select"] = ",".join(inputs["select"])
    return params


def collect(pages: Iterable[Mapping[str, Any]], limit: int | None
            ) -> tuple[list[dict[str, Any]], str | None]:
    """Items of every page (or the first ``limit``) and the link to continue, if any."""
    items: list[dict[str, Any]] = []
    next_link = None
    for page in pages:
        values = page.get("value") or []
        room = None if limit is None else limit - len(items)
        items.extend(values if room is None else values[:room])
        next_link = page.get(NEXT_LINK)
        if limit is not None and len(items) >= limit:
            break
    return items, next_link


def listing_output(items: list[dict[str, Any]], next_link: str | None) -> CommandOutput:
    raw: dict[str, Any] = {"value": items}
    key_fields: dict[str, Any] = {"count": len(items)}
    if next_link:
        raw[NEXT_LINK] = next_link
        key_fields["next_link"] = next_link
    return CommandOutput(return_data=len(items), raw_data=raw, key_fields=key_fields,
                         context_data={"ids": [i["id"] for i in items if "id" in i]})


def run_listing(client: Any, context: Any, inputs: Mapping[str, Any], path: str,
                page_max: int) -> CommandOutput:
    permissions = context.command.permissions.for_inputs(inputs)
    pages: Iterator[Mapping[str, Any]] = client.iter_pages(
        path, params=list_params(inputs, page_max), permissions=permissions,
        max_items=inputs.get("top"))
    return listing_output(*collect(pages, inputs.get("top")))


def require_identity_protection(context: Any) -> None:
    """riskyUsers and riskDetections do not exist in the China (21Vianet) cloud."""
    if context.connection.get("cloud") == "china":
        raise InvalidInput("Cloud", "Identity Protection (risky users, risk detections) is not "
                                    "available in the China (21Vianet) cloud")
