"""MappingSet: the loaded event sources and the compiled mappers that apply them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from executor.mapping.codegen import Dispatch, Mapper, build_mapper, map_generic
from executor.mapping.errors import MappingError, Problem
from executor.mapping.model import EventSource, profile_fields, search_text
from executor.mapping.paths import FIELD, CompiledPath
from executor.mapping.sources import apply_overrides, compile_source, read_sources

if TYPE_CHECKING:
    from executor.mapping.coverage import CoverageReport


class MappingSet:
    """Event sources loaded from a directory of mapping files, compiled once.

    Build with `MappingSet.load`; map with `map_event` / `map_response`; check with `coverage`.
    """

    def __init__(self, sources: list[EventSource], problems: list[Problem] | None = None) -> None:
        defaults = [source for source in sources if source.is_default]
        if len(defaults) != 1:
            raise MappingError(
                problems or [Problem("<mappings>", None, "exactly one Default source is needed")]
            )
        self.default: EventSource = defaults[0]
        self.specific: tuple[EventSource, ...] = tuple(s for s in sources if not s.is_default)
        self.sources: tuple[EventSource, ...] = (self.default, *self.specific)
        self.problems: list[Problem] = list(problems or [])
        self._default_mapper = build_mapper(self.default.fields, self.default.id)
        self._mappers: dict[str, Mapper] = {
            source.id: build_mapper(profile_fields(self.default, source), source.id)
            for source in self.specific
        }
        self._own_mappers: dict[str, Mapper] = {}
        self._selectors = _group_search_strings(self.specific)
        # The common case, one `{$.key}=value` path, gets its choice of profile generated into
        # the Default mapper. The instance attribute shadows the `map_event` method, which stays
        # the general definition the generated code falls back on.
        key = self._selectors[0].key if len(self._selectors) == 1 else None
        if key is not None:
            selector = self._selectors[0]
            dispatch = Dispatch(
                key=key,
                mappers={value: self._mappers[s.id] for value, s in selector.sources.items()},
                general=self.map_event,
            )
            fast = build_mapper(self.default.fields, self.default.id + " dispatch", dispatch)
            self.map_event = fast  # type: ignore[method-assign,assignment]

    @classmethod
    def load(
        cls,
        mappings: Path | str | Sequence[Path | str],
        overrides: dict[str, Any] | None = None,
        *,
        overrides_file: Path | str | None = None,
        strict: bool = True,
    ) -> MappingSet:
        """Load the mapping files (or every `*.yaml` of a directory), apply `overrides`,
        compile every path.

        `overrides` is `{source_id: {add: [{name, path, type?, values?}], remove: [name]}}`;
        `overrides_file` only names it in errors. With `strict` (the default) any problem raises
        MappingError listing them all; otherwise faulty fields and sources are left out and the
        problems kept in `.problems` (and in coverage reports).
        """
        problems: list[Problem] = []
        overrides_label = str(overrides_file) if overrides_file is not None else "<overrides>"
        location = (Path(mappings) if isinstance(mappings, str | Path)
                    else [Path(m) for m in mappings])
        raw_sources = read_sources(location, problems)
        apply_overrides(raw_sources, overrides, overrides_label, problems)
        sources = [
            source
            for raw in raw_sources
            if (source := compile_source(raw, overrides_label, problems)) is not None
        ]
        _check_search_strings(sources, problems)
        if problems and strict:
            raise MappingError(problems)
        return cls(sources, problems)

    def search_keys(self) -> list[str]:
        """The top-level event keys search strings look at (``eventType`` for ``{$.eventType}``)."""
        return [selector.key for selector in self._selectors if selector.key is not None]

    def source(self, source_id: str) -> EventSource:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def select(self, event: Any) -> EventSource | None:
        """The specific source whose search string the event matches (first in file order)."""
        for selector in self._selectors:
            if selector.key is not None and type(event) is dict:
                # `{$.eventType}=...` on an object: one lookup, no evaluator.
                found = event.get(selector.key)
                if type(found) is str:
                    source = selector.sources.get(found)
                    if source is not None:
                        return source
                    continue
            for found in selector.path.find(event):
                text = search_text(found)
                if text is not None and text in selector.sources:
                    return selector.sources[text]
        return None

    def event_type(self, event: Any) -> str | None:
        """The value the matching search string tested for (`riskDetection`), or None."""
        source = self.select(event)
        return source.search.value if source is not None and source.search else None

    def map_event(self, event: Any) -> dict[str, Any]:
        """System Name -> value for one event. Never raises, whatever the event's shape."""
        source = self.select(event)
        if source is None:
            return self._default_mapper(event)
        return self._mappers[source.id](event)

    def events(self, response: Any) -> Iterator[Any]:
        """The events in a response: each match of the Main Event JSON Path, arrays spread."""
        main_path = self.default.main_event_json_path
        assert main_path is not None
        for found in main_path.find(response):
            if isinstance(found, list):
                yield from (event for event in found if event is not None)
            else:
                yield found

    def map_response(self, response: Any) -> list[dict[str, Any]]:
        """`[{"event_type": ..., "fields": {...}}]` for every event of `response`."""
        mapped: list[dict[str, Any]] = []
        for event in self.events(response):
            source = self.select(event)
            if source is None:
                mapped.append({"event_type": None, "fields": self._default_mapper(event)})
            else:
                assert source.search is not None
                mapped.append(
                    {"event_type": source.search.value, "fields": self._mappers[source.id](event)}
                )
        return mapped

    def map_source_fields(self, source: EventSource, event: Any) -> dict[str, Any]:
        """Only `source`'s own fields for `event` (no Default, no selection): for coverage."""
        mapper = self._own_mappers.get(source.id)
        if mapper is None:
            mapper = self._own_mappers[source.id] = build_mapper(source.fields, source.id + " own")
        return mapper(event)

    def map_event_generic(self, event: Any) -> dict[str, Any]:
        """`map_event` by the path evaluator alone, without generated code (the reference)."""
        source = self.select(event)
        return map_generic(profile_fields(self.default, source), event)

    def coverage(self, documents: list[Any]) -> CoverageReport:
        """Per source and field: how many events of `documents` (responses) it matched."""
        from executor.mapping.coverage import build_report

        return build_report(self, documents)


@dataclass(frozen=True)
class _Selector:
    """Search strings that test the same path: one evaluation serves them all.

    `key` is set when the path is a single field (`$.eventType`), for a plain lookup.
    """

    path: CompiledPath
    key: str | None
    sources: dict[str, EventSource]


def _group_search_strings(specific: tuple[EventSource, ...]) -> list[_Selector]:
    selectors: dict[str, _Selector] = {}
    for source in specific:
        assert source.search is not None
        path = source.search.path
        selector = selectors.get(path.canonical)
        if selector is None:
            steps = path.steps
            key = steps[0][1] if steps and len(steps) == 1 and steps[0][0] == FIELD else None
            selector = selectors[path.canonical] = _Selector(path, key, {})
        selector.sources.setdefault(source.search.value, source)
    return list(selectors.values())


def _check_search_strings(sources: list[EventSource], problems: list[Problem]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for source in sources:
        if source.search is None:
            continue
        key = (source.search.path.canonical, source.search.value)
        if key in seen:
            problems.append(
                Problem(
                    source.file,
                    None,
                    f"search string {source.search.text!r} selects the same events as {seen[key]}",
                )
            )
        else:
            seen[key] = source.file
