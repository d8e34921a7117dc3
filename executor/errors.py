"""A small exception tree, split by what the caller does next.

- :class:`InvalidInput`: the user fixes an input; nothing was sent anywhere.
- :class:`ApiError`: the remote API refused the request; report its status and message.
- :class:`RetriableError`: throttling or a transient fault that outlasted the retry budget.
- :class:`ConfigurationError`: the connection (credentials, token endpoint, TLS) is wrong.
- :class:`ManifestError`: the plugin itself is broken; names the file, JSON path and rule.
"""

from __future__ import annotations


def one_line(text: str, limit: int = 2000) -> str:
    """Whitespace and control characters folded to single spaces; long text cut with '…'."""
    folded = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return folded if len(folded) <= limit else folded[:limit - 1] + "…"


class IntegrationError(Exception):
    """Base of every error the executor turns into a result."""

    status_code: int | None = None

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(IntegrationError):
    """An input or connection parameter is missing or not acceptable."""

    status_code = 400

    def __init__(self, name: str, problem: str) -> None:
        self.name = one_line(str(name), limit=80)
        self.problem = one_line(problem)
        super().__init__(f"Invalid input '{self.name}': {self.problem}")


class UsageError(IntegrationError):
    """The command line or the call itself is wrong (unknown command, unreadable file)."""

    status_code = 400


class ApiError(IntegrationError):
    """The API answered with an error; ``message`` is the API's own text."""

    def __init__(self, status_code: int | None, message: str, request_id: str | None = None,
                 code: str | None = None) -> None:
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        super().__init__(message)


class RetriableError(ApiError):
    """Throttling or a transient fault that did not clear within the retry budget."""


class ConfigurationError(ApiError):
    """The connection cannot authenticate or reach the service."""


class ManifestError(IntegrationError):
    """The manifest, a schema or a mapping file is invalid."""

    def __init__(self, file: str, json_path: str, rule: str) -> None:
        self.file = file
        self.json_path = json_path
        self.rule = rule
        super().__init__(f"{file}: at {json_path}: {rule}")
