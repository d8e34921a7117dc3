"""Bytecode for the project's modules before a benchmark starts processes.

An installed plugin has its ``.pyc`` files (pip compiles them at install time), and a checkout
writes them on its first run, unless ``PYTHONDONTWRITEBYTECODE`` is set (as on some build
machines): then every process compiles every module of ours again from source, and a cold
start measured so says more about that setting than about the plugin. The dependencies in
``.venv`` were compiled by pip already.
"""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("commands", "executor", "emulator", "console")


def compile_project() -> None:
    for package in PACKAGES:
        if (ROOT / package).is_dir():
            compileall.compile_dir(ROOT / package, quiet=1)
