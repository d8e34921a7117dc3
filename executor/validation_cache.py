"""Which manifest contents already passed their meta-schema, so that a load need not re-check.

Validating ``integration.yaml`` against its meta-schema costs ~85 ms, and parsing its YAML
~10 ms, paid by every process (every one-off ``run`` of a platform). The result depends only on
the manifest's text, the meta-schema and the jsonschema install, so a success is remembered
under the SHA-256 of the three, as the parsed manifest in JSON (key order kept) in a per-user
cache directory. Only a success is remembered: a broken manifest is parsed, validated and
refused with the same message at every load. The directory is used only if it belongs to the
current user and nobody else may write to it; anything unexpected (no home, read-only disk, a
foreign or shared directory, a torn file) means no cache, never a skipped check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

APP_DIR = "entra-id-protection"
DISABLE_ENV = "ENTRA_ID_PROTECTION_NO_CACHE"
"""Set (to anything non-empty) to validate at every load, remembering nothing."""


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/entra-id-protection/manifest-valid`` (or under ``~/.cache``)."""
    if os.environ.get(DISABLE_ENV):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory
            return None
    return Path(base) / APP_DIR / "manifest-valid"


def _private(directory: Path) -> bool:
    """The directory is ours alone: owned by us, not writable by group or others."""
    try:
        info = directory.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def content_key(manifest_text: str, meta_schema: Any, validator_file: str) -> str:
    """SHA-256 over the manifest's text, the meta-schema and the validator library's file."""
    digest = hashlib.sha256()
    digest.update(manifest_text.encode("utf-8"))
    digest.update(b"\0")
    digest.update(json.dumps(meta_schema, sort_keys=True).encode("utf-8"))
    digest.update(b"\0")
    with contextlib.suppress(OSError):  # a different jsonschema install: a different key
        info = os.stat(validator_file)
        validator_file = f"{validator_file}:{info.st_size}:{info.st_mtime_ns}"
    digest.update(validator_file.encode("utf-8"))
    return digest.hexdigest()


MISSING: Any = object()
"""What :func:`cached_manifest` returns for a manifest not remembered."""


def cached_manifest(key: str) -> Any:
    """The parsed manifest remembered under ``key``, or :data:`MISSING`."""
    directory = cache_dir()
    if directory is None or not _private(directory) or not _private(directory.parent):
        return MISSING
    path = directory / f"{key}.json"
    try:
        info = path.lstat()
        owned = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if not stat.S_ISREG(info.st_mode) or not owned:
            return MISSING
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # gone, unreadable or torn: validate as if never seen
        return MISSING


def remember(key: str, data: Any) -> None:
    """Remember a manifest that passed, as JSON (YAML's own types that JSON would change, such
    as dates, are not remembered). Best effort: a cache that cannot be written is no cache."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        text = json.dumps(data)  # insertion order kept: the manifest's order is meaningful
        if json.loads(text) != data:
            return
    except (TypeError, ValueError):
        return
    with contextlib.suppress(OSError):
        directory.parent.parent.mkdir(parents=True, exist_ok=True)
        for level in (directory.parent, directory):
            level.mkdir(mode=0o700, exist_ok=True)
        if not _private(directory) or not _private(directory.parent):
            return
        partial = directory / f"{key}.{os.getpid()}.tmp"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                     | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, directory / f"{key}.json")
