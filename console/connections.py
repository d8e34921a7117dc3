"""The connections the console may use, kept server-side: the browser only ever sees their
labels and their non-secret parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SECRET_SHOWN = "(set, not shown)"


@dataclass
class Connections:
    """Label -> connection parameters; secrets stay in this process."""

    manifest: Any
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, label: str, parameters: Mapping[str, Any]) -> str:
        """Adds a connection under a unique label (``tenant``, ``tenant-2``, ...)."""
        unique, n = label, 1
        while unique in self.entries:
            n += 1
            unique = f"{label}-{n}"
        self.entries[unique] = dict(parameters)
        return unique

    def labels(self) -> list[str]:
        return list(self.entries)

    def get(self, label: str | None) -> dict[str, Any] | None:
        if label is None:
            return None
        found = self.entries.get(label)
        return dict(found) if found is not None else None

    def secret_ids(self) -> set[str]:
        return {p.id for p in self.manifest.connection_parameters if getattr(p, "secret", False)}

    def secret_values(self) -> list[str]:
        """Every secret value of every connection: what must never reach the browser."""
        ids = self.secret_ids()
        return [str(v) for entry in self.entries.values() for k, v in entry.items()
                if k in ids and v not in (None, "")]

    def public_view(self, label: str) -> list[tuple[str, str]]:
        """(display name, shown value) per parameter given; secrets only as whether they are set.

        Parameters the manifest does not know are shown by key but never by value, so a secret
        under an unexpected name cannot leak.
        """
        entry = self.entries[label]
        params = {p.id: p for p in self.manifest.connection_parameters}
        by_name = {p.display_name.casefold(): p for p in self.manifest.connection_parameters}
        rows = []
        for key, value in entry.items():
            param = params.get(str(key)) or by_name.get(str(key).casefold())
            if param is None:
                rows.append((str(key), "(not a connection parameter, not shown)"))
            elif getattr(param, "secret", False):
                rows.append((param.display_name, SECRET_SHOWN if value else "(empty)"))
            else:
                rows.append((param.display_name, str(value)))
        return rows
