"""``python -m tests.job.crashing_job N ARGS...``: the job CLI (``commands.job_cli``) that
SIGKILLs itself at the two instants of a page a kill from outside hits only by luck:

- ``N``: just before its N-th page commit, after the page was staged (side file fsynced);
- ``pN``: while publishing its N-th page, after the commit, with half the page appended.

The chaos tests use both, and kills from outside."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from executor.job.sink import FileSink
from executor.job.state import StateStore


def main(argv: list[str]) -> int:
    during_publish = argv[0].startswith("p")
    limit = int(argv[0].lstrip("p"))
    real_commit = StateStore.commit
    real_append = FileSink._append
    pages = {"n": 0}

    def commit(self: StateStore, *args: Any, **kwargs: Any) -> None:
        step = args[2]
        if step.fresh:
            pages["n"] += 1
            if pages["n"] >= limit and not during_publish:
                os.kill(os.getpid(), signal.SIGKILL)
        real_commit(self, *args, **kwargs)

    def append(self: FileSink, data: bytes) -> None:
        if pages["n"] >= limit and during_publish:
            real_append(self, data[:len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        real_append(self, data)

    StateStore.commit = commit  # type: ignore[method-assign]
    FileSink._append = append  # type: ignore[method-assign]
    from commands.job_cli import main as job_main

    return job_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
