"""A fetch cycle is bounded by default: an hour, or one --every period when that is longer."""

from __future__ import annotations

import pytest

from commands.job_cli import GraphJobHooks
from executor.job import cli as job_cli

COMMON = ["--connection", "c.yaml", "--state", "s.db", "--sink", "e.ndjson"]


def _budget(*argv: str) -> float | None:
    return job_cli.cycle_budget(job_cli.build_parser(GraphJobHooks()).parse_args(list(argv)))


@pytest.mark.parametrize(("argv", "expected"), [
    (["run", *COMMON], 3600.0),
    (["start", *COMMON, "--every", "300"], 3600.0),
    (["start", *COMMON, "--every", "86400"], 86400.0),
    (["run", *COMMON, "--max-cycle-seconds", "90"], 90.0),
    (["start", *COMMON, "--every", "300", "--max-cycle-seconds", "0"], None),
])
def test_the_cycle_budget_is_bounded_unless_switched_off(argv: list[str],
                                                         expected: float | None) -> None:
    assert _budget(*argv) == expected
