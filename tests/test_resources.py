"""Three independent readings of Graph's v1.0 resources must agree.

``commands/resources.py`` (Filter checks), ``schemas/common.json`` (Select enums) and the
emulator's own schema were each written from the CSDL; they share no code, so this test is what
keeps them from drifting apart.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from commands.resources import RESOURCES
from emulator.schema import SCHEMAS
from tests.conftest import ROOT

EMULATOR_NAMES = {"signIn": "signIns", "riskDetection": "riskDetections",
                  "riskyUser": "riskyUsers", "riskyUserHistoryItem": "history"}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_select_enums_list_the_resource_properties(resource: str) -> None:
    common = json.loads((ROOT / "schemas" / "common.json").read_text())
    select = common["$defs"][f"{resource}Properties"]["items"]["enum"]
    assert sorted(select) == sorted(RESOURCES[resource])


def _nested(props: dict[str, Any]) -> dict[str, Any]:
    """The emulator's types reduced to the same shape: name -> nested dict or a leaf."""
    out: dict[str, Any] = {}
    for name, kind in props.items():
        while isinstance(kind, tuple) and kind[0] == "collection":
            kind = kind[1]
        out[name] = _nested(kind[1]) if isinstance(kind, tuple) and kind[0] == "complex" else 1
    return out


def _shape(props: dict[str, Any]) -> dict[str, Any]:
    return {k: _shape(v) if isinstance(v, dict) else 1 for k, v in props.items()}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_filter_properties_match_the_emulators_v1_schema(resource: str) -> None:
    emulator = _nested(SCHEMAS[(EMULATOR_NAMES[resource], "v1.0")].props)
    assert _shape(RESOURCES[resource]) == emulator
