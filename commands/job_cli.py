"""The fetch job's Microsoft side of the command line: Graph connections and their options.

The job's command line itself is generic (:mod:`executor.job.cli`); this module hands it the
event types of Fetch Event, one :class:`~commands.job_sources.GraphConnection` per connection
file, and the Graph client's own options (page size, pacing, retries).

    python -m commands.job_cli run --connection tenant.yaml --state job.db --sink events.ndjson
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from commands.job_sources import EventTypes, GraphConnection, job_source
from executor.errors import InvalidInput, UsageError
from executor.job import cli as job_cli
from executor.job.model import Connection, Source
from executor.redaction import Redactor

ROOT = Path(__file__).resolve().parent.parent


def load_plugin() -> Any:
    """The executor's plugin for this directory: manifest, schemas, connection rules and
    field mappings, as every command run uses them."""
    from commands import registry
    from executor.plugin import Plugin

    return Plugin(ROOT, registry)


class GraphJobHooks:
    prog = "connector.py job"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--page-size", type=job_cli.integer(1, 1000), metavar="N",
                            help="records per request (default: each resource's maximum)")
        parser.add_argument("--no-pace", action="store_true",
                            help="do not pace requests under Graph's per-tenant limits")
        parser.add_argument("--retry-attempts", type=job_cli.integer(1, 100), default=6,
                            metavar="N", help="attempts per request (default 6)")
        parser.add_argument("--retry-base-delay", type=job_cli.number(0, 3600), default=1.0,
                            metavar="SECONDS", help="first backoff step when Graph gives no "
                            "Retry-After (default 1)")
        parser.add_argument("--retry-max-wait", type=job_cli.number(0, job_cli.DAY),
                            default=120.0, metavar="SECONDS",
                            help="all waits of one request together (default 120)")

    def load_plugin(self) -> Any:
        return load_plugin()

    def event_type_names(self, plugin: Any) -> tuple[str, ...]:
        return EventTypes.of(plugin.manifest).defaults

    def resolve_event_type(self, plugin: Any, name: str) -> str:
        return EventTypes.of(plugin.manifest).resolve(name)

    def source(self, name: str, *, overlap: timedelta | None,
               lag: timedelta | None) -> Source:
        return job_source(name, overlap=overlap, lag=lag)

    def connections(self, args: argparse.Namespace, redactor: Redactor, plugin: Any,
                    names: Sequence[str]) -> list[Connection]:
        from commands.graph.client import GraphClient
        from commands.graph.pacing import Pacer
        from commands.graph.retry import RetryPolicy
        from commands.graph.settings import GraphSettings
        from executor.connection import read_connection_file, resolve_connection, secret_values

        types = EventTypes.of(plugin.manifest)
        retry = RetryPolicy(max_attempts=args.retry_attempts, base_delay=args.retry_base_delay,
                            max_total_wait=args.retry_max_wait)
        connections: list[Connection] = []
        seen: set[str] = set()
        pacers: dict[str, Pacer] = {}  # identity protection's limit is per tenant, for all apps
        try:
            for path in args.connection:
                raw = read_connection_file(Path(path))
                for secret in secret_values(plugin.manifest, raw):
                    redactor.add(secret)  # before anything can echo them
                try:
                    resolved = resolve_connection(plugin.manifest, plugin.store, raw)
                    for secret in secret_values(plugin.manifest, resolved):
                        redactor.add(secret)
                    settings = GraphSettings.from_connection(resolved)
                except (InvalidInput, UsageError) as exc:
                    raise UsageError(f"connection file {path}: {exc.message}") from None
                pace: bool | Pacer = False
                if not args.no_pace:
                    pace = pacers.setdefault(settings.tenant.lower(),
                                             Pacer(sleep=time.sleep, monotonic=time.monotonic))
                client = GraphClient(settings, redactor=redactor, retry=retry, pace=pace)
                connection = GraphConnection(
                    client, types, name=resolved.get("name") or Path(path).stem,
                    file=str(path), page_size=args.page_size, event_types=names,
                    client_factory=partial(GraphClient, settings, redactor=redactor, retry=retry,
                                           pace=pace))
                connections.append(connection)
                if connection.id in seen:
                    raise UsageError(f"{path}: the same tenant and client as an earlier "
                                     "--connection")
                seen.add(connection.id)
        except BaseException:
            for made in connections:
                made.close()
            raise
        return connections


def main(argv: Sequence[str]) -> int:
    return job_cli.main(argv, GraphJobHooks())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
