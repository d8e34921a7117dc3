"""The shared shape of the list commands: Filter, Select, Top, and every page or at most Top.

No Top: every result, asking for the endpoint's largest page to spend the fewest requests
(Graph throttles identityProtection at one request per second). Top N: at most N results,
with the continuation link returned in ``raw_data["@odata.nextLink"]`` when more exist. Graph may
send a page shorter than Top before the end; when the next page then has to be cut, the link is
that page's own, with ``key_fields["next_link_skip"]`` items of it already returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass
class Listing:
    """The items of a listing and where to continue it."""

    items: list[dict[str, Any]]
    next_link: str | None = None
    skip: int = 0
    """Items at ``next_link`` already returned (when Graph sent a page shorter than Top)."""

    @property
    def more(self) -> bool:
        return self.next_link is not None


def collect(pages: Any) -> Listing:
    """Every item the client's page iterator yields (it stops at ``max_items``)."""
    items = [item for page in pages for item in page.get("value") or []]
    if pages.next_link:
        return Listing(items, pages.next_link)
    if pages.cut_url:
        return Listing(items, pages.cut_url, pages.cut_skip)
    return Listing(items)


def listing_output(listing: Listing) -> CommandOutput:
    items = listing.items
    raw: dict[str, Any] = {"value": items}
    key_fields: dict[str, Any] = {"count": len(items), "more": listing.more}
    if listing.next_link:
        raw[NEXT_LINK] = listing.next_link
        key_fields["next_link"] = listing.next_link
        if listing.skip:
            key_fields["next_link_skip"] = listing.skip
    return CommandOutput(return_data=len(items), raw_data=raw, key_fields=key_fields,
                         context_data={"ids": [i["id"] for i in items if "id" in i]})


def run_listing(client: Any, context: Any, inputs: Mapping[str, Any], path: str,
                page_max: int) -> CommandOutput:
    permissions = context.command.permissions.for_inputs(inputs)
    pages = client.iter_pages(path, params=list_params(inputs, page_max),
                              permissions=permissions, max_items=inputs.get("top"))
    return listing_output(collect(pages))


def require_identity_protection(context: Any) -> None:
    """riskyUsers and riskDetections do not exist in the China (21Vianet) cloud."""
    if context.connection.get("cloud") == "china":
        raise InvalidInput("Cloud", "Identity Protection (risky users, risk detections) is not "
                                    "available in the China (21Vianet) cloud")
