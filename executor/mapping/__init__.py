"""The field-mapping engine: event sources as data, compiled once, applied to every event.

    ms = MappingSet.load(Path("field_mappings"), overrides)
    ms.map_response(raw_data)  # [{"event_type": "riskDetection" | None, "fields": {...}}]

Importing this package is cheap: YAML and jsonpath-ng are imported when mappings load, and
jsonpath-ng only if a path needs it.
"""

from typing import TYPE_CHECKING, Any

from executor.mapping.engine import MappingSet
from executor.mapping.errors import MappingError, Problem
from executor.mapping.model import EventSource, FieldMapping, SearchString, system_name
from executor.mapping.paths import CompiledPath, PathSyntaxError, compile_path
from executor.mapping.sources import parse_search_string, read_overrides

if TYPE_CHECKING:
    from executor.mapping.coverage import CoverageReport, Duplicate, FieldCoverage, SourceCoverage

_COVERAGE_NAMES = frozenset({"CoverageReport", "Duplicate", "FieldCoverage", "SourceCoverage"})


def __getattr__(name: str) -> Any:
    """Coverage reports are only needed by `validate`: their module loads on first use."""
    if name in _COVERAGE_NAMES:
        from executor.mapping import coverage

        return getattr(coverage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CompiledPath",
    "CoverageReport",
    "Duplicate",
    "EventSource",
    "FieldCoverage",
    "FieldMapping",
    "MappingError",
    "MappingSet",
    "PathSyntaxError",
    "Problem",
    "SearchString",
    "SourceCoverage",
    "compile_path",
    "parse_search_string",
    "read_overrides",
    "system_name",
]
