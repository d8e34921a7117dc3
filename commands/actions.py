"""The bulk actions (risky users and risky service principals): one handler, declared per command.

A manifest entry with ``handler: action`` names its resource and ``action: {name, ids_input,
body_field}``; the handler posts ``{body_field: [ids]}`` to ``{resource path}/{name}``.

IDs go in batches of at most 60 (the documented limit for dismiss, used for all). Graph rejects a
whole batch with 404 when any of its ids is unknown; such a batch is split in halves until each
unknown id stands alone, so every id gets its own outcome. Repeating these actions is harmless
(each sets a final state), which is what makes the split safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commands import registry
from commands.listing import command_resource, require_available
from commands.paths import guid_segment
from executor.errors import ApiError, ManifestError
from executor.model import ActionSpec
from executor.plugin import CommandContext
from executor.result import CommandOutput, ErrorEntry, Status

BATCH_SIZE = 60


@dataclass
class Outcome:
    item_id: str
    succeeded: bool
    status_code: int | None
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.item_id, "outcome": "succeeded" if self.succeeded else "failed",
                "status_code": self.status_code, "message": self.message}


def batches(ids: Sequence[str], size: int = BATCH_SIZE) -> list[list[str]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


@dataclass
class _Poster:
    client: Any
    url: str
    body_field: str
    permissions: Sequence[str]
    sent: list[dict[str, Any]]

    def send(self, ids: list[str]) -> list[Outcome]:
        try:
            status = self.client.post_action(self.url, {self.body_field: ids},
                                             permissions=self.permissions)
        except ApiError as exc:
            self.sent.append({self.body_field: ids, "status": exc.status_code})
            if exc.status_code == 404 and len(ids) > 1:
                middle = len(ids) // 2
                return self.send(ids[:middle]) + self.send(ids[middle:])
            return [Outcome(i, False, exc.status_code, exc.message) for i in ids]
        self.sent.append({self.body_field: ids, "status": status})
        return [Outcome(i, True, status, None) for i in ids]


def _action(context: CommandContext) -> ActionSpec:
    if context.command.action is None:
        raise ManifestError("integration.yaml", f"command {context.command.id}",
                            "names no action")
    return context.command.action


@registry.handler("action")
def run(client: Any, inputs: dict[str, Any], context: CommandContext) -> CommandOutput:
    action = _action(context)
    resource = command_resource(context, inputs)
    require_available(context, resource)
    ids = list(dict.fromkeys(guid_segment(i) for i in inputs[action.ids_input]))
    poster = _Poster(client, f"{resource.path}/{action.name}", action.body_field,
                     context.command.permissions.for_inputs(inputs), [])
    outcomes = [o for batch in batches(ids) for o in poster.send(batch)]
    failed = [o for o in outcomes if not o.succeeded]
    succeeded = [o.item_id for o in outcomes if o.succeeded]
    status = (Status.SUCCESSFUL if not failed else
              Status.PARTIALLY_SUCCESSFUL if succeeded else Status.FAILED)
    id_label = context.command.input_named(action.ids_input)
    return CommandOutput(
        return_data=status.value,
        raw_data={"requests": poster.sent},
        key_fields={"succeeded": succeeded, "failed": [o.item_id for o in failed],
                    "succeeded_count": len(succeeded), "failed_count": len(failed)},
        context_data={"results": [o.to_dict() for o in outcomes]},
        errors=_errors(context.command.failure_indicator, failed,
                       id_label.display_name if id_label else action.ids_input),
        partial=bool(failed and succeeded))


def _errors(indicator: str, failed: list[Outcome], label: str) -> list[ErrorEntry]:
    """One error per distinct failure (status + message), naming the ids it concerns."""
    grouped: dict[tuple[int | None, str | None], list[str]] = {}
    for outcome in failed:
        grouped.setdefault((outcome.status_code, outcome.message), []).append(outcome.item_id)
    return [ErrorEntry(indicator, status, f"{message} ({label}: {', '.join(ids)})")
            for (status, message), ids in grouped.items()]
