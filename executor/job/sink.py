"""Where events go: an NDJSON file (exactly once) or standard output.

A file sink makes each page durable before the checkpoint moves: the lines are written in one
piece, then ``fsync``; its length after the page is committed with the checkpoint. On start it
is cut back to the last committed length, which removes a page written just before a crash and
never checkpointed (that page is fetched again). Standard output cannot be cut back, so across a
crash it is at-least-once: the page in flight at the crash may be written again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO, Protocol

log = logging.getLogger("executor.job")


def encode(event_type: str, fields: Any, raw: Any) -> bytes:
    """One sink line: ``{"event_type", "fields", "raw"}``, UTF-8, newline-terminated."""
    line = json.dumps({"event_type": event_type, "fields": fields, "raw": raw},
                      ensure_ascii=False, separators=(",", ":"), default=str)
    return line.encode("utf-8") + b"\n"


class Sink(Protocol):
    path: str | None
    """The absolute path for a file sink (its committed length is kept in the state)."""

    def recover(self, committed: int | None) -> int | None:
        """Cut the sink back to ``committed``; return the length to record (None: untracked)."""
        ...

    def write(self, lines: list[bytes]) -> int | None:
        """Take the lines durably; return the committed length after them."""
        ...

    def close(self) -> None: ...


class FileSink:
    def __init__(self, path: Path | str) -> None:
        self.path = str(Path(path).resolve())
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        created = not os.path.exists(self.path)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        if created:  # the new directory entry must survive a crash as well
            _fsync_dir(directory)
        self.length = os.fstat(self.fd).st_size

    def recover(self, committed: int | None) -> int:
        size = os.fstat(self.fd).st_size
        if committed is None:
            self.length = size  # a sink new to this state: append after what it holds
        elif size > committed:
            log.warning("sink %s: cutting %d bytes written after the last checkpoint",
                        self.path, size - committed)
            os.ftruncate(self.fd, committed)
            os.fsync(self.fd)
            self.length = committed
        elif size < committed:
            log.warning("sink %s is shorter than its committed length (%d < %d): rotated or "
                        "cut by someone else; appending from its end", self.path, size,
                        committed)
            self.length = size
        else:
            self.length = size
        return self.length

    def write(self, lines: list[bytes]) -> int:
        if lines:
            data = memoryview(b"".join(lines))
            size = len(data)
            try:
                while data:
                    written = os.write(self.fd, data)
                    data = data[written:]
                os.fsync(self.fd)
            except OSError:
                # Disk full, I/O error: take back what part of the page got in, so the next
                # page starts on a line of its own and the committed length stays true.
                with contextlib.suppress(OSError):  # else recover() cuts it on the next start
                    os.ftruncate(self.fd, self.length)
                raise
            self.length += size
        return self.length

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class StreamSink:
    """Standard output (or any binary stream); flushed per page, fsynced if it is a file."""

    path = None

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout.buffer

    def recover(self, committed: int | None) -> None:
        return None

    def write(self, lines: list[bytes]) -> None:
        if lines:
            self.stream.write(b"".join(lines))
            self.stream.flush()
            try:
                fd = self.stream.fileno()
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    os.fsync(fd)
            except (OSError, ValueError, AttributeError):
                pass
        return None

    def close(self) -> None:
        self.stream.flush()


def open_sink(target: str) -> FileSink | StreamSink:
    return StreamSink() if target == "-" else FileSink(target)


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
