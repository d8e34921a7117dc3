"""Where events go: an NDJSON file (exactly once, readers see only committed events) or stdout.

The file sink's guarantee: **every byte a reader can see in the sink is committed**. The sink is
only ever appended to, never cut back, so ``tail -F`` and the file inputs of Filebeat, Fluent Bit
and Vector (which follow a file by inode and offset, and take a shrinking file for a new one)
read every event once. A page goes through three steps:

1. **stage**: the page is written to a side file (``.NAME.pending`` beside the sink, over the
   last page) and synced;
2. **commit**: the state records, in one transaction with the checkpoint, the sink length after
   the page and the page's size;
3. **publish**: the page is appended to the sink and fsynced.

Recovery on start compares the sink's size ``S`` with the committed length ``T`` and page size
``P``: a crash before (2) leaves ``S == T`` and a stale side file, which is ignored (the page is
fetched again: it was never visible); a crash during (3) leaves ``T - P <= S < T``, and the
missing ``T - S`` bytes are the end of the side file, appended now; ``S == T`` after (3). A sink
shorter than that or longer than ``T`` was changed by someone else (rotated, truncated, appended
to): it is never cut, a warning is logged and the job appends after what it holds.

One writer per sink: the sink is ``flock``-ed while a job has it open, and a marker beside it
(``.NAME.owner``) names the job state that writes it, so a second state pointed at the same sink
is refused even when the two never run at the same time (its recovery would otherwise act on the
other job's bytes). Standard output cannot be staged: across a crash it is at-least-once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from executor.jsonfast import dumps_lines

log = logging.getLogger("executor.job")


class SinkInUse(Exception):
    """Another job (another state) writes this sink."""


def encode_page(event_type: str, records: Sequence[Any], mapper: Callable[[Any], Any],
                attribution: Mapping[str, Any] | None = None) -> bytes:
    """A page's sink lines: ``{"event_type", **attribution, "fields", "raw"}`` per record
    (attribution: where the event came from, such as its tenant and connection; fields: the
    record mapped), UTF-8, newline-terminated: orjson, byte for byte the standard library's
    compact encoding for records decoded by :mod:`executor.jsonfast`."""
    head = {"event_type": event_type, **(attribution or {})}
    return dumps_lines({**head, "fields": mapper(record), "raw": record} for record in records)


class Sink(Protocol):
    @property
    def path(self) -> str | None:
        """The absolute path for a file sink (its committed length is kept in the state)."""
        ...

    def recover(self, committed: int | None, staged: int = 0) -> int | None:
        """Bring the sink to ``committed`` (see the module text); the length to record."""
        ...

    def stage(self, page: bytes) -> int | None:
        """Make the page (its lines) durable aside; the sink length once it is published."""
        ...

    def publish(self) -> None:
        """Append the staged page (after its commit)."""
        ...

    def discard(self) -> None:
        """Forget the staged page (its commit failed)."""
        ...

    @property
    def staged_size(self) -> int: ...

    def close(self) -> None: ...


class FileSink:
    def __init__(self, path: Path | str, *, owner: str | None = None) -> None:
        self.path = str(Path(path).resolve())
        directory, name = os.path.split(self.path)
        os.makedirs(directory, exist_ok=True)
        self.pending_path = os.path.join(directory, f".{name}.pending")
        self.owner_path = os.path.join(directory, f".{name}.owner")
        self._pending_fd = -1
        created = not os.path.exists(self.path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = -1
            raise SinkInUse("another job is writing this sink right now; give each job its own "
                            "--sink, or fetch several event types in one job (repeat "
                            "--event-type) with one --state") from None
        try:
            if owner is not None:
                self._claim(owner)
        except BaseException:
            self.close()
            raise
        if created:  # the new directory entry must survive a crash as well
            _fsync_dir(directory)
        self.length = os.fstat(self.fd).st_size
        self._staged = b""

    def _claim(self, owner: str) -> None:
        try:
            with open(self.owner_path, encoding="utf-8") as handle:
                recorded = handle.read().strip()
        except FileNotFoundError:
            recorded = ""
        if recorded and recorded != owner:
            raise SinkInUse(f"this sink belongs to another job state ({recorded}, recorded in "
                            f"{self.owner_path}); two states on one sink would cut or repeat "
                            "each other's events. Give each job its own --sink, or fetch "
                            "several event types in one job (repeat --event-type) with one "
                            "--state; remove the marker only if that other state is gone")
        if not recorded:
            with open(self.owner_path, "w", encoding="utf-8") as handle:
                handle.write(owner + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    @property
    def staged_size(self) -> int:
        return len(self._staged)

    def recover(self, committed: int | None, staged: int = 0) -> int:
        size = os.fstat(self.fd).st_size
        self._staged = b""
        if committed is None or size == committed:
            self.length = size  # a sink new to this state: append after what it holds
            return self.length
        if committed - staged <= size < committed:
            missing = committed - size
            tail = self._pending_tail(staged, missing)
            if tail is not None:
                log.info("sink %s: publishing the last %d bytes of a committed page (the job "
                         "stopped while appending it)", self.path, missing)
                self._append(tail)
                self.length = committed
                return self.length
        log.warning("sink %s was changed by someone else (%d bytes, %d committed): it is not "
                    "cut; the job appends after what it holds", self.path, size, committed)
        self.length = size
        return self.length

    def _pending_tail(self, staged: int, missing: int) -> bytes | None:
        try:
            with open(self.pending_path, "rb") as handle:
                page = handle.read()
        except OSError:
            return None
        if len(page) != staged or missing > len(page):
            return None
        return page[len(page) - missing:]

    def stage(self, page: bytes) -> int:
        self._staged = page
        if page:
            # Written over the last page in place, not truncated and allocated again (half the
            # cost); the file is only read when the state names a torn page of this very size.
            if self._pending_fd < 0:
                self._pending_fd = os.open(self.pending_path, os.O_WRONLY | os.O_CREAT, 0o640)
            _write_all(self._pending_fd, page, at=0)
            os.ftruncate(self._pending_fd, len(page))
            os.fdatasync(self._pending_fd)
        return self.length + len(page)

    def publish(self) -> None:
        if self._staged:
            self._append(self._staged)
            self.length += len(self._staged)
            self._staged = b""

    def discard(self) -> None:
        self._staged = b""

    def _append(self, data: bytes) -> None:
        _write_all(self.fd, data)
        os.fsync(self.fd)

    def close(self) -> None:
        if self._pending_fd >= 0:
            os.close(self._pending_fd)
            self._pending_fd = -1
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class StreamSink:
    """Standard output (or any binary stream); flushed per page, fsynced if it is a file."""

    path = None
    staged_size = 0

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def recover(self, committed: int | None, staged: int = 0) -> None:
        return None

    def stage(self, page: bytes) -> None:
        if page:
            self.stream.write(page)
            self.stream.flush()
            try:
                fd = self.stream.fileno()
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    os.fsync(fd)
            except (OSError, ValueError, AttributeError):
                pass
        return None

    def publish(self) -> None:
        return None

    def discard(self) -> None:
        return None

    def close(self) -> None:
        self.stream.flush()


def _write_all(fd: int, data: bytes, *, at: int | None = None) -> None:
    """All of ``data``, appended (or written from offset ``at``)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view) if at is None else os.pwrite(fd, view, at)
        view = view[written:]
        if at is not None:
            at += written


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fsync(fd)
    os.close(fd)
