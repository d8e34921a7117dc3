"""Following ``@odata.nextLink`` safely: whole links, past empty pages, never off the Graph host.

Graph's paging guidance: use the entire ``@odata.nextLink`` as given, never rebuild it from its
``$skiptoken``. Pitfalls other clients fell into, each refused or handled here (reliability facts
§2): stopping at an empty page that still has a nextLink (msgraph-core's PageIterator), looping on
an empty-string link (msrest), following a link to another host with the bearer token attached.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from commands.graph.errors import unexpected_response
from commands.graph.origin import origin
from executor.errors import ApiError

NEXT_LINK = "@odata.nextLink"
MAX_PAGES = 100_000
"""Guard against a service that hands out new links forever (a million risk detections at
Graph's default 20 per page is 50,000 pages)."""
MAX_EMPTY_PAGES = 20
"""Graph may send an empty page with a next link while it searches (sign-ins do); twenty in a row
is no search any more but a service making no progress: paging ends with an error."""

DEDUPE_WINDOW = 20_000
"""With ``unique_key``, how many recent keys are remembered. Graph's skip tokens behave as
positions (issue 10): a record inserted ahead of the cursor shifts the rest, so the next page
repeats as many items as were inserted meanwhile; those repeats are recent, so a bounded window
catches them without holding every key of a million-record listing."""

Fetch = Callable[[str, Mapping[str, Any] | None], dict[str, Any]]


class PagingError(ApiError):
    """Graph handed out a nextLink the client refuses to follow."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message, code="invalidNextLink")


def check_next_link(link: Any, base_url: str, seen: set[str]) -> str:
    """The link to request next; raises :class:`PagingError` for one that must not be followed."""
    if not isinstance(link, str):
        raise PagingError(f"Graph returned a {type(link).__name__} as @odata.nextLink")
    if not link.strip():
        raise PagingError("Graph returned an empty @odata.nextLink; stopped paging")
    parts = urlsplit(link)
    if parts.username is not None or parts.password is not None or "\\" in link:
        raise PagingError("Graph returned a malformed @odata.nextLink; stopped paging")
    scheme, host, port = origin(link)
    if not host or (scheme, host, port) != origin(base_url):
        shown = f"{scheme}://{host}" if host else "a relative link"
        raise PagingError(f"@odata.nextLink points to {shown}, not to the Graph host of this "
                          "connection; refused to follow it (the token stays with Graph)")
    if link in seen:
        raise PagingError("Graph returned the same @odata.nextLink twice; stopped paging")
    seen.add(link)
    return link


class PageIterator:
    """Iterates over pages (dicts) of one collection; after iteration, says whether more exist.

    With ``max_items``, iteration stops once that many items were yielded; the last page is cut
    short if needed. ``next_link`` is then the exact continuation (set only when the cut falls on
    a page boundary, which it does when ``$top`` is at most ``max_items``); ``more`` is true
    whenever further items exist, continuation link or not. When a page had to be cut (Graph may
    send pages shorter than ``$top`` before the end), ``cut_url`` is that page's own link and
    ``cut_skip`` how many of its items were yielded: continuing there and skipping as many loses
    nothing and repeats nothing.

    With ``unique_key`` (``"id"``), an item whose key was among the last :data:`DEDUPE_WINDOW`
    yielded is dropped (offset paging repeats items when records are inserted mid-listing);
    ``duplicates`` counts them.
    """

    def __init__(self, fetch: Fetch, url: str, params: Mapping[str, Any] | None, *,
                 base_url: str, max_items: int | None = None, max_pages: int = MAX_PAGES,
                 max_empty_pages: int = MAX_EMPTY_PAGES, objects_only: bool = True,
                 unique_key: str | None = None) -> None:
        if max_items is not None and max_items < 0:
            raise ValueError("max_items must not be negative")
        self._fetch = fetch
        self._url = url
        self._params = params
        self._base_url = base_url
        self.max_items = max_items
        self.max_pages = max_pages
        self.max_empty_pages = max_empty_pages
        self.objects_only = objects_only
        self.pages = 0
        self.items = 0
        self.next_link: str | None = None
        self.more = False
        self.cut_url: str | None = None
        self.cut_skip = 0
        self.unique_key = unique_key
        self.duplicates = 0
        self._recent: deque[Any] = deque()
        self._recent_set: set[Any] = set()
        self._started = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._started:
            raise RuntimeError("a PageIterator can be iterated once")
        self._started = True
        return self._pages()

    def _pages(self) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        empty_in_a_row = 0
        url, params = self._url, self._params
        while True:
            if self.max_items is not None and self.items >= self.max_items:
                return
            if self.pages >= self.max_pages:
                raise PagingError(f"stopped after {self.pages} pages (the page guard)")
            page = self._fetch(url, params)
            self.pages += 1
            values = page.get("value")
            if not isinstance(values, list):
                raise unexpected_response(200, "a page without a 'value' list")
            if self.objects_only:
                odd = next((i for i, v in enumerate(values) if not isinstance(v, dict)), None)
                if odd is not None:
                    raise unexpected_response(200, f"item {odd} of 'value' on page {self.pages} "
                                              f"is a {type(values[odd]).__name__}, not an object")
            empty_in_a_row = empty_in_a_row + 1 if not values else 0
            positions = list(range(len(values)))
            if self.unique_key is not None and values:
                positions = self._new_positions(values)
                if len(positions) < len(values):
                    self.duplicates += len(values) - len(positions)
                    values = [values[i] for i in positions]
                    page = dict(page, value=values)
            link = page.get(NEXT_LINK)
            has_link = NEXT_LINK in page
            next_url = check_next_link(link, self._base_url, seen) if has_link else None
            if next_url is not None and empty_in_a_row >= self.max_empty_pages:
                raise PagingError(f"Graph sent {empty_in_a_row} empty pages in a row, each with "
                                  "a new @odata.nextLink; stopped paging (no progress)")
            room = None if self.max_items is None else self.max_items - self.items
            if room is not None and len(values) >= room:
                cut = len(values) > room
                page = dict(page, value=values[:room])
                self.more = cut or next_url is not None
                self.next_link = None if cut else next_url
                if cut:
                    page.pop(NEXT_LINK, None)
                    self.cut_url = url if params is None else None
                    self.cut_skip = positions[room - 1] + 1 if room else 0
                self.items += room
                yield page
                return
            self.items += len(values)
            yield page
            if next_url is None:
                return
            url, params = next_url, None

    def _new_positions(self, values: list[Any]) -> list[int]:
        """Positions of the items whose key was not yielded recently; remembers their keys."""
        key = self.unique_key
        kept: list[int] = []
        for position, item in enumerate(values):
            value = item.get(key) if isinstance(item, dict) else None
            if value is None or isinstance(value, dict | list):
                kept.append(position)
                continue
            if value in self._recent_set:
                continue
            kept.append(position)
            self._recent.append(value)
            self._recent_set.add(value)
            if len(self._recent) > DEDUPE_WINDOW:
                self._recent_set.discard(self._recent.popleft())
        return kept
