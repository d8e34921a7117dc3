"""Which failures are retried, and how long to wait before the next attempt.

Policy
------
Reads (GET) are retried on 429, 500, 502, 503 and 504, on connection failures and on read
timeouts: a repeated read changes nothing.

The risky-user actions ``confirmCompromised``, ``dismiss`` and ``confirmSafe`` set a final state,
so sending one twice leaves the tenant as sending it once would. They are retried on 429 and 503
(Graph refused the request and did not act on it) and on connection failures that happen before
the request left (connect timeout, refused connection, TLS or proxy failure). They are not
retried once the request may have reached Graph and no answer came back (a read timeout, a
connection reset mid-exchange): the outcome is then unknown and reported as such
(``RetriableError`` with ``code == "outcomeUnknown"``), so a playbook can re-read the user's state
instead of the client adding a second history entry blindly. 500, 502 and 504 on these actions
are reported with Graph's message, not retried. Any other POST is retried on 429 only.

Waiting
-------
A ``Retry-After`` header is obeyed exactly: integer or fractional seconds (``2.128``), an
HTTP-date (measured against the response's own ``Date`` header, so a skewed local clock does not
matter), ``120,120`` (the first value); ``0`` adds no wait; anything unreadable falls back to
backoff. Without it, the wait is exponential (``base_delay * 2**n`` capped at ``max_delay``) with
"equal jitter": a uniform draw over the upper half of each step, so that clients spread out while
each wait is still longer than the one before. Attempts are bounded by ``max_attempts`` and all
waits of one request by ``max_total_wait``; a wait that would pass that budget (say
``Retry-After: 86400``) is not slept at all: the request fails at once with ``RetriableError``.

A 429 without ``Retry-After`` from a workload whose limit is one request per slot shared by every
app on the tenant (identityProtection: 1 request/s, facts §4.3) is not a sign to back off
exponentially: other apps (SIEM connectors, other SOAR runs) take slots, and a free one comes
within seconds. Such a 429 is retried one slot later at a random point of the slot (1-1.5 s), up
to ``shared_attempts`` attempts and ``shared_wait`` seconds; when that runs out the error says
the tenant is throttled (code ``tenantThrottled``), since retrying harder would not help.

The sleep function and the clock are injected (see :class:`~commands.graph.client.GraphClient`),
so tests never sleep.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from commands.graph.transport import host_unresolvable, request_sent

SHARED_SLOTS = {"identityProtection": 1.0}
"""Workloads whose limit is one request per slot (seconds) per tenant, shared by all its apps,
and whose 429s carry no Retry-After (facts §4.3)."""
FINAL_STATE_ACTIONS = frozenset({"confirmCompromised", "dismiss", "confirmSafe"})


class RequestKind(enum.Enum):
    READ = "read"
    FINAL_STATE_ACTION = "final-state action"
    ACTION = "action"

    @classmethod
    def of(cls, method: str, path: str) -> RequestKind:
        if method.upper() in ("GET", "HEAD"):
            return cls.READ
        action = path.rstrip("/").rsplit("/", 1)[-1]
        return cls.FINAL_STATE_ACTION if action in FINAL_STATE_ACTIONS else cls.ACTION


_RETRIED_STATUSES = {
    RequestKind.READ: frozenset({429, 500, 502, 503, 504}),
    RequestKind.FINAL_STATE_ACTION: frozenset({429, 503}),
    RequestKind.ACTION: frozenset({429}),
}


def retries_status(kind: RequestKind, status: int) -> bool:
    return status in _RETRIED_STATUSES[kind]


def retries_failure(kind: RequestKind, exc: requests.RequestException) -> bool:
    """Whether a transport failure (no HTTP response) is retried for this kind of request.
    A host name that cannot be resolved is never retried: a typo does not heal in seconds."""
    if host_unresolvable(exc):
        return False
    if kind is RequestKind.READ:
        return True
    if kind is RequestKind.FINAL_STATE_ACTION:
        return not request_sent(exc)
    return False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    """Attempts per request, the first included."""
    base_delay: float = 1.0
    max_delay: float = 30.0
    """Cap of one backoff step (not of a server's Retry-After)."""
    max_total_wait: float = 120.0
    """All waits of one request together; a longer Retry-After fails at once."""
    shared_attempts: int = 40
    """Attempts per request while a shared per-slot limit answers 429 without Retry-After."""
    shared_wait: float = 60.0
    """All waits of one request on a shared per-slot limit (at 1 request/s, ~45 slots)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.shared_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_total_wait, self.shared_wait) < 0:
            raise ValueError("delays must not be negative")


def parse_retry_after(value: str | None, *, server_date: str | None = None,
                      now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    # "120,120" (a header repeated and joined) takes the first value; an HTTP-date has a comma
    # of its own ("Mon, 15 Apr ..."), so only a leading number is split off.
    first = text.split(",", 1)[0].strip()
    try:
        seconds = float(first)
    except ValueError:
        return _seconds_until(text, server_date, now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _seconds_until(http_date: str, server_date: str | None, now: datetime | None) -> float | None:
    when = _http_date(http_date)
    if when is None:
        return None
    reference = _http_date(server_date) if server_date else None
    if reference is None:
        reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def _http_date(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Backoff:
    """The waits of one logical request (its first attempt and the retries after it)."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self.failures = 0
        self.waited = 0.0
        self.given_up_because = ""
        self.shared_throttled = False
        """The last failure was a 429 of a shared per-slot limit (see :meth:`next_wait`)."""

    def next_wait(self, retry_after: float | None, shared_slot: float | None = None
                  ) -> float | None:
        """Record one failed attempt; the wait before the next one, or None to give up.

        ``shared_slot`` (seconds) says the failure was a 429 without Retry-After from a limit of
        one request per slot shared with other apps: the next attempt goes one slot later."""
        self.failures += 1
        policy = self.policy
        self.shared_throttled = shared_slot is not None and retry_after is None
        if shared_slot is not None and retry_after is None:
            return self._next_slot(shared_slot)
        if self.failures >= policy.max_attempts:
            self.given_up_because = f"still failing after {self.failures} attempts"
            return None
        if retry_after is not None:
            wait = retry_after
        else:
            step = min(policy.max_delay, policy.base_delay * 2 ** (self.failures - 1))
            wait = step / 2 + self.rng.uniform(0, step / 2)
        if self.waited + wait > policy.max_total_wait:
            self.given_up_because = (
                f"asked to wait {wait:g} s, beyond the retry budget of "
                f"{policy.max_total_wait:g} s ({self.waited:g} s already waited)")
            return None
        self.waited += wait
        return wait

    def _next_slot(self, slot: float) -> float | None:
        policy = self.policy
        wait = slot * (1 + self.rng.uniform(0, 0.5))
        if self.failures >= max(policy.max_attempts, policy.shared_attempts):
            self.given_up_because = f"still throttled after {self.failures} attempts"
            return None
        if self.waited + wait > policy.shared_wait:
            self.given_up_because = (f"still throttled after {self.failures} attempts over "
                                     f"{self.waited:.0f} s")
            return None
        self.waited += wait
        return wait
