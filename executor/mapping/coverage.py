"""How well the mappings fit real data: per source and field, how many events each matched.

Also reports what can be seen without data: fields whose path duplicates another field's
(same path, same shaping, different name) and the problems found at load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from executor.mapping.errors import Problem
from executor.mapping.model import EventSource, FieldMapping, profile_fields
from executor.mapping.paths import CompiledPath, PathSyntaxError, compile_path

if TYPE_CHECKING:
    from executor.mapping.engine import MappingSet


@dataclass
class FieldCoverage:
    source: str
    file: str
    name: str
    system_name: str
    path: str
    matched: int = 0
    reference_path: str | None = None
    reference_matched: int | None = None
    beta_only: bool = False
    custom: bool = False


@dataclass
class SourceCoverage:
    id: str
    file: str
    events: int = 0
    fields: list[FieldCoverage] = field(default_factory=list)


@dataclass(frozen=True)
class Duplicate:
    """`field` (in `file`) maps the same path as `other` (in `other_file`)."""

    file: str
    field: str
    other_file: str
    other: str
    path: str

    def __str__(self) -> str:
        return (
            f"{self.file}: field {self.field!r} has the same path {self.path!r} as "
            f"{self.other!r} ({self.other_file})"
        )


@dataclass
class CoverageReport:
    documents: int
    events: int
    sources: list[SourceCoverage]
    duplicates: list[Duplicate]
    problems: list[Problem]

    @property
    def never_matching(self) -> list[FieldCoverage]:
        """Fields that matched no event their source applies to."""
        return [f for source in self.sources for f in source.fields if f.matched == 0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "events": self.events,
            "sources": [asdict(source) for source in self.sources],
            "never_matching": [asdict(f) for f in self.never_matching],
            "duplicates": [asdict(d) for d in self.duplicates],
            "problems": [asdict(p) for p in self.problems],
        }

    def render(self) -> str:
        """A plain-text table for people."""
        lines = [f"{self.documents} documents, {self.events} events"]
        for source in self.sources:
            lines.append(f"\n{source.id} ({source.file}): {source.events} events")
            width = max((len(f.name) for f in source.fields), default=0)
            for f in source.fields:
                flags = []
                if f.beta_only:
                    flags.append("beta only")
                if f.custom:
                    flags.append("custom")
                if f.reference_path is not None:
                    flags.append(f"reference path matched {f.reference_matched}")
                note = f"  ({'; '.join(flags)})" if flags else ""
                mark = "  " if f.matched else "!!"
                lines.append(f"  {mark} {f.name:<{width}}  {f.matched:>6}  {f.path}{note}")
        if self.duplicates:
            lines.append("\nduplicate paths:")
            lines += [f"  {duplicate}" for duplicate in self.duplicates]
        if self.problems:
            lines.append("\nproblems:")
            lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def find_duplicates(default: EventSource, specific: list[EventSource]) -> list[Duplicate]:
    """Fields applied to the same event (Default + a specific source) that map the same value
    under two names. A specific field with a Default field's own name overrides it: no duplicate.
    """
    found: list[Duplicate] = []
    reported: set[tuple[str, str, str, str]] = set()
    for source in [None, *specific]:
        seen: dict[tuple[Any, ...], FieldMapping] = {}
        for f in profile_fields(default, source):
            other = seen.setdefault(f.shape_key, f)
            if other is f or other.system_name == f.system_name:
                continue
            pair = (f.file, f.name, other.file, other.name)
            if pair not in reported:
                reported.add(pair)
                found.append(Duplicate(f.file, f.name, other.file, other.name, f.path.text))
    return found


def _reference(text: str | None) -> CompiledPath | None:
    if text is None:
        return None
    try:
        return compile_path(text)
    except PathSyntaxError:
        return None


def build_report(mappings: MappingSet, documents: list[Any]) -> CoverageReport:
    """Map every event of `documents` source by source and count each field's matches."""
    reports: dict[str, SourceCoverage] = {}
    references: dict[tuple[str, str], CompiledPath | None] = {}
    for source in mappings.sources:
        report = reports[source.id] = SourceCoverage(source.id, source.file)
        for f in source.fields:
            report.fields.append(
                FieldCoverage(
                    source=source.id,
                    file=f.file,
                    name=f.name,
                    system_name=f.system_name,
                    path=f.path.text,
                    reference_path=f.reference_path,
                    reference_matched=0 if f.reference_path is not None else None,
                    beta_only=f.beta_only,
                    custom=f.custom,
                )
            )
            references[(source.id, f.system_name)] = _reference(f.reference_path)
    events = 0
    for document in documents:
        for event in mappings.events(document):
            events += 1
            applied = [mappings.default]
            specific = mappings.select(event)
            if specific is not None:
                applied.append(specific)
            for source in applied:
                report = reports[source.id]
                report.events += 1
                mapped = mappings.map_source_fields(source, event)
                for covered in report.fields:
                    if covered.system_name in mapped:
                        covered.matched += 1
                    reference = references[(source.id, covered.system_name)]
                    if reference is not None and reference.find(event):
                        covered.reference_matched = (covered.reference_matched or 0) + 1
    return CoverageReport(
        documents=len(documents),
        events=events,
        sources=list(reports.values()),
        duplicates=find_duplicates(mappings.default, list(mappings.specific)),
        problems=list(mappings.problems),
    )
