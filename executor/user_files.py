"""`validate --mappings FILE --connection FILE [--sample FILE]`: a user's own files, offline.

The overrides file is loaded with the plugin's event sources (every problem reported, not just
the first); the connection file is read and resolved as a run would (schema, `${ENV}`
references, defaults), without a request; a sample of saved events measures how many of them
each field matches. Nothing here prints a connection value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from executor.errors import IntegrationError
from executor.validation import Report

SAMPLE_BATCH = 1000


def check_overrides(plugin: Any, path: str, report: Report) -> Any:
    """The mapping set with the user's overrides, faulty fields left out and reported."""
    from executor.mapping import MappingError, MappingSet, read_overrides

    try:
        overrides = read_overrides(path)
    except MappingError as exc:
        report.problems.extend(f"mappings: {p}" for p in exc.problems)
        return None
    mappings = MappingSet.load(plugin.mapping_files(), overrides, overrides_file=path,
                               strict=False)
    report.problems.extend(f"mappings: {p}" for p in mappings.problems)
    custom = sum(1 for s in mappings.sources for f in s.fields if f.custom)
    report.notes.append(f"mappings {path}: {custom} custom field(s) loaded")
    return mappings


def check_connection(plugin: Any, path: str, report: Report) -> None:
    from executor.connection import read_connection_file, resolve_connection

    try:
        resolved = resolve_connection(plugin.manifest, plugin.store,
                                      read_connection_file(Path(path)))
    except IntegrationError as exc:
        report.problems.append(f"connection {path}: {exc.message}")
        return
    given = sorted(k for k, v in resolved.items() if v not in (None, ""))
    report.notes.append(f"connection {path}: valid ({len(given)} parameters set or defaulted)")


def sample_coverage(mappings: Any, path: str, event_type: str | None, report: Report
                    ) -> dict[str, Any] | None:
    """Field coverage over the sample's events (in any shape `map` reads), counted batch by
    batch so that a large sample is read in flat memory."""
    from executor.map_verb import main_key
    from executor.mapping.stream import EventStreamError, read_events

    key = main_key(mappings)
    if key is None:
        report.problems.append("sample: the Main Event JSON Path is not a single key")
        return None
    search_keys = mappings.search_keys()
    total: Any = None
    batch: list[Any] = []
    try:
        with open(path, "rb") as stream:
            for event in read_events(stream, key):
                if isinstance(event, dict) and event_type is not None:
                    event = {**dict.fromkeys(search_keys, event_type), **event}
                batch.append(event)
                if len(batch) == SAMPLE_BATCH:
                    total = _added(total, mappings.coverage([{key: batch}]))
                    batch = []
    except OSError as exc:
        report.problems.append(f"sample {path}: cannot read ({exc.strerror})")
        return None
    except EventStreamError as exc:
        report.problems.append(f"sample {path}: {exc}")
        return None
    if batch or total is None:
        total = _added(total, mappings.coverage([{key: batch}]))
    if total.events == 0:
        report.problems.append(f"sample {path}: holds no events")
        return None
    for unmatched in total.never_matching:
        report.notes.append(f"field never matched by the sample: {unmatched.file}: "
                            f"{unmatched.name} ({unmatched.path})")
    return dict(total.to_dict())


def _added(total: Any, part: Any) -> Any:
    """`total` with the counts of `part` added (both from the same mappings: same order)."""
    if total is None:
        return part
    total.events += part.events
    for source, more in zip(total.sources, part.sources, strict=True):
        source.events += more.events
        for field, counted in zip(source.fields, more.fields, strict=True):
            field.matched += counted.matched
            if counted.reference_matched is not None:
                field.reference_matched = (field.reference_matched or 0) + counted.reference_matched
    return total


def validate_user_files(plugin: Any, *, mappings_file: str | None, connection_file: str | None,
                        sample_file: str | None, event_type: str | None = None) -> Report:
    report = Report()
    mappings = None
    if mappings_file:
        mappings = check_overrides(plugin, mappings_file, report)
    elif sample_file:
        from executor.mapping import MappingSet

        mappings = MappingSet.load(plugin.mapping_files(), strict=False)
    if connection_file:
        check_connection(plugin, connection_file, report)
    if sample_file and mappings is not None:
        report.coverage = sample_coverage(mappings, sample_file, event_type, report)
    return report
