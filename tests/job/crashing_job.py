"""``python -m tests.job.crashing_job N ARGS...``: the job CLI (``commands.job_cli``) that
SIGKILLs itself just before its N-th page commit, after the sink has fsynced that page: the one
instant where a file sink holds events the checkpoint does not. A kill from outside lands there
only by luck; the chaos test uses both."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from executor.job.state import StateStore


def main(argv: list[str]) -> int:
    limit = int(argv[0])
    real_commit = StateStore.commit
    pages = {"n": 0}

    def commit(self: StateStore, *args: Any, **kwargs: Any) -> None:
        step = args[2]
        if step.fresh:
            pages["n"] += 1
            if pages["n"] >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
        real_commit(self, *args, **kwargs)

    StateStore.commit = commit  # type: ignore[method-assign]
    from commands.job_cli import main as job_main

    return job_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
