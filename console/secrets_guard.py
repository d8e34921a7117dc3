"""The last line of defence: any secret value that reached a response is masked before sending.

The integration already redacts secrets from results; this catches anything else (a message
quoting a parameter, a pasted document) in the spellings a page could carry it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

MASK = "***"


def spellings(secret: str) -> set[str]:
    """The secret as text, JSON-escaped, URL-encoded and HTML-escaped."""
    import html

    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             quote(secret, safe=""), quote_plus(secret), html.escape(secret)}
    return {form for form in forms if len(form) >= 4}


class SecretScrubber:
    def __init__(self, secret_values: Callable[[], list[str]]) -> None:
        self.secret_values = secret_values

    def scrub(self, text: str) -> str:
        for secret in self.secret_values():
            for form in sorted(spellings(secret), key=len, reverse=True):
                text = text.replace(form, MASK)
        return text
