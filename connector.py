#!/usr/bin/env python3
"""Microsoft Entra ID Protection integration: the entry point a platform imports, and the CLI.

    python connector.py commands
    python connector.py run "List Risky Users" -i Top=5 --emulator
    python connector.py validate

A platform runtime uses :class:`Connector` instead of the command line.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

PLUGIN_DIR = Path(__file__).resolve().parent
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from executor import cli  # noqa: E402
from executor.plugin import Plugin  # noqa: E402


class Connector:
    """The plugin as a platform sees it: ``Connector.load(dir).run(command, inputs, conn)``."""

    def __init__(self, plugin: Plugin) -> None:
        self.plugin = plugin

    @classmethod
    def load(cls, plugin_dir: str | Path = PLUGIN_DIR, **kwargs: Any) -> Connector:
        from commands import registry

        return cls(Plugin(Path(plugin_dir), registry, **kwargs))

    def commands(self) -> list[dict[str, Any]]:
        return self.plugin.commands()

    def run(self, command: str, inputs: Mapping[str, Any] | None = None,
            connection: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The result object of SPEC §4 as a dict; never raises, never prints."""
        return self.plugin.run(command, inputs, connection, **kwargs).to_dict()


@contextlib.contextmanager
def embedded_emulator(seed: int = 42) -> Iterator[dict[str, Any]]:
    """A seeded emulator tenant on a free loopback port, for ``--emulator``."""
    from emulator import Emulator

    with Emulator(seed=seed) as emu:
        yield emu.connection()


def _emulator_verb(argv: list[str]) -> int:
    from emulator.cli import main as emulator_main

    return emulator_main(argv)


def _job_verb(argv: list[str]) -> int:
    from commands.job_cli import main as job_main

    return job_main(argv)


def _console_verb(argv: list[str]) -> int:
    from console.cli import main as console_main

    return console_main(argv, Connector.load, embedded_emulator)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, lambda: Connector.load().plugin, start_emulator=embedded_emulator,
                    fetch_command="fetch-event", description=__doc__.splitlines()[0],
                    extra_verbs={"emulator": _emulator_verb, "job": _job_verb,
                                 "console": _console_verb})


if __name__ == "__main__":
    sys.exit(main())
