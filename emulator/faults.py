"""Dev Proxy-style chaos: seeded random errors, latency, dropped connections, Retry-After
windows that punish early retries (RetryAfterPlugin), and Graph's per-tenant rate limits.

Every decision is a function of (seed, n) where n counts the requests the faults apply to, so a
run is reproducible from its seed. All windows use the emulator clock.
"""

from __future__ import annotations

import math
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator import seeds, timefmt

METHOD_STATUSES = {
    "GET": (429, 500, 502, 503, 504),
    "POST": (429, 500, 502, 503, 504, 507),
    "PUT": (429, 500, 502, 503, 504, 507),
    "PATCH": (429, 500, 502, 503, 504),
    "DELETE": (429, 500, 502, 503, 504, 507),
}
ALL_STATUSES = frozenset(s for statuses in METHOD_STATUSES.values() for s in statuses)
DEFAULT_RETRY_AFTER = 5.0
DEFAULT_TRICKLE_MS = 200
TRICKLE_PARTS = ("headers", "body")
# Graph's documented service limits (throttling-limits page).
IDENTITY_PROTECTION_LIMIT = (1, 1.0)  # 1 request per 1 s, per tenant, all apps
SIGN_IN_LIMIT = (5, 10.0)  # 5 requests per 10 s, per app per tenant


class FaultConfigError(ValueError):
    pass


@dataclass(frozen=True)
class FaultConfig:
    rate: float = 0.0
    statuses: tuple[int, ...] | None = None
    retry_after: float | str | None = DEFAULT_RETRY_AFTER
    latency_ms: tuple[int, int] | None = None
    drop_rate: float = 0.0
    seed: int = 0
    path: str | None = None
    max_faults: int | None = None
    after_handler: bool = False
    token_throttle: bool = False  # the token endpoint answers 429, Retry-After: 60
    trickle: str | None = None  # "headers" or "body": sent one byte at a time
    trickle_ms: int = DEFAULT_TRICKLE_MS

    @property
    def active(self) -> bool:
        return (self.rate > 0 or self.drop_rate > 0 or self.latency_ms is not None
                or self.trickle is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "statuses": list(self.statuses) if self.statuses is not None else None,
            "retry_after": self.retry_after,
            "latency_ms": list(self.latency_ms) if self.latency_ms else None,
            "drop_rate": self.drop_rate,
            "seed": self.seed,
            "path": self.path,
            "max_faults": self.max_faults,
            "after_handler": self.after_handler,
            "token_throttle": self.token_throttle,
            "trickle": self.trickle,
            "trickle_ms": self.trickle_ms,
        }


def _fraction(body: dict[str, Any], name: str) -> float:
    value = body.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise FaultConfigError(f"'{name}' must be a number between 0 and 1")
    return float(value)


def parse_config(body: dict[str, Any]) -> FaultConfig:
    """Validate a `POST /_emulator/faults` body (without its `rate_limits` key)."""
    known = {"rate", "statuses", "retry_after", "latency_ms", "drop_rate", "seed", "path",
             "max_faults", "after_handler", "rate_limits", "token_throttle", "trickle",
             "trickle_ms"}
    unknown = set(body) - known
    if unknown:
        raise FaultConfigError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    statuses = body.get("statuses")
    if statuses is not None:
        if not isinstance(statuses, list) or not statuses or not all(
            isinstance(s, int) and s in ALL_STATUSES for s in statuses
        ):
            raise FaultConfigError(f"'statuses' must be a non-empty list drawn from "
                                   f"{sorted(ALL_STATUSES)}")
        statuses = tuple(statuses)
    retry_after: float | str | None = DEFAULT_RETRY_AFTER
    if "retry_after" in body:
        value = body["retry_after"]
        if value is None:
            retry_after = None
        elif isinstance(value, str) and re.fullmatch(r"date(:\d+(\.\d+)?)?", value):
            retry_after = value
        elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            retry_after = float(value)
        else:
            raise FaultConfigError("'retry_after' must be seconds (>= 0), \"date\", "
                                   "\"date:SECONDS\" or null")
    latency = body.get("latency_ms")
    if latency is not None:
        if (not isinstance(latency, list) or len(latency) != 2
                or not all(isinstance(x, int) and x >= 0 for x in latency)
                or latency[0] > latency[1]):
            raise FaultConfigError("'latency_ms' must be [MIN, MAX] milliseconds")
        latency = (latency[0], latency[1])
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise FaultConfigError("'seed' must be an integer")
    path = body.get("path")
    if path is not None:
        if not isinstance(path, str):
            raise FaultConfigError("'path' must be a regular expression")
        try:
            re.compile(path)
        except re.error as exc:
            raise FaultConfigError(f"'path' is not a valid regular expression: {exc}") from None
    max_faults = body.get("max_faults")
    if max_faults is not None and (not isinstance(max_faults, int) or max_faults < 0):
        raise FaultConfigError("'max_faults' must be a non-negative integer")
    after = body.get("after_handler", False)
    if not isinstance(after, bool):
        raise FaultConfigError("'after_handler' must be true or false")
    token_throttle = body.get("token_throttle", False)
    if not isinstance(token_throttle, bool):
        raise FaultConfigError("'token_throttle' must be true or false")
    trickle = body.get("trickle")
    if trickle is not None and trickle not in TRICKLE_PARTS:
        raise FaultConfigError("'trickle' must be \"headers\", \"body\" or null")
    trickle_ms = body.get("trickle_ms", DEFAULT_TRICKLE_MS)
    if (not isinstance(trickle_ms, int) or isinstance(trickle_ms, bool)
            or not 1 <= trickle_ms <= 60_000):
        raise FaultConfigError("'trickle_ms' must be whole milliseconds from 1 to 60000")
    return FaultConfig(
        rate=_fraction(body, "rate"),
        statuses=statuses,
        retry_after=retry_after,
        latency_ms=latency,
        drop_rate=_fraction(body, "drop_rate"),
        seed=seed,
        path=path,
        max_faults=max_faults,
        after_handler=after,
        token_throttle=token_throttle,
        trickle=trickle,
        trickle_ms=trickle_ms,
    )


@dataclass
class Decision:
    """What the fault layer does to one request."""

    latency_s: float = 0.0
    drop: bool = False
    status: int | None = None
    retry_after: str | None = None  # header value
    early_retry: bool = False
    kind: str | None = None  # "random", "drop", "early_retry", "rate_limit"
    trickle: tuple[str, float] | None = None  # (part, seconds between bytes)


@dataclass
class _Window:
    start: int
    count: int = 0


@dataclass
class FaultEngine:
    config: FaultConfig = field(default_factory=FaultConfig)
    rate_limits: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._n = 0
        self._injected = 0
        self._throttled: dict[tuple[str, ...], tuple[int, int]] = {}  # key -> (reset, period)
        self._windows: dict[tuple[str, ...], _Window] = {}
        self._pattern = re.compile(self.config.path) if self.config.path else None

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._pattern = re.compile(config.path) if config.path else None
            self._n = 0
            self._injected = 0
            self._throttled.clear()

    def set_rate_limits(self, enabled: bool) -> None:
        with self._lock:
            self.rate_limits = enabled
            self._windows.clear()

    def applies(self, target: str, is_graph: bool) -> bool:
        """Graph paths by default; a `path` regex (matched on path?query) chooses instead."""
        if target.startswith("/_emulator"):
            return False
        pattern = self._pattern
        if pattern is not None:
            return pattern.search(target) is not None
        return is_graph

    def before(self, method: str, target: str, is_graph: bool, workload: tuple[str, ...],
               no_retry_after: bool, now: int) -> Decision:
        """Decide latency, drop, early-retry 429 and random errors for one request.

        `workload` is (tenant, app, third URL segment): Dev Proxy's throttle key, per app.
        """
        decision = Decision()
        applies = self.applies(target, is_graph)
        if not (applies or (is_graph and not target.startswith("/_emulator"))):
            return decision
        with self._lock:
            cfg = self.config
            reset = self._throttled.get(workload)
            if reset is not None and now < reset[0]:
                # RetryAfterPlugin: too early; throttle again and extend the window.
                period = reset[1]
                self._throttled[workload] = (now + period, period)
                decision.status = 429
                decision.early_retry = True
                decision.kind = "early_retry"
                decision.retry_after = _seconds_header(period)
                return decision
            if not cfg.active or not applies:
                return decision
            n = self._n
            self._n += 1
            budget_left = cfg.max_faults is None or self._injected < cfg.max_faults
        rng = random.Random(seeds.mix(seeds.derive("faults", cfg.seed) ^ n))
        u_drop, u_fault, u_status, u_latency = (rng.random() for _ in range(4))
        if cfg.latency_ms is not None:
            low, high = cfg.latency_ms
            decision.latency_s = (low + int(u_latency * max(high - low, 0))) / 1000
        if cfg.trickle is not None:
            decision.trickle = (cfg.trickle, cfg.trickle_ms / 1000)
        if not budget_left:
            return decision
        if u_drop < cfg.drop_rate:
            decision.drop = True
            decision.kind = "drop"
        elif u_fault < cfg.rate:
            allowed = METHOD_STATUSES.get(method.upper(), METHOD_STATUSES["GET"])
            if cfg.statuses is not None:
                allowed = tuple(s for s in allowed if s in cfg.statuses)
            if not allowed:
                return decision
            decision.status = allowed[int(u_status * len(allowed))]
            decision.kind = "random"
            if decision.status in (429, 503) and not (decision.status == 429 and no_retry_after):
                decision.retry_after = self._retry_after_value(cfg, now)
        else:
            return decision
        with self._lock:
            self._injected += 1
            if decision.retry_after is not None:
                period = _period_ticks(cfg.retry_after, now)
                self._throttled[workload] = (now + period, period)
        return decision

    @staticmethod
    def _retry_after_value(cfg: FaultConfig, now: int) -> str | None:
        value = cfg.retry_after
        if value is None:
            return None
        if isinstance(value, str):
            return timefmt.format_http_date(now + _period_ticks(value, now))
        return _seconds_header(round(value * timefmt.TICKS_PER_SECOND))

    def rate_limit(self, service: str, tenant: str, app: str, now: int,
                   background_rps: float = 0.0) -> Decision | None:
        """Graph's service limits; None when the request is within them.

        `background_rps`: other apps' identityProtection requests per second on this tenant
        (the limit is per tenant for all apps). Each second's single slot is theirs with that
        probability (always from 1 up), and the limit then holds even with `rate_limits` off.
        """
        shared = service == "identityProtection" and background_rps > 0
        if shared:
            second = now // timefmt.TICKS_PER_SECOND
            draw = seeds.mix(seeds.derive("background", tenant) ^ second) / 2.0**64
            if draw < background_rps:
                return Decision(status=429, kind="background_load")
        if not (self.rate_limits or shared):
            return None
        if service == "identityProtection":
            limit, seconds = IDENTITY_PROTECTION_LIMIT
            key: tuple[str, ...] = (service, tenant)
        elif service == "auditLogs":
            limit, seconds = SIGN_IN_LIMIT
            key = (service, tenant, app)
        else:
            return None
        length = round(seconds * timefmt.TICKS_PER_SECOND)
        with self._lock:
            window = self._windows.get(key)
            if window is None or now >= window.start + length:
                window = _Window(start=now)
                self._windows[key] = window
            if window.count < limit:
                window.count += 1
                return None
            left = window.start + length - now
            decision = Decision(status=429, kind="rate_limit")
            if service != "identityProtection":
                whole = math.ceil(left / timefmt.TICKS_PER_SECOND)
                decision.retry_after = str(whole)
                self._throttled[(tenant, app, service.lower())] = (now + left, left)
            return decision


def _seconds_header(ticks: int) -> str:
    seconds = ticks / timefmt.TICKS_PER_SECOND
    if seconds == int(seconds):
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _period_ticks(value: float | str | None, now: int) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        seconds = float(value.split(":", 1)[1]) if ":" in value else DEFAULT_RETRY_AFTER
        # An HTTP-date has whole seconds: the window ends at the next whole second after.
        end = now + round(seconds * timefmt.TICKS_PER_SECOND)
        end = -(-end // timefmt.TICKS_PER_SECOND) * timefmt.TICKS_PER_SECOND
        return end - now
    return round(value * timefmt.TICKS_PER_SECOND)
