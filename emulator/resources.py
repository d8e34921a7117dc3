"""The emulator's resource table, assembled from the modules under emulator/collections/.

Routing, role checks, paging limits, default order, the control API's resource names, the app
registrations' roles and the seeded stores all read this table; adding a collection means
adding one module under emulator/collections/ (see that package's docstring).
"""

from __future__ import annotations

import importlib
import pkgutil

from emulator import collections as _package
from emulator.spec import AUDIT_LOGS, IDENTITY_PROTECTION, Action, Collection

__all__ = ["AUDIT_LOGS", "COLLECTIONS", "IDENTITY_PROTECTION", "NAMES", "TOP_LEVEL", "Action",
           "Collection"]


def _discover() -> list[Collection]:
    specs = []
    for info in pkgutil.iter_modules(_package.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{_package.__name__}.{info.name}")
            specs.append(module.COLLECTION)
    specs.sort(key=lambda c: c.name)
    names = [c.name for c in specs]
    if len(set(n.lower() for n in names)) != len(names):
        raise RuntimeError(f"emulator collections: names must be unique: {names}")
    by_name = {c.name: c for c in specs}
    for c in specs:
        if c.child is not None and getattr(by_name.get(c.child), "parent", None) != c.name:
            raise RuntimeError(f"emulator collection {c.name}: child {c.child} must name it as "
                               "its parent")
        if c.parent is not None and (c.parent_key is None or c.parent not in by_name):
            raise RuntimeError(f"emulator collection {c.name}: parent {c.parent} unknown or "
                               "no parent_key")
    return specs


#: The table, by name.
COLLECTIONS: dict[str, Collection] = {c.name: c for c in _discover()}

#: Collections directly under /identityProtection, by lower-case URL segment.
TOP_LEVEL = {c.segment.lower(): c for c in COLLECTIONS.values()
             if c.service == IDENTITY_PROTECTION and c.parent is None}
#: Collections under /auditLogs, by lower-case URL segment.
AUDIT_LOGS_TOP = {c.segment.lower(): c for c in COLLECTIONS.values()
                  if c.service == AUDIT_LOGS and c.parent is None}
#: Top-level collections beta also serves at /beta/{segment}, by lower-case segment.
BETA_ROOT = {segment: c for segment, c in TOP_LEVEL.items() if c.beta_root}
#: The control API's resource names (lower-case -> canonical).
NAMES = {name.lower(): name for name in COLLECTIONS}

#: Application permissions: every read role a collection names (least privilege, no
#: ReadWrite) plus Directory.Read.All, and the write roles its actions need.
READ_ROLES = tuple(sorted({"Directory.Read.All"} | {
    role for c in COLLECTIONS.values() for role in c.read_roles if ".ReadWrite." not in role}))
WRITE_ROLES = tuple(sorted({role for c in COLLECTIONS.values() for role in c.write_roles}))
