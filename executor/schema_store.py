"""JSON Schemas of a plugin: loaded once, cross-file ``$ref`` resolved, validators compiled once."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from executor.errors import ManifestError

BASE_URI = "https://plugin.invalid/"
"""Schemas get URIs under this base so that relative ``$ref`` between files resolve."""


def json_path(error: ValidationError) -> str:
    """``$.commands[2].inputs[0].type`` for an error's location in the instance."""
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


class SchemaStore:
    """Every ``*.json`` under one plugin's ``schemas/`` directory, validated lazily."""

    def __init__(self, plugin_dir: Path) -> None:
        self.plugin_dir = plugin_dir
        self._documents: dict[str, Any] = {}
        self._validators: dict[str, Draft202012Validator] = {}

    def document(self, relpath: str) -> Any:
        """The parsed schema file ``relpath`` (for example ``schemas/enums.json``)."""
        if relpath not in self._documents:
            path = self.plugin_dir / relpath
            try:
                self._documents[relpath] = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ManifestError(relpath, "$", "file not found") from None
            except json.JSONDecodeError as exc:
                raise ManifestError(relpath, f"line {exc.lineno} column {exc.colno}",
                                    f"not valid JSON: {exc.msg}") from None
        return self._documents[relpath]

    def add_document(self, relpath: str, document: Any) -> None:
        """A schema built in memory (derived from the manifest), known under ``relpath``."""
        self._documents[relpath] = document
        self._validators.pop(relpath, None)

    def generated(self) -> list[str]:
        """Relpaths of the documents that have no file."""
        return [r for r in self._documents if not (self.plugin_dir / r).is_file()]

    def resolve_pointer(self, reference: str) -> Any:
        """Follow ``schemas/enums.json#/$defs/riskLevel`` to the value it names."""
        relpath, _, pointer = reference.partition("#")
        node = self.document(relpath)
        for token in filter(None, pointer.split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                raise ManifestError(relpath, pointer or "$", f"no such definition: {reference}")
            node = node[token]
        return node

    @cached_property
    def _registry(self) -> Registry:
        def retrieve(uri: str) -> Resource:
            relpath = "schemas/" + uri.removeprefix(BASE_URI)
            return Resource.from_contents(self.document(relpath), default_specification=DRAFT202012)

        return Registry(retrieve=retrieve)  # type: ignore[call-arg]

    def check_schema(self, relpath: str) -> None:
        """The file is a valid draft 2020-12 schema (run by ``validate``, not at every load)."""
        try:
            Draft202012Validator.check_schema(self.document(relpath))
        except Exception as exc:  # SchemaError carries the failing path
            if isinstance(exc, ManifestError):
                raise
            path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                                 for p in getattr(exc, "absolute_path", []))
            raise ManifestError(relpath, path, f"not a valid JSON Schema: "
                                f"{getattr(exc, 'message', exc)}") from None

    def validator(self, relpath: str) -> Draft202012Validator:
        """A compiled validator for one schema file, built once."""
        if relpath not in self._validators:
            self.document(relpath)
            uri = BASE_URI + relpath.removeprefix("schemas/")
            self._validators[relpath] = Draft202012Validator(
                {"$ref": uri}, registry=self._registry)
        return self._validators[relpath]

    def first_error(self, relpath: str, instance: Any) -> ValidationError | None:
        """The most relevant violation of schema ``relpath`` by ``instance``, or None."""
        try:
            return best_match(self.validator(relpath).iter_errors(instance))
        except ManifestError:
            raise
        except Exception as exc:  # a broken schema fails while validating: say which
            self.check_schema(relpath)
            raise ManifestError(relpath, "$", f"cannot be applied: {exc}") from None
