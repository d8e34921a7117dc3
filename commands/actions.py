"""The bulk actions (risky users and risky service principals): one handler, declared per command.

A manifest entry with ``handler: action`` names its resource and ``action: {name, ids_input,
body_field}``; the handler posts ``{body_field: [ids]}`` to ``{resource path}/{name}``.

IDs go in batches of at most 60 (the documented limit for dismiss, used for all). What Graph
answers for a batch naming an unknown id is not documented: the vendor's reference shows 404 "User
IDs Not Found.", a 400 is as plausible, and so is a 204 that ignores the unknown ids. So:

- a 204 means Graph accepted the batch, not that each id exists: every id is reported
  ``succeeded`` with ``verified: false`` (the optional read-back reads the state and verifies);
- a 404 or 400 on a batch is answered with one filtered read of the batch's ids
  (``id eq 'a' or id eq 'b' ...``, ``$select=id``): the ids it does not return are unknown and
  fail with Graph's message; the rest are posted again as one batch. A batch costs at most three
  requests, so n ids of which k are unknown cost at most ceil(n/60) + 2k requests (never the
  halving search of old, which cost 2k log n). When the read is refused, the batch falls back to
  that halving search.

With Read Back Seconds, the state of the accepted ids is read after the action (one filtered read
per 60 ids, ``$select=id,riskState,isProcessing``), again every few seconds while Graph still
processes it (``isProcessing``, or the old ``riskState``), up to that many seconds: an id found
in the state the action sets is ``verified``; one Graph does not hold fails (a 204 that ignored
it); one still pending is reported with the state it shows.

Repeating these actions is harmless (each sets a final state), which is what makes the retry of
a batch safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from commands import registry
from commands.graph import COMMAND_TIMEOUT
from commands.listing import command_resource, require_available
from commands.paths import guid_segment
from executor.errors import ApiError, ManifestError, RetriableError
from executor.model import ActionSpec
from executor.plugin import CommandContext
from executor.result import CommandOutput, ErrorEntry, Status

BATCH_SIZE = 60


ACCEPTED = "accepted (HTTP {status}), not verified"
"""A 2xx for a batch: Graph does not document whether it covers ids it does not hold."""
SETS_STATE = {"confirmCompromised": "confirmedCompromised", "dismiss": "dismissed",
              "confirmSafe": "confirmedSafe"}
"""The riskState each action leaves (graph-api-facts §1.3)."""
READ_BACK_STEP = 5.0


@dataclass
class Outcome:
    item_id: str
    succeeded: bool
    status_code: int | None
    message: str | None
    verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.item_id, "outcome": "succeeded" if self.succeeded else "failed",
                "status_code": self.status_code, "message": self.message,
                "verified": self.verified}


def batches(ids: Sequence[str], size: int = BATCH_SIZE) -> list[list[str]]:
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]


def id_filter(ids: Sequence[str]) -> str:
    """``id eq 'a' or id eq 'b' ...``: ``eq`` and ``or`` are what identityProtection's list pages
    show; ``in`` is not documented."""
    return " or ".join(f"id eq '{i}'" for i in ids)


def accepted(ids: Sequence[str], status: int) -> list[Outcome]:
    return [Outcome(i, True, status, ACCEPTED.format(status=status)) for i in ids]


@dataclass
class _Poster:
    client: Any
    collection: str
    action: str
    body_field: str
    permissions: Sequence[str]
    sent: list[dict[str, Any]]

    def send(self, ids: list[str]) -> list[Outcome]:
        """Post one batch; on 404/400 find its unknown ids with one read and post the rest."""
        error = self._post(ids)
        if isinstance(error, int):
            return accepted(ids, error)
        if error.status_code not in (400, 404):
            return [Outcome(i, False, error.status_code, error.message) for i in ids]
        known = self.existing(ids)
        if known is None:  # the read was refused: the halving search of old
            return self._halve(ids, error)
        unknown = [i for i in ids if i not in known]
        if not unknown:  # the refusal was not about the ids: report it for all
            return [Outcome(i, False, error.status_code, error.message) for i in ids]
        failed = {i: Outcome(i, False, error.status_code, error.message) for i in unknown}
        rest = [i for i in ids if i in known]
        if rest:
            again = self._post(rest)
            done = (accepted(rest, again) if isinstance(again, int) else
                    [Outcome(i, False, again.status_code, again.message) for i in rest])
            failed.update({o.item_id: o for o in done})
        return [failed[i] for i in ids]

    def existing(self, ids: Sequence[str]) -> set[str] | None:
        """Which of these ids the collection holds (one filtered read), or None if refused."""
        found: set[str] = set()
        query = {"$filter": id_filter(ids), "$select": "id", "$top": len(ids)}
        try:
            for page in self.client.iter_pages(self.collection, query,
                                               permissions=self.permissions):
                found.update(str(item.get("id", "")).lower() for item in page["value"])
        except ApiError as exc:
            self.sent.append({"method": "GET", self.body_field: list(ids),
                              "status": exc.status_code})
            if exc.status_code == 400:
                return None
            raise
        self.sent.append({"method": "GET", self.body_field: list(ids), "status": 200})
        return found

    def states(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The current records of these ids (those Graph holds), by id."""
        found: dict[str, dict[str, Any]] = {}
        for batch in batches(ids):
            query = {"$filter": id_filter(batch), "$select": "id,riskState,isProcessing",
                     "$top": len(batch)}
            for page in self.client.iter_pages(self.collection, query,
                                               permissions=self.permissions):
                found.update((str(item.get("id", "")).lower(), item) for item in page["value"])
            self.sent.append({"method": "GET", self.body_field: list(batch), "status": 200})
        return found

    def _post(self, ids: list[str]) -> int | ApiError:
        """Graph's 2xx status, or its refusal."""
        try:
            status = self.client.post_action(f"{self.collection}/{self.action}",
                                             {self.body_field: ids},
                                             permissions=self.permissions)
        except ApiError as exc:
            self.sent.append({"method": "POST", self.body_field: ids,
                              "status": exc.status_code})
            return exc
        self.sent.append({"method": "POST", self.body_field: ids, "status": status})
        return int(status)

    def _halve(self, ids: list[str], error: ApiError) -> list[Outcome]:
        if len(ids) == 1:
            return [Outcome(ids[0], False, error.status_code, error.message)]
        middle = len(ids) // 2
        outcomes: list[Outcome] = []
        for half in (ids[:middle], ids[middle:]):
            again = self._post(half)
            outcomes += (accepted(half, again) if isinstance(again, int)
                         else self._halve(half, again))
        return outcomes


def read_back(poster: _Poster, outcomes: list[Outcome], expected: str | None,
              budget: float, sleep: Callable[[float], None] | None) -> None:
    """Read the accepted ids' state until Graph settles or ``budget`` seconds pass; record what
    was found in their outcomes."""
    accepted_ids = [o.item_id for o in outcomes if o.succeeded]
    waited = 0.0
    found = _states_in_time(poster, accepted_ids)
    while found is not None and sleep is not None and waited < budget and any(
            _pending(found.get(i), expected) for i in accepted_ids if i in found):
        step = min(READ_BACK_STEP, budget - waited)
        sleep(step)
        waited += step
        found = _states_in_time(poster, accepted_ids)
    for outcome in outcomes:
        if not outcome.succeeded:
            continue
        if found is None:
            outcome.message = ("not verified: Command Timeout Seconds passed during the read "
                               "back (the action was accepted)")
            continue
        record = found.get(outcome.item_id)
        if record is None:
            outcome.succeeded = False
            outcome.message = ("not found when read back: Graph accepted the request but holds "
                               "no such id")
        elif not _pending(record, expected):
            outcome.verified = True
            outcome.message = f"read back: riskState {record.get('riskState')}"
        else:
            outcome.message = (f"not verified: after {waited:g} s riskState is still "
                               f"{record.get('riskState')} (isProcessing "
                               f"{str(record.get('isProcessing')).lower()})")


def _states_in_time(poster: _Poster, ids: Sequence[str]) -> dict[str, dict[str, Any]] | None:
    """:meth:`_Poster.states`, or None once the command's total has passed: the actions were
    accepted, so running out of time while reading back leaves them unverified, not failed."""
    try:
        return poster.states(ids)
    except RetriableError as exc:
        if exc.code != COMMAND_TIMEOUT:
            raise
        return None


def _pending(record: dict[str, Any] | None, expected: str | None) -> bool:
    if record is None:
        return False
    return bool(record.get("isProcessing")) or (
        expected is not None and record.get("riskState") != expected)


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
    poster = _Poster(client, resource.path, action.name, action.body_field,
                     context.command.permissions.for_inputs(inputs), [])
    outcomes = [o for batch in batches(ids) for o in poster.send(batch)]
    if inputs.get("read_back_seconds"):
        read_back(poster, outcomes, SETS_STATE.get(action.name), inputs["read_back_seconds"],
                  getattr(client, "sleep", None))
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
