"""Load-time problems with field mappings, and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass

from executor.errors import ManifestError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a mapping file or an overrides file.

    `file` is the file as the caller named it; `field` is the Field Name (or None when the
    problem is with the file or the source as a whole).
    """

    file: str
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.field is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}: field {self.field!r}: {self.message}"


class MappingError(ManifestError):
    """Raised by `MappingSet.load` when a mapping or overrides file cannot be used as written.

    Part of the executor's error tree: a :class:`~executor.errors.ManifestError` (the plugin's
    files are wrong) naming the first problem's file; ``problems`` holds every one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} in field mappings:"]
        lines += [f"  {problem}" for problem in self.problems]
        first = self.problems[0] if self.problems else None
        Exception.__init__(self, "\n".join(lines))
        self.file = first.file if first else "field mappings"
        self.json_path = f"field {first.field!r}" if first and first.field else "$"
        self.rule = first.message if first else "no problems"
