"""The redactor masks every form of every secret, whenever it was registered."""

from __future__ import annotations

import base64

from executor.redaction import MASK, Redactor, variants


def test_every_form_of_every_secret_is_masked_including_nested_and_late_ones() -> None:
    redactor = Redactor()
    first, longer = "s3cr3t/value+1", "s3cr3t/value+1-and-more"
    redactor.add(first)
    assert redactor.text(f"a {first} b") == f"a {MASK} b"
    redactor.add(longer)  # registered after a use: still masked, as a whole
    redactor.add("tok" * 600)  # a token-sized secret
    for secret in (first, longer, "tok" * 600):
        for form in variants(secret):
            masked = redactor.text(f"x={form}&y={first}")
            assert secret not in masked and form not in masked, form
            assert masked.startswith("x=" + MASK)
    assert redactor.text("nothing secret here") == "nothing secret here"


def test_the_forms_a_secret_takes_on_the_wire_are_masked() -> None:
    """Forms written out here, not taken from :func:`variants`: a form it forgot is caught."""
    secret = "s3cr3t/value+1"
    redactor = Redactor()
    redactor.add(secret)
    encoded = base64.b64encode(secret.encode()).decode()
    url_safe = base64.urlsafe_b64encode(secret.encode()).decode()
    for form in ("s3cr3t%2Fvalue%2B1", encoded, encoded.rstrip("="), url_safe,
                 url_safe.rstrip("=")):
        assert redactor.text(f"x={form}&y") == f"x={MASK}&y", form
    quoted = 'pa"ss\\word'  # as JSON writes it in a body: pa\"ss\\word
    redactor.add(quoted)
    body = '{"secret": "pa\\"ss\\\\word"}'
    assert redactor.text(body) == '{"secret": "' + MASK + '"}'

