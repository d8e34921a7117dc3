"""Client-side pacing under Graph's per-tenant service limits, so a steady job is never throttled.

Facts §4.3: identity protection (riskyUsers, riskDetections, history) allows one request per
second per tenant for all apps, and answers 429 *without* Retry-After when exceeded; identity and
access reports (``auditLogs/signIns``) allow five requests per ten seconds per app per tenant.
Each limit is kept as a sliding window, stretched by a safety margin (10 % by default), keyed by
(tenant, workload) where the workload is the first path segment after the API version, as Graph
and Dev Proxy key their throttling. A sliding window is at least as strict as a fixed window or a
token bucket with the same numbers, so whichever the service uses, paced requests stay under it.

One :class:`Pacer` can be shared by several clients of the same tenant (for example a job with
several event sources), since the identity-protection limit is shared by all apps.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: float
    per_app: bool = False
    """The limit counts each application (client id) apart; otherwise all apps of a tenant."""


GRAPH_LIMITS: dict[str, Limit] = {
    "identityProtection": Limit(1, 1.0),
    "auditLogs": Limit(5, 10.0, per_app=True),
}

Sent = tuple[str, str, str, float]
"""One request sent: tenant, workload, app ("" for a limit shared by all apps), and when."""


def workload(path: str) -> str:
    """``identityProtection`` for ``identityProtection/riskyUsers`` (a path after the version)."""
    return path.lstrip("/").split("/", 1)[0].split("?", 1)[0]


class _Slot:
    """One request's place in its window: when it counts (moved later once it is answered)."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


class Pacer:
    """Thread-safe: a request reserves its slot under the lock and sleeps outside it, so
    threads of other tenants and workloads (or of the same one, in turn) never wait on a sleep
    that is not theirs.

    A slot counts from the request's answer once there is one (:meth:`answered`): Graph counts
    a request when it arrives, somewhere between sending and the answer, and arrivals are
    jittered (a busy server, the network). Two requests sent 1.1 s apart arrived 0.72 s apart
    at a loaded emulator, and the second was throttled. A request queued behind one whose
    answer came late looks again after its sleep and waits the difference."""

    def __init__(self, *, sleep: Callable[[float], None], monotonic: Callable[[], float],
                 limits: Mapping[str, Limit] = GRAPH_LIMITS, margin: float = 0.1) -> None:
        self.sleep = sleep
        self.monotonic = monotonic
        self.limits = {name.lower(): limit for name, limit in limits.items()}
        self.margin = margin
        self._sent: dict[tuple[str, str, str], list[_Slot]] = {}
        """Per key, the slots that can still hold a request back, in time order."""
        self._lock = threading.Lock()
        self._mine = threading.local()  # the slot of this thread's last request
        self.waited = 0.0

    def _key(self, tenant: str, workload_name: str, app: str) -> tuple[str, str, str] | None:
        name = workload_name.lower()  # Graph's nextLinks may change the case
        limit = self.limits.get(name)
        if limit is None:
            return None
        return tenant.lower(), name, app.lower() if limit.per_app else ""

    def _window(self, limit: Limit) -> float:
        return limit.per_seconds * (1 + self.margin)

    def _earliest(self, slots: list[_Slot], before: int, limit: Limit) -> float | None:
        """When a request may count after the first ``before`` slots (None: at once)."""
        if before < limit.requests:
            return None
        return slots[before - limit.requests].at + self._window(limit)

    def wait(self, tenant: str, workload_name: str, app: str = "") -> float:
        """Sleep until one more request to this workload fits under its limit; record it."""
        key = self._key(tenant, workload_name, app)
        if key is None:
            return 0.0
        limit = self.limits[key[1]]
        window = self._window(limit)
        with self._lock:
            slots = self._sent.setdefault(key, [])
            now = self.monotonic()
            while slots and slots[0].at <= now - window and len(slots) > limit.requests:
                slots.pop(0)  # too old to hold anything back
            earliest = self._earliest(slots, len(slots), limit)
            slot = _Slot(now if earliest is None else max(now, earliest))
            slots.append(slot)  # the slot is taken now; later requests queue behind it
        self._mine.slot = slot
        waited = 0.0
        while True:
            pause = slot.at - now
            if pause > 0:
                self.sleep(pause)
                waited += pause
            with self._lock:
                now = self.monotonic()
                slots.sort(key=lambda s: s.at)
                if slot not in slots:  # dropped as too old while this thread was held up
                    self.waited += waited
                    return waited
                earliest = self._earliest(slots, slots.index(slot), limit)
                if earliest is None or earliest <= slot.at:
                    self.waited += waited
                    return waited
                slot.at = earliest  # one ahead was answered late: wait the difference

    def answered(self) -> None:
        """The calling thread's request (its last :meth:`wait`) has its answer: its slot now
        counts from this moment."""
        slot = getattr(self._mine, "slot", None)
        if slot is None:
            return
        self._mine.slot = None
        with self._lock:
            slot.at = max(slot.at, self.monotonic())

    def recent(self, wall_now: float) -> list[Sent]:
        """The requests still inside their limit's window, on the wall clock (to persist)."""
        now = self.monotonic()
        with self._lock:
            return [(*key, wall_now - (now - slot.at)) for key, slots in self._sent.items()
                    for slot in slots if now - slot.at < self._window(self.limits[key[1]])]

    def remember(self, sent: Iterable[Sequence[Any]], wall_now: float) -> None:
        """Take requests sent by an earlier run (``recent``), so the next one waits for them.

        Connections of one tenant share a pacer and each saved its requests: a request already
        known (the same key, within a millisecond) is not counted twice."""
        now = self.monotonic()
        incoming: dict[tuple[str, str, str], list[float]] = {}
        for tenant, name, app, wall in sent:
            key = self._key(str(tenant), str(name), str(app))
            if key is not None:
                incoming.setdefault(key, []).append(now - (wall_now - float(wall)))
        with self._lock:
            for key, times in incoming.items():
                slots = self._sent.setdefault(key, [])
                have = Counter(round(slot.at * 1000) for slot in slots)
                for at in times:
                    if have[round(at * 1000)] > 0:
                        have[round(at * 1000)] -= 1
                        continue
                    slots.append(_Slot(at))
                slots.sort(key=lambda s: s.at)
