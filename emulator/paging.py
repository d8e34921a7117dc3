"""Keyset paging: opaque, tamper-evident `$skiptoken`s and page collection.

A token holds the sort key (value, id) of the last record a page covered, MAC'd together with
the query it belongs to. The next page starts strictly after that key, so records added or
changed while a client pages never make it skip or repeat a record that did not change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
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

    def encode(self, binding: str, key: Key) -> str:
        payload = json.dumps([key[0], key[1]], separators=(",", ":")).encode()
        raw = payload + self._mac(binding, payload)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, token: str, binding: str) -> Key:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise SkipTokenError("not base64url") from None
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(binding, payload)):
            raise SkipTokenError("token does not belong to this query")
        value, record_id = json.loads(payload)
        return value, record_id


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


def sort_key(record: dict[str, Any], field: str | None) -> Key:
    value = record.get(field) if field else 0
    return (value if value is not None else -1), record["id"]


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
                yield keys[n], (lambda r=records[n]: r)
        else:
            start = bisect_right(keys, after) if after is not None else 0
            for n in range(start, len(keys)):
                yield keys[n], (lambda r=records[n]: r)
