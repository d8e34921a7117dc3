"""Deterministic, fast pseudo-randomness: every synthetic value is a pure function of the seed.

splitmix64 finalisers give independent 64-bit values per (key, index, salt) without any state,
which is what lets a sign-in be rebuilt from its index alone. A small Feistel network turns an
index into an id and back, so a GET by id needs no index of a million records.
"""

from __future__ import annotations

import functools
import hashlib

M64 = (1 << 64) - 1
M60 = (1 << 60) - 1
M30 = (1 << 30) - 1


def mix(x: int) -> int:
    """splitmix64 finaliser of x (any int, reduced mod 2**64)."""
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def derive(*parts: object) -> int:
    """A 64-bit key from arbitrary parts (used once per key, not per record)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def h(key: int, index: int, salt: int = 0) -> int:
    """Independent 64-bit value for (key, index, salt)."""
    return mix(key ^ mix(index * 0x100000001B3 + salt))


_V4_CLEAR = ~((0xF << 76) | (0xC << 60)) & ((1 << 128) - 1)
_V4_SET = (0x4 << 76) | (0x8 << 60)


def guid128(value: int) -> str:
    """Format a 128-bit value as a lower-case version-4 style GUID."""
    s = f"{(value & _V4_CLEAR) | _V4_SET:032x}"
    return f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"


def guid(a: int, b: int) -> str:
    """Format two 64-bit values as a lower-case version-4 style GUID."""
    return guid128(((a & M64) << 64) | (b & M64))


def guid_for(key: int, index: int, salt: int = 0) -> str:
    return guid(h(key, index, salt), h(key, index, salt + 0x5151))


class BitSource:
    """512 pseudo-random bits per index from one BLAKE2b call (cheaper than many `h` calls)."""

    def __init__(self, key: int, salt: int) -> None:
        self._base = hashlib.blake2b(
            key.to_bytes(8, "little") + salt.to_bytes(4, "little"), digest_size=64
        )

    def bits(self, index: int) -> int:
        b = self._base.copy()
        b.update(index.to_bytes(8, "little"))
        return int.from_bytes(b.digest(), "little")


@functools.lru_cache(maxsize=64)
def _round_keys(key: int) -> tuple[int, int, int, int]:
    return tuple((key >> (r * 16)) & 0xFFFFFFFF for r in range(4))  # type: ignore[return-value]


def feistel(key: int, value: int) -> int:
    """A keyed bijection on 60-bit integers (4 rounds of a multiply-xorshift function)."""
    left, right = value >> 30, value & M30
    for r, k in enumerate(_round_keys(key)):
        x = ((right ^ k) * 0x9E3779B1) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 0x85EBCA6B + r) & 0xFFFFFFFF
        left, right = right, left ^ ((x ^ (x >> 13)) & M30)
    return (left << 30) | right


def feistel_inverse(key: int, value: int) -> int:
    left, right = value >> 30, value & M30
    keys = _round_keys(key)
    for r in (3, 2, 1, 0):
        x = ((left ^ keys[r]) * 0x9E3779B1) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 0x85EBCA6B + r) & 0xFFFFFFFF
        left, right = right ^ ((x ^ (x >> 13)) & M30), left
    return (left << 30) | right


def indexed_guid(key: int, index: int) -> str:
    """A GUID that encodes `index` (recoverable with `index_of_guid`)."""
    p = feistel(key, index)
    a = ((p >> 12) << 16) | (p & 0xFFF)
    return guid(a, mix(key ^ p))


def index_of_guid(key: int, value: str) -> int | None:
    """The index encoded by `indexed_guid`, or None when `value` is not one of ours."""
    text = value.replace("-", "").lower()
    if len(text) != 32:
        return None
    try:
        a = int(text[:16], 16)
    except ValueError:
        return None
    p = ((a >> 16) << 12) | (a & 0xFFF)
    index = feistel_inverse(key, p & M60)
    if indexed_guid(key, index) != value.lower():
        return None
    return index


_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def entra_secret(key: int) -> str:
    """A 40-character client secret shaped like Entra's (`xxx8Q~...`, with `~`, `.` and `_`)."""
    chars = [_ALNUM[h(key, i) % len(_ALNUM)] for i in range(3)]
    chars.append(str(h(key, 3) % 10))
    chars += ["Q", "~"]
    chars += [_SECRET_ALPHABET[h(key, i) % len(_SECRET_ALPHABET)] for i in range(6, 40)]
    # Guarantee the awkward characters appear (they break naive URL or YAML handling).
    chars[11], chars[23], chars[31] = ".", "_", "~"
    return "".join(chars)
