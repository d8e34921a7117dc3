"""A URL's origin (scheme, host, port), to tell whether a link stays on the connection's host.

Its own module, importing no HTTP library: command handlers check a Next Link with it at
start-up cost only."""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def origin(url: str) -> tuple[str, str, int | None]:
    """Lower-cased scheme and host, and the port (the scheme's default when none is given;
    None when the URL's port is not a valid one)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port
