"""Retry-After parsing, backoff growth and budget, and which failures each request kind retries."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import pytest
import requests
from urllib3.exceptions import NewConnectionError, ProtocolError

from commands.graph.retry import (
    Backoff,
    RequestKind,
    RetryPolicy,
    parse_retry_after,
    retries_failure,
    retries_status,
)

NOW = datetime(2024, 4, 15, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "expected"), [
    ("7", 7.0), ("2.128", 2.128), ("0", 0.0), ("120,120", 120.0), (" 5 , 9", 5.0),
    ("abc", None), ("", None), ("-3", None), ("nan", None), ("inf", None), (None, None),
    ("Mon, 15 Apr 2024 01:00:30 GMT", 30.0), ("Mon, 15 Apr 2024 00:59:00 GMT", 0.0),
])
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_http_date_is_measured_against_the_servers_date_header() -> None:
    # The local clock is an hour off; the server's own Date header is the reference.
    assert parse_retry_after("Mon, 15 Apr 2024 01:00:12 GMT",
                             server_date="Mon, 15 Apr 2024 01:00:00 GMT",
                             now=datetime(2024, 4, 15, 2, 0, 0, tzinfo=UTC)) == 12.0


def test_backoff_waits_grow_and_attempts_are_bounded() -> None:
    for seed in range(50):
        backoff = Backoff(RetryPolicy(max_attempts=6, base_delay=1, max_delay=30),
                          random.Random(seed))
        waits = []
        while (wait := backoff.next_wait(None)) is not None:
            waits.append(wait)
        assert len(waits) == 5  # six attempts, five waits between them
        assert all(a < b for a, b in itertools.pairwise(waits)), waits
        assert all(2 ** n / 2 <= w <= 2 ** n for n, w in enumerate(waits))


def test_retry_after_is_obeyed_and_the_budget_is_never_overslept() -> None:
    backoff = Backoff(RetryPolicy(max_total_wait=120), random.Random(1))
    assert backoff.next_wait(7.0) == 7.0
    assert backoff.next_wait(0.0) == 0.0
    assert backoff.next_wait(86400.0) is None
    assert "86400" in backoff.given_up_because
    assert backoff.waited == 7.0


def test_max_delay_caps_a_backoff_step() -> None:
    backoff = Backoff(RetryPolicy(max_attempts=20, base_delay=1, max_delay=4,
                                  max_total_wait=1000), random.Random(3))
    waits = [backoff.next_wait(None) for _ in range(10)]
    assert max(w for w in waits if w is not None) <= 4


@pytest.mark.parametrize(("method", "path", "kind"), [
    ("GET", "identityProtection/riskyUsers", RequestKind.READ),
    ("POST", "identityProtection/riskyUsers/confirmCompromised", RequestKind.FINAL_STATE_ACTION),
    ("POST", "identityProtection/riskyUsers/dismiss", RequestKind.FINAL_STATE_ACTION),
    ("POST", "identityProtection/riskyUsers/confirmSafe", RequestKind.FINAL_STATE_ACTION),
    ("POST", "auditLogs/signIns/confirmCompromisedX", RequestKind.ACTION),
])
def test_request_kinds(method: str, path: str, kind: RequestKind) -> None:
    assert RequestKind.of(method, path) is kind


def test_statuses_retried_per_kind() -> None:
    read, final, other = RequestKind.READ, RequestKind.FINAL_STATE_ACTION, RequestKind.ACTION
    assert [s for s in (400, 401, 403, 404, 429, 500, 502, 503, 504, 507)
            if retries_status(read, s)] == [429, 500, 502, 503, 504]
    assert [s for s in (429, 500, 502, 503, 504, 507) if retries_status(final, s)] == [429, 503]
    assert [s for s in (429, 500, 503) if retries_status(other, s)] == [429]


def test_actions_are_retried_only_when_the_request_never_left() -> None:
    refused = requests.ConnectionError(requests.urllib3.exceptions.MaxRetryError(
        None, "/", NewConnectionError(None, "refused")))  # type: ignore[arg-type]
    dropped = requests.ConnectionError(ProtocolError("Connection aborted."))
    final = RequestKind.FINAL_STATE_ACTION
    assert retries_failure(final, requests.ConnectTimeout())
    assert retries_failure(final, refused)
    assert not retries_failure(final, dropped)
    assert not retries_failure(final, requests.ReadTimeout())
    assert not retries_failure(RequestKind.ACTION, requests.ConnectTimeout())
    assert retries_failure(RequestKind.READ, dropped)
    assert retries_failure(RequestKind.READ, requests.ReadTimeout())
