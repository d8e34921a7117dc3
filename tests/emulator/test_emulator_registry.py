"""The resource table is assembled from emulator/collections/: one module per collection, and
no other emulator module names a collection (SPEC §9's table-driven emulator, issue 9 item 6)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import emulator
from emulator import collections as collection_modules
from emulator.resources import COLLECTIONS

EMULATOR_DIR = Path(emulator.__file__).parent


def test_every_collection_module_is_in_the_table_once() -> None:
    declared = []
    for info in pkgutil.iter_modules(collection_modules.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"emulator.collections.{info.name}")
            declared.append(module.COLLECTION.name)
    assert sorted(declared) == sorted(COLLECTIONS)
    assert len(declared) == len(set(declared))


def test_the_table_serves_the_documented_paths() -> None:
    """The collections docs/fidelity.md lists (facts §1.1), not the discovery's own output."""
    paths = set()
    for spec in COLLECTIONS.values():
        owner = COLLECTIONS[spec.parent].segment + "/{id}/" if spec.parent else ""
        paths.add(f"/{spec.service}/{owner}{spec.segment}")
    assert paths == {
        "/auditLogs/signIns",
        "/identityProtection/riskDetections",
        "/identityProtection/riskyUsers",
        "/identityProtection/riskyUsers/{id}/history",
        "/identityProtection/riskyServicePrincipals",
        "/identityProtection/riskyServicePrincipals/{id}/history",
        "/identityProtection/servicePrincipalRiskDetections",
    }
    assert {s.segment for s in COLLECTIONS.values() if s.beta_root} == {
        "riskyUsers", "riskDetections"}


def test_no_module_outside_collections_names_a_collection() -> None:
    quoted = re.compile("|".join(rf"[\"']{re.escape(name)}[\"']" for name in COLLECTIONS))
    offenders = []
    for path in EMULATOR_DIR.glob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if quoted.search(line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_children_and_parents_point_at_each_other() -> None:
    for spec in COLLECTIONS.values():
        if spec.child is not None:
            assert COLLECTIONS[spec.child].parent == spec.name
        if spec.parent is not None:
            assert COLLECTIONS[spec.parent].child == spec.name
            assert spec.parent_key in spec.widest.props
