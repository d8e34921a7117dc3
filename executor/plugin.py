"""A loaded plugin: manifest + schemas + registry, and the error boundary around every run.

``Plugin.run`` never raises and never lets a traceback or a secret reach its caller: every
outcome is a :class:`~executor.result.Result`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from executor.connection import resolve_connection, secret_values
from executor.errors import IntegrationError, InvalidInput, UsageError, one_line
from executor.inputs import InputValidator
from executor.manifest import load_manifest
from executor.model import CommandSpec, Manifest
from executor.redaction import Redactor
from executor.registry import Registry
from executor.result import (
    EXIT_FAILED,
    EXIT_INVALID_INPUT,
    EXIT_PARTIAL,
    EXIT_SUCCESSFUL,
    CommandOutput,
    ErrorEntry,
    Result,
    Status,
)
from executor.schema_store import SchemaStore

log = logging.getLogger("executor")


def utc_now() -> datetime:
    return datetime.now(UTC)


EventMapper = Callable[[Mapping[str, Any]], list[dict[str, Any]]]
"""Maps an API response (``{"value": [...]}``) to events with the plugin's field mappings."""


def _no_mapping(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    raise UsageError("this run has no field mappings")


@dataclass
class CommandContext:
    """What a handler (and the client factory) may know about the run besides its inputs."""

    command: CommandSpec
    manifest: Manifest
    connection: dict[str, Any]
    redactor: Redactor
    now: Callable[[], datetime]
    plugin_dir: Path
    options: dict[str, Any] = field(default_factory=dict)
    """Runtime knobs from the caller (a sleep function, a retry policy, ...)."""
    map_events: EventMapper = _no_mapping



class Plugin:
    """The generic executor for one plugin directory."""

    def __init__(self, plugin_dir: Path, registry: Registry, *,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.store = SchemaStore(self.plugin_dir)
        self.manifest = load_manifest(self.plugin_dir, self.store)
        registry.verify(self.manifest)
        self.registry = registry
        self.now = now
        self._validators: dict[str, InputValidator] = {}
        self._mappings: dict[str | None, Any] = {}

    def mapping_set(self, overrides_file: str | None = None) -> Any:
        """The compiled field mappings (with a user's overrides file), built once per file."""
        if overrides_file not in self._mappings:
            from executor.mapping import MappingSet, read_overrides

            overrides = read_overrides(overrides_file) if overrides_file else None
            self._mappings[overrides_file] = MappingSet.load(
                self.mapping_files(), overrides, overrides_file=overrides_file)
        return self._mappings[overrides_file]

    def mapping_files(self) -> list[Path]:
        """The event sources' files, as the manifest names them."""
        return [self.plugin_dir / source.file for source in self.manifest.event_sources]

    def _checked_mapping_set(self, overrides_file: str | None) -> Any:
        """:meth:`mapping_set`, with a mapping problem as a one-line usage error."""
        from executor.mapping import MappingError  # the engine loads only for runs that map

        try:
            return self.mapping_set(overrides_file)
        except MappingError as exc:
            raise UsageError("field mappings: " + "; ".join(str(p) for p in exc.problems)
                             ) from None

    def commands(self) -> list[dict[str, Any]]:
        return [{"id": c.id, "name": c.display_name, "description": c.description,
                 "permissions": list(c.permissions.all()),
                 "inputs": [i.display_name for i in c.inputs]}
                for c in self.manifest.commands]

    def validator(self, command: CommandSpec) -> InputValidator:
        if command.id not in self._validators:
            self._validators[command.id] = InputValidator(
                command, self.store, self.registry.checks, self.now)
        return self._validators[command.id]

    def run(self, command_name: str, inputs: Mapping[str, Any] | None,
            connection: Mapping[str, Any] | None, *, redactor: Redactor | None = None,
            options: dict[str, Any] | None = None) -> Result:
        """Validate, dispatch and wrap one command run; never raises."""
        redactor = redactor or Redactor()
        command = self.manifest.command_named(command_name)
        if command is None:
            names = ", ".join(c.display_name for c in self.manifest.commands)
            error = UsageError(f"unknown command '{command_name}'; commands: {names}")
            return self._failed(command_name, f"{command_name} failed.", error, redactor)
        options = dict(options or {})
        overrides_file = options.pop("mappings_file", None)
        try:
            if not isinstance(inputs or {}, Mapping) or not isinstance(connection or {}, Mapping):
                raise UsageError("inputs and connection must each be a mapping of names "
                                 "to values")
            warnings: list[str] = []
            values = self.validator(command).validate(inputs or {}, warnings)
            resolved = resolve_connection(self.manifest, self.store, connection or {})
            for secret in secret_values(self.manifest, resolved):
                redactor.add(secret)
            if overrides_file:  # a user's broken overrides are refused before any request
                self._checked_mapping_set(overrides_file)
        except IntegrationError as exc:
            if isinstance(connection, Mapping):
                for secret in secret_values(self.manifest, connection):
                    redactor.add(secret)
            return self._failed(command.display_name, command.failure_indicator, exc, redactor)
        except Exception as exc:  # the error boundary covers validation too
            return self._internal_error(command, exc, redactor)

        def mapper(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
            mapped: list[dict[str, Any]] = self._checked_mapping_set(overrides_file
                                                                      ).map_response(raw)
            return mapped

        context = CommandContext(command, self.manifest, resolved, redactor, self.now,
                                 self.plugin_dir, options, mapper)
        client = None
        try:
            if self.registry.client_factory is None:
                raise UsageError("the plugin registered no API client")
            client = self.registry.client_factory(context)
            output = self.registry.handlers[command.handler_name](client, values, context)
            warnings.extend(output.warnings)
            result = self._finish(command, output, redactor)
        except IntegrationError as exc:
            result = self._failed(command.display_name, command.failure_indicator, exc,
                                  redactor)
        except Exception as exc:  # the error boundary: no traceback reaches the user
            result = self._internal_error(command, exc, redactor)
        finally:
            close = getattr(client, "close", None)
            if callable(close):
                close()
        # In the result only: the CLI writes them to stderr, the Python API never does.
        result.warnings = [one_line(redactor.text(w)) for w in warnings]
        return result

    def _internal_error(self, command: CommandSpec, exc: Exception,
                        redactor: Redactor) -> Result:
        log.debug("unexpected error in %s", command.id, exc_info=True)
        error = IntegrationError(f"internal error ({type(exc).__name__}): {exc}")
        return self._failed(command.display_name, command.failure_indicator, error, redactor)

    def _finish(self, command: CommandSpec, output: CommandOutput,
                redactor: Redactor) -> Result:
        if output.errors and not output.partial:
            status, code = Status.FAILED, EXIT_FAILED
        elif output.partial:
            status, code = Status.PARTIALLY_SUCCESSFUL, EXIT_PARTIAL
        else:
            status, code = Status.SUCCESSFUL, EXIT_SUCCESSFUL
        errors = [ErrorEntry(e.failure_indicator, e.status_code,
                             one_line(redactor.text(e.message)), e.request_id)
                  for e in output.errors]
        return Result(command=command.display_name, status=status,
                      return_data=redactor.data(output.return_data),
                      raw_data=redactor.data(output.raw_data),
                      key_fields=redactor.data(output.key_fields),
                      context_data=redactor.data(output.context_data),
                      events=redactor.data(output.events) if output.events is not None
                      else None,
                      errors=errors, exit_code=code)

    def _failed(self, name: str, indicator: str, exc: IntegrationError,
                redactor: Redactor) -> Result:
        invalid = isinstance(exc, InvalidInput | UsageError)
        message = one_line(redactor.text(exc.message)) or type(exc).__name__
        return Result(command=name, status=Status.FAILED,
                      return_data=Status.FAILED.value,
                      errors=[ErrorEntry(indicator, exc.status_code, message,
                                         getattr(exc, "request_id", None))],
                      exit_code=EXIT_INVALID_INPUT if invalid else EXIT_FAILED)
