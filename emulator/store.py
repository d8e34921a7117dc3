"""Record stores with versions that become visible at an emulator time (late-arriving data)."""

from __future__ import annotations

import threading
from bisect import bisect_right, insort
from collections.abc import Callable
from typing import Any

Version = tuple[int | None, dict[str, Any]]  # (visible_from ticks or None, record)


class VersionedStore:
    """Materialised records by id; each id keeps its versions in the order they were put.

    The visible version of an id is the last one whose visible_from has passed. Ids are
    matched case-insensitively, as Graph matches GUID keys.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._versions: dict[str, list[Version]] = {}
        self.generation = 0
        self._future = 0  # how many versions carry a visible_from (cache must honour time)
        self._cache: tuple[int, list[dict[str, Any]]] | None = None
        self._visible_froms: list[int] = []

    def put(self, record: dict[str, Any], visible_from: int | None = None) -> None:
        with self._lock:
            self._versions.setdefault(record["id"].lower(), []).append((visible_from, record))
            if visible_from is not None:
                self._future += 1
                insort(self._visible_froms, visible_from)
            self.generation += 1

    def changes(self, now: int) -> int:
        """Grows whenever what is visible at `now` may have changed (puts, versions surfacing)."""
        with self._lock:
            return self.generation + bisect_right(self._visible_froms, now)

    def visible(self, record_id: str, now: int) -> dict[str, Any] | None:
        with self._lock:
            versions = self._versions.get(record_id.lower())
        if not versions:
            return None
        for vf, record in reversed(versions):
            if vf is None or vf <= now:
                return record
        return None

    def latest(self, record_id: str) -> Version | None:
        with self._lock:
            versions = self._versions.get(record_id.lower())
            return versions[-1] if versions else None

    def visible_all(self, now: int) -> list[dict[str, Any]]:
        with self._lock:
            if self._future == 0 and self._cache and self._cache[0] == self.generation:
                return self._cache[1]
            out = []
            for versions in self._versions.values():
                for vf, record in reversed(versions):
                    if vf is None or vf <= now:
                        out.append(record)
                        break
            if self._future == 0:
                self._cache = (self.generation, out)
            return out

    def latest_all(self) -> list[Version]:
        """Ground truth: the newest version of every id, visible yet or not."""
        with self._lock:
            return [versions[-1] for versions in self._versions.values()]

    def update_visible(self, record_id: str, now: int,
                       change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Put a changed copy of the visible version (an action's effect), visible at once."""
        with self._lock:
            current = self.visible(record_id, now)
            if current is None:
                raise KeyError(record_id)
            updated = change(dict(current))
            self.put(updated)
            return updated


class AddedSignIns:
    """Sign-ins added through the control API, kept sorted by (createdDateTime, id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.keys: list[tuple[int, str]] = []
        self.records: dict[str, Version] = {}
        self._visible_froms: list[int] = []

    def add(self, record: dict[str, Any], visible_from: int | None) -> None:
        with self._lock:
            self.records[record["id"].lower()] = (visible_from, record)
            insort(self.keys, (record["createdDateTime"], record["id"]))
            if visible_from is not None:
                insort(self._visible_froms, visible_from)

    def changes(self, now: int) -> int:
        with self._lock:
            return len(self.keys) + bisect_right(self._visible_froms, now)

    def get(self, record_id: str) -> Version | None:
        return self.records.get(record_id.lower())

    def snapshot(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self.keys)
