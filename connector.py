#!/usr/bin/env python3
"""Microsoft Entra ID Protection integration: the entry point a platform imports, and the CLI.

    python connector.py commands                  (or, installed: entra-id-protection commands)
    python connector.py run "List Risky Users" -i Top=5 --emulator
    python connector.py validate

A platform runtime uses :class:`Connector` instead of the command line. Installed as a wheel,
this directory is the package ``entra_id_protection`` and the console script
``entra-id-protection`` calls :func:`main`; either way the directory goes on ``sys.path``, so the
code inside imports ``executor``, ``commands`` and ``emulator`` as it does in a clone.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

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


# Each verb's help epilog ("" is the top level's); %(prog)s stands for the program's name.
CLI_EXAMPLES = {
    "": """examples:
  %(prog)s commands --details
  %(prog)s run "List Risky Users" -i Top=5 --emulator
  %(prog)s fetch -i "Event Type=Risk Detections" --connection tenant.yaml
  %(prog)s map < saved-response.json
  %(prog)s validate --connection tenant.yaml""",
    "commands": """examples:
  %(prog)s                               every command, its id and inputs
  %(prog)s --details "List Risky Users"  each input: required, allowed values, default, example
  %(prog)s --details --output json       all of it, for a script""",
    "validate": """examples:
  %(prog)s                                         the plugin itself: manifest, schemas,
                                                   field mappings, sample outputs
  %(prog)s --mappings mine.yaml --connection tenant.yaml --sample saved.json
                                                   your own files, offline, with the
                                                   field coverage of your sample""",
    "run": """examples:
  %(prog)s "List Risky Users" -i Top=5 --emulator
  %(prog)s "List Risky Users" -i "Filter=riskLevel eq 'high'" --connection tenant.yaml
  %(prog)s list-history -i "Risky User ID=<guid>" --connection tenant.yaml --output json
  %(prog)s "Confirm Compromised" --inputs inputs.yaml --connection tenant.yaml""",
    "fetch": """examples:
  %(prog)s -i "Event Type=Risk Detections" --emulator          one mapped event per line
  %(prog)s -i "Event Type=Sign-in Logs" -i "Start Time=2024-04-15T01:00:00Z" \\
      --connection tenant.yaml --output table""",
    "map": """examples:
  %(prog)s --event-type "Sign-in Logs" < saved-response.json
  %(prog)s saved-result.json                  a saved run/fetch result maps its raw_data
  %(prog)s --mappings mine.yaml events.ndjson  one event per line, with your overrides
accepts a list response {"value": [...]}, a saved result object, an array of events, one event
or NDJSON; events are read and written one at a time (memory does not grow with the input).""",
}


CONSOLE_SCRIPT = "entra-id-protection"
"""The command ``pip install`` puts on PATH; it runs :func:`main` of this file."""


def _prog() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return CONSOLE_SCRIPT if name.startswith(CONSOLE_SCRIPT) else "connector.py"


def _console_verb(argv: list[str]) -> int:
    from console.cli import main as console_main

    return console_main(argv, Connector.load, embedded_emulator)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, lambda: Connector.load().plugin, start_emulator=embedded_emulator,
                    fetch_command="fetch-event", description=__doc__.splitlines()[0],
                    extra_verbs={"emulator": _emulator_verb, "job": _job_verb,
                                 "console": _console_verb},
                    prog=_prog(), version=__version__, examples=CLI_EXAMPLES)


def process_main() -> int:
    """:func:`main` for a process of its own (``python connector.py``, the console script)."""
    code = main()
    _before_exit()
    return code


def _before_exit() -> None:
    """The process ends next. Garbage is collected once, normally (finalisers run), and what is
    left is frozen: the interpreter's finalisation then does not walk the ~40,000 objects the
    imports made in each of its collections (~20 ms of a ``run --emulator``). Never done for a
    platform that imports this module and calls :func:`main`."""
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(process_main())
