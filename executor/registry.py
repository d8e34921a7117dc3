"""The bridge between a manifest and a plugin's code: handlers, input checks, client factory.

A plugin's ``commands`` package fills one :class:`Registry`; loading fails when a command has no
handler, a handler has no command, or a manifest input names a check nobody registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from executor.errors import ManifestError
from executor.model import Manifest, ResourceSpec

if TYPE_CHECKING:
    from executor.plugin import CommandContext
    from executor.result import CommandOutput

Handler = Callable[[Any, dict[str, Any], "CommandContext"], "CommandOutput"]
"""``handler(client, inputs, context) -> CommandOutput``: the plugin's API client, the validated
inputs by input id, and the run's :class:`~executor.plugin.CommandContext` (command, manifest,
connection, clock, the event mapper as ``context.map_events``)."""
Check = Callable[[Any, Mapping[str, Any], ResourceSpec | None], None]
"""``check(value, all_inputs, resource)``: raises ``ValueError(problem)`` when the value is
refused; ``resource`` is the one the command reads with these inputs (or None)."""


class Registry:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.checks: dict[str, Check] = {}
        self.client_factory: Callable[..., Any] | None = None
        self.coverage_documents: Callable[[Any], list[Any]] | None = None
        """Documents (saved responses) on which ``validate`` measures field-mapping coverage."""
        self.catalogue_check: Callable[[Manifest, Path], tuple[list[str], list[str]]] | None = None
        """``validate``'s check of the manifest's resources against the API's own metadata:
        (problems, notes)."""

    def handler(self, command_id: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if command_id in self.handlers:
                raise ValueError(f"two handlers for command '{command_id}'")
            self.handlers[command_id] = fn
            return fn
        return register

    def check(self, name: str) -> Callable[[Check], Check]:
        def register(fn: Check) -> Check:
            self.checks[name] = fn
            return fn
        return register

    def client(self, factory: Callable[..., Any]) -> Callable[..., Any]:
        self.client_factory = factory
        return factory

    def verify(self, manifest: Manifest) -> None:
        """Fail at load on any mismatch between the manifest and the registered code."""
        declared = {c.handler_name for c in manifest.commands}
        for i, command in enumerate(manifest.commands):
            if command.handler_name not in self.handlers:
                raise ManifestError("integration.yaml", f"$.commands[{i}].id",
                                    f"command '{command.id}' has no registered handler"
                                    + (f" '{command.handler}'" if command.handler else ""))
            for j, spec in enumerate(command.inputs):
                if spec.check and spec.check["name"] not in self.checks:
                    raise ManifestError("integration.yaml",
                                        f"$.commands[{i}].inputs[{j}].check.name",
                                        f"no input check named '{spec.check['name']}' "
                                        "is registered")
        for command_id in sorted(set(self.handlers) - declared):
            raise ManifestError("integration.yaml", "$.commands",
                                f"handler '{command_id}' has no command in the manifest")
