"""The dead-letter file: records the job cannot deliver, each filed once, kept with the reason.

A record without an id, without its cursor field, with a time that is not a time, or that is not
an object at all cannot be keyed: delivered, it would come again every cycle or collapse with
another. It goes here instead, one JSON line each (``{"at", "connection", "event_type",
"reason", "key", "record"}``), and the source goes on.

Filed once: lines are fsynced before the page's commit, and the state remembers each dead
letter's key with that commit. A crash between the two serves the record again after the restart;
its key is then found in the file itself (read once per process; one job writes a state's file,
under the state's lock), so the line is not written a second time. A line cut short by a crash is
ended with a newline before the next is appended, never merged with it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class DeadLetterFile:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._filed: set[tuple[str, str, str]] | None = None
        self._open_line = False

    def write(self, connection: str, source: str, letters: Sequence[Any]) -> None:
        """Append the letters not in the file yet (``letter.key``, ``.reason``, ``.record``)."""
        filed = self._already_filed()
        letters = [letter for letter in letters if (connection, source, letter.key) not in filed]
        if not letters:
            return
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        data = b"".join(json.dumps({"at": at, "connection": connection, "event_type": source,
                                    "reason": letter.reason, "key": letter.key,
                                    "record": letter.record},
                                   ensure_ascii=False, default=str).encode() + b"\n"
                        for letter in letters)
        if self._open_line:
            data = b"\n" + data
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        self._open_line = False
        filed.update((connection, source, letter.key) for letter in letters)

    def _already_filed(self) -> set[tuple[str, str, str]]:
        """(connection, event type, key) of every complete line in the file, read once."""
        if self._filed is not None:
            return self._filed
        filed: set[tuple[str, str, str]] = set()
        try:
            with self.path.open("rb") as file:
                for line in file:
                    self._open_line = not line.endswith(b"\n")
                    if self._open_line:
                        break  # cut short by a crash: not filed
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                        filed.add((str(entry.get("connection")), str(entry.get("event_type")),
                                   entry["key"]))
        except FileNotFoundError:
            pass
        self._filed = filed
        return filed
