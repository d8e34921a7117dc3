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
from urllib.parse import unquote, urlsplit

from commands import registry
from commands.graph.origin import origin
from commands.paths import resource_path
from commands.retention import check_filter_dates
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


def check_continuation(link: str, collection_url: str, inputs: Mapping[str, Any]) -> str:
    """A Next Link this command may follow: https, on the connection's Server URL, naming the
    command's own collection, and not mixed with Filter or Select (the link carries them).
    Anything else is refused before any request: the token goes only where it belongs."""
    for other, name in (("filter", "Filter"), ("select", "Select")):
        if inputs.get(other):
            raise InvalidInput("Next Link", f"continues a previous result with its own Filter "
                               f"and Select; give it without {name}")
    parts = urlsplit(link)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidInput("Next Link", "must be an https:// URL (the next_link of a previous "
                           "result)")
    if parts.username is not None or parts.password is not None or parts.fragment \
            or "\\" in link:
        raise InvalidInput("Next Link", "must not contain user information, a fragment or "
                           "backslashes")
    expected = urlsplit(collection_url)
    if origin(link) != origin(collection_url):
        raise InvalidInput("Next Link", f"points to {parts.hostname}, not to this "
                           f"connection's Server URL ({expected.scheme}://{expected.netloc})")
    path = unquote(parts.path).rstrip("/").casefold()
    if path != unquote(expected.path).rstrip("/").casefold():
        raise InvalidInput("Next Link", f"is for {parts.path or '/'}, not for this command's "
                           f"collection {expected.path}")
    return link


@registry.handler("list")
def run(client: Any, inputs: dict[str, Any], context: CommandContext) -> CommandOutput:
    """Any list command: ``GET`` the command's resource with Filter, Select and Top, or
    continue a previous result from its Next Link (skipping Next Link Skip items of it)."""
    resource = command_resource(context, inputs)
    require_available(context, resource)
    check_filter_dates(inputs.get("filter") or "", resource, context.now())
    path = resource_path(resource, context.command, inputs)
    permissions = context.command.permissions.for_inputs(inputs)
    skip = inputs.get("next_link_skip") or 0
    top = inputs.get("top")
    if inputs.get("next_link"):
        link = check_continuation(inputs["next_link"], client.url(path), inputs)
        pages = client.iter_link(link, permissions=permissions,
                                 max_items=top + skip if top else None, unique_key="id")
    elif skip:
        raise InvalidInput("Next Link Skip", "applies only with Next Link")
    else:
        pages = client.iter_pages(path, params=list_params(inputs, resource),
                                  permissions=permissions, max_items=top, unique_key="id")
    listing = collect(pages)
    if skip:
        listing.items = listing.items[skip:]
    return listing_output(listing)
