"""Dead letters are filed once, even when the job dies between filing one and its commit."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from executor.job import StateStore
from tests.control import EmulatorControl
from tests.job.emu import GraphJob
from tests.job.fakes import Crash, crash_on_commit

DAY = timedelta(days=1)


@pytest.fixture
def tenant() -> Iterator[tuple[Any, EmulatorControl]]:
    from emulator import Emulator

    with Emulator(seed=8, tenants=1, signins=50, frozen=True) as emu:
        yield emu, EmulatorControl(emu)


def _letters(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "state.db.dead-letters.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_crash_between_filing_and_commit_does_not_file_twice(tenant: Any,
                                                               tmp_path: Path) -> None:
    emu, control = tenant
    job = GraphJob(emu, control, tmp_path, types=["signIn"], backfill=DAY)
    assert not job.cycle().failed
    control.post("records/signIns", {"records": [{"id": "no-time", "userPrincipalName":
                                                  "a@contoso.com"}], "verbatim": True},
                 tenant=job.tenant_ids()[0])
    job.sleep(120)
    crash_on_commit(job.store, 0)  # filed and fsynced, then the process dies
    with contextlib.suppress(Crash):
        job.cycle()
    assert [letter["reason"] for letter in _letters(tmp_path)] == ["no createdDateTime"]
    job.restart()  # a new process: the state never heard of that dead letter
    for _ in range(2):
        job.sleep(120)
        (run,) = job.cycle().runs
        assert run.error is None, run.error
    assert [letter["record"]["id"] for letter in _letters(tmp_path)] == ["no-time"]
    job.close()
    (status,) = StateStore(tmp_path / "state.db", readonly=True).sources()
    assert status.dead_letters == 1


def test_a_line_cut_short_by_a_crash_is_not_merged_with_the_next(tmp_path: Path) -> None:
    from executor.job.deadletters import DeadLetterFile
    from executor.job.step import DeadLetter

    path = tmp_path / "dead.ndjson"
    path.write_bytes(b'{"at": "2026-11-20T10:00:00Z", "connection": "c", "event_type": "signIn", '
                     b'"reason": "no id", "key": "k1", "record": {"us')  # the crash hit here
    DeadLetterFile(path).write("c", "signIn", [DeadLetter("k1", "no id", {"user": "x"}),
                                                DeadLetter("k2", "no id", {"user": "y"})])
    lines = path.read_bytes().split(b"\n")
    assert lines[0].endswith(b'{"us') and lines[-1] == b""
    assert [json.loads(line)["key"] for line in lines[1:-1]] == ["k1", "k2"]
