"""Confirm Compromised, Dismiss Risky User and Confirm Safe: one action on many risky users.

IDs go in batches of at most 60 (the documented limit for dismiss; used for all three). Graph
rejects a whole batch with 404 when any of its ids is not a risky user; such a batch is split in
halves until each unknown id stands alone, so every id gets its own outcome. Repeating these
actions is harmless (each sets a final state), which is what makes the split safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commands.listing import require_identity_protection
from commands.paths import RISKY_USERS, guid_segment
from executor.errors import ApiError
from executor.result import CommandOutput, ErrorEntry

BATCH_SIZE = 60


@dataclass
class Outcome:
    user_id: str
    succeeded: bool
    status_code: int | None
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "outcome": "succeeded" if self.succeeded else "failed",
                "status_code": self.status_code, "message": self.message}


def batches(ids: Sequence[str], size: int = BATCH_SIZE) -> list[list[str]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


def _send(client: Any, action: str, ids: list[str], permissions: Sequence[str],
          sent: list[dict[str, Any]]) -> list[Outcome]:
    try:
        status = client.post_action(f"{RISKY_USERS}/{action}", {"userIds": ids},
                                    permissions=permissions)
    except ApiError as exc:
        sent.append({"userIds": ids, "status": exc.status_code})
        if exc.status_code == 404 and len(ids) > 1:
            middle = len(ids) // 2
            return (_send(client, action, ids[:middle], permissions, sent)
                    + _send(client, action, ids[middle:], permissions, sent))
        return [Outcome(i, False, exc.status_code, exc.message) for i in ids]
    sent.append({"userIds": ids, "status": status})
    return [Outcome(i, True, status, None) for i in ids]


def run_action(client: Any, inputs: dict[str, Any], context: Any, action: str) -> CommandOutput:
    require_identity_protection(context)
    ids = [guid_segment(i) for i in inputs["user_ids"]]
    ids = list(dict.fromkeys(ids))
    permissions = context.command.permissions.for_inputs(inputs)
    sent: list[dict[str, Any]] = []
    outcomes: list[Outcome] = []
    for batch in batches(ids):
        outcomes.extend(_send(client, action, batch, permissions, sent))
    failed = [o for o in outcomes if not o.succeeded]
    errors = _errors(context.command.failure_indicator, failed)
    succeeded = [o.user_id for o in outcomes if o.succeeded]
    return CommandOutput(
        return_data="Successful" if not failed else
        ("Partially Successful" if succeeded else "Failed"),
        raw_data={"requests": sent},
        key_fields={"succeeded": succeeded, "failed": [o.user_id for o in failed]},
        context_data={"results": [o.to_dict() for o in outcomes]},
        errors=errors, partial=bool(failed and succeeded))


def _errors(indicator: str, failed: list[Outcome]) -> list[ErrorEntry]:
    """One error per distinct failure (status + message), naming the ids it concerns."""
    grouped: dict[tuple[int | None, str | None], list[str]] = {}
    for outcome in failed:
        grouped.setdefault((outcome.status_code, outcome.message), []).append(outcome.user_id)
    return [ErrorEntry(indicator, status, f"{message} (User IDs: {', '.join(ids)})")
            for (status, message), ids in grouped.items()]
