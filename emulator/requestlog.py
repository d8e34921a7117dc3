"""The request log tests read back: what reached the emulator, never a secret or a token."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

MAX_ENTRIES = 100_000  # oldest entries are dropped past this (a long soak must not grow forever)


class RequestLog:
    def __init__(self, capacity: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)

    def since(self, seq: int = 0) -> list[dict[str, Any]]:
        """Entries with a sequence number greater than `seq` (the first entry is 1)."""
        with self._lock:
            if not self._entries:
                return []
            first = self._entries[0]["seq"]
            start = max(seq - first + 1, 0)
            return [dict(self._entries[n]) for n in range(start, len(self._entries))]

    def clear(self) -> int:
        with self._lock:
            n = len(self._entries)
            self._entries.clear()
            return n
