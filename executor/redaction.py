"""Keeping secrets out of output: every encoding of every secret is replaced by ``***``.

Secrets are the connection parameters marked ``secret: true`` plus anything a client registers
at run time (access tokens, assertions). Each is matched plain, URL-encoded (both styles),
JSON-escaped and base64-encoded; bearer tokens and JWT-shaped strings are masked on sight.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_MIN_SECRET = 4
_SHARED_MAX = 256
"""Strings up to this length are shared between equal values of a copy (see ``data``)."""


def variants(secret: str) -> set[str]:
    """The forms a secret can take in URLs, JSON bodies, headers and logs."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    raw = secret.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms.update({text, text.rstrip("=")})
    return {f for f in forms if len(f) >= _MIN_SECRET}


class Redactor:
    """Masks every registered form by plain substring replacement, longest form first.

    Not one regular expression of all forms: access tokens are long (1-2 KB, seven forms each),
    and compiling ``a|b|...`` of a few tenants' tokens in :mod:`re`'s pure-Python parser took
    about a second each time a token was added; ``str.replace`` scans in C and needs no build.
    """

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._ordered: tuple[str, ...] = ()

    def add(self, secret: str | None) -> None:
        """Register a secret (all its forms)."""
        if secret and len(secret) >= _MIN_SECRET:
            new = variants(secret) - self._forms
            if new:
                forms = self._forms | new
                # One tuple swapped in whole: another thread's text() reads the old or the new.
                self._ordered = tuple(sorted(forms, key=len, reverse=True))
                self._forms = forms

    def text(self, value: str) -> str:
        for form in self._ordered:
            if form in value:
                value = value.replace(form, MASK)
        value = _BEARER.sub(lambda m: m.group(1) + MASK, value)
        return _JWT.sub(MASK, value)

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with every string redacted (keys included).

        Equal strings of the copy are one object: a listing repeats the same values (app
        names, statuses, locations, property names) thousands of times, and a result holds
        only about 3x the size of its JSON instead of 4x."""
        return self._copy(value, {})

    def _copy(self, value: Any, shared: dict[str, str]) -> Any:
        if isinstance(value, str):
            text = self.text(value)
            return shared.setdefault(text, text) if len(text) <= _SHARED_MAX else text
        if isinstance(value, dict):
            return {self._copy(k, shared) if isinstance(k, str) else k: self._copy(v, shared)
                    for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._copy(v, shared) for v in value]
        return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the rendered message of every record."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        record.msg, record.args = self.redactor.text(message), None
        return True
