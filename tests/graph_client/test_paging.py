"""PageIterator on crafted pages: whole links, empty pages, refusals, Top N cut-offs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from commands.graph.paging import MAX_EMPTY_PAGES, PageIterator, PagingError
from executor.errors import ApiError

BASE = "https://graph.example:8443"
FIRST = f"{BASE}/v1.0/auditLogs/signIns"


class Pages:
    """A fake fetch: pages keyed by URL; records every URL asked for."""

    def __init__(self, pages: dict[str, dict[str, Any]]) -> None:
        self.pages = pages
        self.asked: list[tuple[str, Mapping[str, Any] | None]] = []

    def __call__(self, url: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        self.asked.append((url, params))
        return self.pages[url]


def chain(*values: list[Any], link: str = f"{BASE}/v1.0/auditLogs/signIns?$skiptoken=") -> Pages:
    pages: dict[str, dict[str, Any]] = {}
    for n, value in enumerate(values):
        url = FIRST if n == 0 else f"{link}{n}"
        page: dict[str, Any] = {"value": value}
        if n + 1 < len(values):
            page["@odata.nextLink"] = f"{link}{n + 1}"
        pages[url] = page
    return Pages(pages)


def items(iterator: PageIterator) -> list[Any]:
    return [v for page in iterator for v in page["value"]]


def test_follows_whole_links_past_empty_pages() -> None:
    fetch = chain([1, 2], [3], [], [], [4, 5])
    iterator = PageIterator(fetch, FIRST, {"$top": 2}, base_url=BASE, objects_only=False)
    assert items(iterator) == [1, 2, 3, 4, 5]
    assert fetch.asked[0] == (FIRST, {"$top": 2})
    assert [url for url, _ in fetch.asked[1:]] == [fetch.pages[u]["@odata.nextLink"]
                                                  for u, _ in fetch.asked[:-1]]
    assert all(params is None for _, params in fetch.asked[1:])  # the link carries the query
    assert (iterator.pages, iterator.items, iterator.more, iterator.next_link) == (5, 5, False,
                                                                                  None)


@pytest.mark.parametrize(("link", "problem"), [
    ("", "empty"),
    ("   ", "empty"),
    ("https://evil.test/v1.0/auditLogs/signIns?$skiptoken=1", "evil.test"),
    ("http://graph.example:8443/v1.0/auditLogs/signIns?$skiptoken=1", "http://graph.example"),
    ("https://graph.example/v1.0/auditLogs/signIns?$skiptoken=1", "not to the Graph host"),
    ("https://graph.example:8443@evil.test/v1.0/x", "malformed"),
    ("/v1.0/auditLogs/signIns?$skiptoken=1", "relative"),
    (42, "int"),
])
def test_refuses_links_it_must_not_follow(link: Any, problem: str) -> None:
    fetch = Pages({FIRST: {"value": [1], "@odata.nextLink": link}})
    iterator = PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False)
    with pytest.raises(PagingError) as caught:
        items(iterator)
    assert problem in caught.value.message
    assert len(fetch.asked) == 1  # nothing was sent to the refused link


def test_host_comparison_ignores_case_and_default_port() -> None:
    fetch = Pages({
        "https://graph.microsoft.com/v1.0/x": {
            "value": [1], "@odata.nextLink": "https://GRAPH.microsoft.com:443/v1.0/x?$skiptoken=a"},
        "https://GRAPH.microsoft.com:443/v1.0/x?$skiptoken=a": {"value": [2]},
    })
    iterator = PageIterator(fetch, "https://graph.microsoft.com/v1.0/x", None,
                            base_url="https://graph.microsoft.com", objects_only=False)
    assert items(iterator) == [1, 2]


def test_repeated_link_stops_with_an_error() -> None:
    loop = f"{FIRST}?$skiptoken=1"
    fetch = Pages({FIRST: {"value": [1], "@odata.nextLink": loop},
                   loop: {"value": [2], "@odata.nextLink": loop}})
    with pytest.raises(PagingError, match="twice"):
        items(PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False))
    assert len(fetch.asked) == 2


def test_page_guard_stops_endless_distinct_links() -> None:
    class Endless:
        calls = 0

        def __call__(self, url: str, params: Any) -> dict[str, Any]:
            Endless.calls += 1
            return {"value": [1], "@odata.nextLink": f"{FIRST}?$skiptoken={Endless.calls}"}

    with pytest.raises(PagingError, match="page guard"):
        items(PageIterator(Endless(), FIRST, None, base_url=BASE, objects_only=False,
                           max_pages=25))
    assert Endless.calls == 25


def test_empty_pages_with_fresh_links_end_paging_early() -> None:
    """Issue 11 case 9: empty pages with new links went on to the 100,000-page guard."""
    class Empty:
        calls = 0

        def __call__(self, url: str, params: Any) -> dict[str, Any]:
            Empty.calls += 1
            return {"value": [], "@odata.nextLink": f"{FIRST}?$skiptoken={Empty.calls}"}

    with pytest.raises(PagingError, match="empty pages in a row"):
        items(PageIterator(Empty(), FIRST, None, base_url=BASE))
    assert Empty.calls == MAX_EMPTY_PAGES


def test_a_few_empty_pages_then_records_are_followed() -> None:
    fetch = chain([1], *[[] for _ in range(MAX_EMPTY_PAGES - 1)], [2])
    assert items(PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False)) == [1, 2]


def test_an_item_that_is_not_an_object_is_an_unexpected_response() -> None:
    fetch = chain([{"id": "a"}, 7])
    with pytest.raises(ApiError, match=r"^Graph sent an unexpected response \(item 1 "):
        items(PageIterator(fetch, FIRST, None, base_url=BASE))


def test_top_n_on_a_page_boundary_keeps_the_continuation_link() -> None:
    fetch = chain([1, 2], [3, 4], [5])
    iterator = PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False, max_items=4)
    assert items(iterator) == [1, 2, 3, 4]
    assert len(fetch.asked) == 2  # page 3 is not fetched
    assert iterator.more and iterator.next_link == fetch.pages[fetch.asked[1][0]][
        "@odata.nextLink"]


def test_top_n_inside_a_page_cuts_it_and_gives_no_inexact_link() -> None:
    fetch = chain([1, 2, 3], [4])
    iterator = PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False, max_items=2)
    pages = list(iterator)
    assert [p["value"] for p in pages] == [[1, 2]]
    assert "@odata.nextLink" not in pages[0]
    assert iterator.more and iterator.next_link is None


def test_top_n_larger_than_the_collection() -> None:
    fetch = chain([1, 2], [3])
    iterator = PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False, max_items=10)
    assert items(iterator) == [1, 2, 3]
    assert not iterator.more and iterator.next_link is None


def test_top_zero_sends_nothing() -> None:
    fetch = chain([1])
    assert items(PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False,
                              max_items=0)) == []
    assert fetch.asked == []


def test_a_page_without_value_is_an_error() -> None:
    fetch = Pages({FIRST: {"error": "x"}})
    with pytest.raises(Exception, match="'value'"):
        items(PageIterator(fetch, FIRST, None, base_url=BASE, objects_only=False))
