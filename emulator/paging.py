"""Paging: opaque, tamper-evident `$skiptoken`s and page collection.

A token is MAC'd together with the query it belongs to. Keyset tokens hold the sort key
(value, id) of the last record a page covered: the next page starts strictly after it, so
records added or changed meanwhile never make a client skip or repeat one. Offset tokens (the
default `paging` behaviour, as Graph's tokens behave) hold how many matching records were
served: records inserted before that position make the next page repeat some, as Graph's do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

Key = tuple[Any, str]
Item = tuple[Key, Callable[[], dict[str, Any] | None]]

MAC_BYTES = 12


class SkipTokenError(ValueError):
    pass


class SkipTokenCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, binding: str, payload: bytes) -> bytes:
        digest = hmac.new(self._secret, binding.encode() + b"\x00" + payload, hashlib.sha256)
        return digest.digest()[:MAC_BYTES]

    def encode_state(self, binding: str, state: list[Any]) -> str:
        payload = json.dumps(state, separators=(",", ":")).encode()
        raw = payload + self._mac(binding, payload)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode_state(self, token: str, binding: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise SkipTokenError("not base64url") from None
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(binding, payload)):
            raise SkipTokenError("token does not belong to this query")
        state = json.loads(payload)
        if not isinstance(state, list) or not state or state[0] not in ("k", "o"):
            raise SkipTokenError("not a paging state")
        return state


def collect(
    items: Iterator[Item],
    predicate: Callable[[dict[str, Any]], bool],
    top: int,
    budget: int,
) -> tuple[list[dict[str, Any]], Key | None]:
    """Up to `top` matching records and the key to continue after (None at the end).

    Scanning stops after `budget` records once the page is not yet full: the page is then short
    (possibly empty) but still carries a nextLink, as Graph's own paging may.
    """
    page: list[dict[str, Any]] = []
    last: Key | None = None
    for scanned, (key, load) in enumerate(items, start=1):
        record = load()
        if record is not None and predicate(record):
            if len(page) == top:
                return page, last
            page.append(record)
        last = key
        if scanned >= budget and len(page) < top:
            return page, last
    return page, None


def skip_matches(items: Iterator[Item], predicate: Callable[[dict[str, Any]], bool],
                 count: int) -> Iterator[Item]:
    """`items` after its first `count` matching records (offset paging's position)."""
    items = iter(items)
    if count <= 0:
        return items
    seen = 0
    for _key, load in items:
        record = load()
        if record is not None and predicate(record):
            seen += 1
            if seen == count:
                break
    return items


def sort_key(record: dict[str, Any], field: str | None) -> Key:
    value = record.get(field) if field else 0
    return (value if value is not None else -1), record["id"]


def _given(record: dict[str, Any]) -> dict[str, Any]:
    """A materialised record, served as the lazy builder of an Item."""
    return record


class SortedView:
    """A snapshot of materialised records in key order, addressable by keyset position."""

    def __init__(self, records: list[dict[str, Any]], field: str | None) -> None:
        pairs = sorted(((sort_key(r, field), r) for r in records), key=lambda p: p[0])
        self.keys = [k for k, _ in pairs]
        self.records = [r for _, r in pairs]

    def iterate(self, descending: bool, after: Key | None) -> Iterator[Item]:
        keys, records = self.keys, self.records
        if descending:
            end = bisect_left(keys, after) if after is not None else len(keys)
            for n in range(end - 1, -1, -1):
                yield keys[n], partial(_given, records[n])
        else:
            start = bisect_right(keys, after) if after is not None else 0
            for n in range(start, len(keys)):
                yield keys[n], partial(_given, records[n])
