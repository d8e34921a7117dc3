"""The result object every command returns (SPEC §4) and the process exit codes (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SUCCESSFUL = "Successful"
    PARTIALLY_SUCCESSFUL = "Partially Successful"
    FAILED = "Failed"


EXIT_SUCCESSFUL = 0
EXIT_FAILED = 1
EXIT_INVALID_INPUT = 2
EXIT_PARTIAL = 3


@dataclass
class ErrorEntry:
    failure_indicator: str
    status_code: int | None
    message: str
    request_id: str | None = None
    """The API's id of the failed request (Graph's ``request-id``), for its support."""

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"failure_indicator": self.failure_indicator,
                                "status_code": self.status_code, "message": self.message}
        if self.request_id:
            body["request_id"] = self.request_id
        return body


@dataclass
class CommandOutput:
    """What a handler returns; the executor turns it into a :class:`Result`."""

    return_data: Any = None
    raw_data: Any = None
    key_fields: dict[str, Any] = field(default_factory=dict)
    context_data: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] | None = None
    errors: list[ErrorEntry] = field(default_factory=list)
    """Errors of a partial success: some batches or ids failed while others went through."""
    partial: bool = False
    warnings: list[str] = field(default_factory=list)
    """What the handler did differently from what was asked (logged, and in the result)."""


@dataclass
class Result:
    command: str
    status: Status
    return_data: Any = None
    raw_data: Any = None
    key_fields: dict[str, Any] = field(default_factory=dict)
    context_data: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] | None = None
    errors: list[ErrorEntry] = field(default_factory=list)
    exit_code: int = EXIT_SUCCESSFUL
    warnings: list[str] = field(default_factory=list)
    """What the run did differently from what was asked (an input ignored where it does not
    apply, ...); also logged to stderr."""

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "command": self.command,
            "status": self.status.value,
            "return_data": self.return_data,
            "raw_data": self.raw_data,
            "key_fields": self.key_fields,
            "context_data": self.context_data,
        }
        if self.events is not None:
            body["events"] = self.events
        body["errors"] = [e.to_dict() for e in self.errors]
        if self.warnings:
            body["warnings"] = list(self.warnings)
        return body
