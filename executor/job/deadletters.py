"""The dead-letter file: records the job cannot deliver exactly once, kept with the reason.

A record without an id, without its cursor field, with a time that is not a time, or that is not
an object at all cannot be keyed: delivered, it would come again every cycle or collapse with
another. It goes here instead, one JSON line each (``{"at", "connection", "event_type",
"reason", "record"}``), and the source goes on. Lines are fsynced before the page's commit, and
the state remembers each dead letter's key, so a record served again is not filed again (a crash
between the two may file one line twice: this file is for people, not for exactly-once).
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

    def write(self, connection: str, source: str, letters: Sequence[Any]) -> None:
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        data = b"".join(json.dumps({"at": at, "connection": connection, "event_type": source,
                                    "reason": letter.reason, "record": letter.record},
                                   ensure_ascii=False, default=str).encode() + b"\n"
                        for letter in letters)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
