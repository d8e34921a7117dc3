"""The token signing key is made on a thread; whoever needs it waits, and always gets one."""

from __future__ import annotations

import threading

import pytest

from emulator import auth


def test_every_caller_gets_the_one_key_the_thread_made() -> None:
    maker = auth._SigningKey()
    maker.start()
    keys: list[object] = []
    waiters = [threading.Thread(target=lambda: keys.append(maker.get())) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join()
    assert len(keys) == 4 and all(key is keys[0] for key in keys)
    assert keys[0].key_size == 2048  # type: ignore[attr-defined]


def test_a_thread_that_ended_without_a_key_is_made_up_for() -> None:
    """As in a child forked while the parent's thread was still working."""
    maker = auth._SigningKey()
    maker._thread = threading.Thread(target=lambda: None)
    maker._thread.start()
    maker._thread.join()
    assert maker.get().key_size == 2048


def test_a_failure_to_make_the_key_is_raised_to_the_waiter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: object) -> object:
        raise ValueError("no entropy")

    auth.signing_key()  # the process's own key is made before key generation breaks
    monkeypatch.setattr(auth.rsa, "generate_private_key", broken)
    maker = auth._SigningKey()
    with pytest.raises(RuntimeError, match="signing key") as caught:
        maker.get()
    assert isinstance(caught.value.__cause__, ValueError)
