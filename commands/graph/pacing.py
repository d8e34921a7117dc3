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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    requests: int
    per_seconds: float


GRAPH_LIMITS: dict[str, Limit] = {
    "identityProtection": Limit(1, 1.0),
    "auditLogs": Limit(5, 10.0),
}


def workload(path: str) -> str:
    """``identityProtection`` for ``identityProtection/riskyUsers`` (a path after the version)."""
    return path.lstrip("/").split("/", 1)[0].split("?", 1)[0]


class Pacer:
    def __init__(self, *, sleep: Callable[[float], None], monotonic: Callable[[], float],
                 limits: Mapping[str, Limit] = GRAPH_LIMITS, margin: float = 0.1) -> None:
        self.sleep = sleep
        self.monotonic = monotonic
        self.limits = {name.lower(): limit for name, limit in limits.items()}
        self.margin = margin
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.waited = 0.0

    def wait(self, tenant: str, workload_name: str) -> float:
        """Sleep until one more request to this workload fits under its limit; record it."""
        key = (tenant.lower(), workload_name.lower())  # Graph's nextLinks may change the case
        limit = self.limits.get(key[1])
        if limit is None:
            return 0.0
        window = limit.per_seconds * (1 + self.margin)
        with self._lock:
            sent = self._sent.setdefault(key,
                                         deque(maxlen=limit.requests))
            slept = 0.0
            if len(sent) == limit.requests:
                pause = window - (self.monotonic() - sent[0])
                if pause > 0:
                    self.sleep(pause)
                    slept = pause
            sent.append(self.monotonic())
            self.waited += slept
            return slept
