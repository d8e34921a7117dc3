"""The runner's in-place dedup (SeenKeys) decides exactly as the pure step does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.job.instants import key_of
from executor.job.model import Checkpoint, Source, Window
from executor.job.step import SeenKeys, fetch_step, finish_window
from tests.job.fakes import T0

SRC = Source("thing", "ts", overlap=timedelta(minutes=10), lag=timedelta(minutes=1))


def rec(rid: str, minute: int) -> dict[str, Any]:
    return {"id": rid, "ts": (T0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")}


pages = st.lists(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 90)),
                          max_size=12), max_size=8)


@settings(max_examples=200, deadline=None)
@given(pages, st.booleans())
def test_in_place_dedup_matches_the_pure_step(script: list[list[tuple[str, int]]],
                                               hold: bool) -> None:
    pure = Checkpoint()
    mine = Checkpoint(None, SeenKeys())
    for page in script:
        records = [rec(rid, minute) for rid, minute in page]
        a = fetch_step(pure, records, SRC, hold_cursor=hold)
        b = fetch_step(mine, records, SRC, hold_cursor=hold, in_place=True)
        assert b.checkpoint.seen is mine.seen  # updated, not copied
        assert (a.fresh, a.added, a.forget_before, a.checkpoint.cursor) == \
            (b.fresh, b.added, b.forget_before, b.checkpoint.cursor)
        assert dict(a.checkpoint.seen) == dict(b.checkpoint.seen)
        pure, mine = a.checkpoint, b.checkpoint
    window = Window(key_of(T0), key_of(T0 + timedelta(minutes=85)))
    a_end = finish_window(pure, window, SRC)
    b_end = finish_window(mine, window, SRC)
    assert dict(a_end.checkpoint.seen) == dict(b_end.checkpoint.seen)


def test_the_pure_step_leaves_its_checkpoint_alone() -> None:
    seen = SeenKeys({"a|x": "2026-11-01T00:00:00"})
    before = dict(seen)
    fetch_step(Checkpoint("2026-11-01T00:00:00", seen), [rec("b", 1)], SRC)
    assert dict(seen) == before
