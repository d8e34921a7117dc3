"""The generic list command: a manifest entry with ``handler: list`` and a resource.

No Top: every result, asking for the resource's ``page_size`` (Graph throttles
identityProtection at one request per second, so large pages spend the fewest requests; a
resource without one gets no ``$top``). Top N: at most N results, with the continuation link
returned in ``raw_data["@odata.nextLink"]`` when more exist. Graph may send a page shorter than
Top before the end; when the next page then has to be cut, the link is that page's own, with
``key_fields["next_link_skip"]`` items of it already returned. Offset paging can repeat an item
when records are inserted while paging: an id already returned is not returned again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from commands import registry
from commands.paths import resource_path
from executor.errors import InvalidInput, ManifestError
from executor.model import ResourceSpec
from executor.plugin import CommandContext
from executor.result import CommandOutput, Status

NEXT_LINK = "@odata.nextLink"


def list_params(inputs: Mapping[str, Any], resource: ResourceSpec) -> dict[str, str]:
    params: dict[str, str] = {}
    top = inputs.get("top") or resource.page_size
    if top:
        params["$top"] = str(top)
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
    repeated: int = 0
    """Items left out because an earlier page already returned their id."""

    @property
    def more(self) -> bool:
        return self.next_link is not None


def unique_by_id(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items in order, each id once (items without an id are all kept)."""
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    for item in items:
        key = item.get("id") if isinstance(item, dict) else None
        if isinstance(key, str):
            if key in seen:
                continue
            seen.add(key)
        kept.append(item)
    return kept


def collect(pages: Any) -> Listing:
    """Every item the client's page iterator yields (it stops at ``max_items``), ids once."""
    raw = [item for page in pages for item in page.get("value") or []]
    items = unique_by_id(raw)
    repeated = len(raw) - len(items)
    if pages.next_link:
        return Listing(items, pages.next_link, repeated=repeated)
    if pages.cut_url:
        return Listing(items, pages.cut_url, pages.cut_skip, repeated=repeated)
    return Listing(items, repeated=repeated)


def listing_output(listing: Listing) -> CommandOutput:
    items = listing.items
    raw: dict[str, Any] = {"value": items}
    key_fields: dict[str, Any] = {"count": len(items), "more": listing.more}
    if listing.next_link:
        raw[NEXT_LINK] = listing.next_link
        key_fields["next_link"] = listing.next_link
        if listing.skip:
            key_fields["next_link_skip"] = listing.skip
    return CommandOutput(return_data=Status.SUCCESSFUL.value, raw_data=raw,
                         key_fields=key_fields,
                         context_data={"ids": [i["id"] for i in items if "id" in i]})


def require_available(context: CommandContext, resource: ResourceSpec) -> None:
    """Some collections do not exist in every national cloud (identityProtection: not in
    China/21Vianet); refuse before any request."""
    cloud = context.connection.get("cloud")
    if cloud in resource.unavailable_in_clouds:
        raise InvalidInput("Cloud", f"{resource.path} is not available in the '{cloud}' cloud")


def command_resource(context: CommandContext, inputs: Mapping[str, Any]) -> ResourceSpec:
    resource = context.command.resource_for(inputs)
    if resource is None:
        raise ManifestError("integration.yaml", f"command {context.command.id}",
                            "names no resource")
    return resource


@registry.handler("list")
def run(client: Any, inputs: dict[str, Any], context: CommandContext) -> CommandOutput:
    """Any list command: ``GET`` the command's resource with Filter, Select and Top."""
    resource = command_resource(context, inputs)
    require_available(context, resource)
    pages = client.iter_pages(resource_path(resource, context.command, inputs),
                              params=list_params(inputs, resource),
                              permissions=context.command.permissions.for_inputs(inputs),
                              max_items=inputs.get("top"), unique_key="id")
    return listing_output(collect(pages))
