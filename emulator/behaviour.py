"""Behaviour switches (`GET/POST /_emulator/behaviour`): documented versus observed Graph.

The defaults are what Microsoft documents (or, where it documents nothing, what live tenants
show); each other value is a way Graph has been seen to behave, or a tenant condition
(licence, other apps' load), so tests can prove the client against each.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

CHOICES: dict[str, tuple[str, ...]] = {
    "paging": ("offset", "keyset"),
    "signin_time_precision": ("seconds", "ticks"),
    "string_compare": ("insensitive", "sensitive"),
    "unknown_ids": ("404", "400", "204"),
    "licence": ("P2", "P1", "free"),
    "filters": ("documented", "lenient"),
    # identityProtection's 403 for missing roles; the directory-style code is what the
    # emulator answered before issue 10 (kept only for clients not yet adapted).
    "forbidden_code": ("Forbidden", "Authorization_RequestDenied"),
}
NUMBERS = {"action_delay_seconds": 86_400.0, "identity_protection_background_rps": 1_000.0}


class BehaviourError(ValueError):
    """A behaviour body the emulator cannot apply (400 with this message)."""


@dataclass(frozen=True)
class Behaviour:
    paging: str = "offset"
    signin_time_precision: str = "seconds"
    string_compare: str = "insensitive"
    unknown_ids: str = "404"
    action_delay_seconds: float = 0.0
    licence: str = "P2"
    identity_protection_background_rps: float = 0.0
    filters: str = "documented"
    forbidden_code: str = "Forbidden"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, body: Any) -> Behaviour:
        """A copy with the switches in `body` changed; unknown names or values are refused."""
        if not isinstance(body, dict):
            raise BehaviourError("expected a JSON object of behaviour switches")
        changes: dict[str, Any] = {}
        for name, value in body.items():
            if name in CHOICES:
                text = str(value) if isinstance(value, int | str) and not isinstance(
                    value, bool) else None
                if text not in CHOICES[name]:
                    raise BehaviourError(f"'{name}' must be one of "
                                         f"{', '.join(CHOICES[name])}, not {value!r}")
                changes[name] = text
            elif name in NUMBERS:
                if isinstance(value, bool) or not isinstance(value, int | float) or not (
                        math.isfinite(value) and 0 <= value <= NUMBERS[name]):
                    raise BehaviourError(f"'{name}' must be a number from 0 to "
                                         f"{NUMBERS[name]:g}, not {value!r}")
                changes[name] = float(value)
            else:
                known = ", ".join([*CHOICES, *NUMBERS])
                raise BehaviourError(f"unknown behaviour '{name}'; known: {known}")
        return replace(self, **changes)
