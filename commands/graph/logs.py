"""The package's one logger, and redaction of it (and of MSAL's loggers) while a client lives.

All modules of the package log through :data:`logger`, so one :class:`RedactingFilter` per
client covers them. Filters on a logger only see records created on that very logger, so the
MSAL loggers are covered name by name.
"""

from __future__ import annotations

import logging

from executor.redaction import RedactingFilter, Redactor

logger = logging.getLogger("commands.graph")
logger.addHandler(logging.NullHandler())  # a library: without the host's logging, say nothing


class LogRedaction:
    """Installs a redacting filter on our logger (and others by prefix) until :meth:`remove`."""

    def __init__(self, redactor: Redactor) -> None:
        self.filter = RedactingFilter(redactor)
        self._covered: list[logging.Logger] = []
        self._add(logger)

    def cover(self, prefix: str) -> None:
        """Filter every existing logger named ``prefix`` or ``prefix.*``."""
        self._add(logging.getLogger(prefix))
        for name, item in list(logging.root.manager.loggerDict.items()):
            if isinstance(item, logging.Logger) and name.startswith(prefix + "."):
                self._add(item)

    def _add(self, target: logging.Logger) -> None:
        if target not in self._covered:
            target.addFilter(self.filter)
            self._covered.append(target)

    def remove(self) -> None:
        for target in self._covered:
            target.removeFilter(self.filter)
        self._covered.clear()
