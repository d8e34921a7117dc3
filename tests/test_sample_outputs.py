"""sample_outputs/: one per command, valid against its output schema, free of secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from executor.redaction import variants
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def seeded_secrets() -> list[str]:
    """The secrets of the emulator tenant the samples were made from (demo.py, seed 42)."""
    from emulator import Emulator

    with Emulator(seed=42, signins=10) as emu:
        return [emu.connection(app=app)["client_secret"] for app in ("full", "readonly")]


def test_every_command_has_a_sample_that_matches_its_schema(connector: Any) -> None:
    plugin = connector.plugin
    for command in plugin.manifest.commands:
        sample = json.loads((ROOT / "sample_outputs" / f"{command.id}.json").read_text())
        assert sample["command"] == command.display_name
        assert sample["status"] == "Successful"
        assert plugin.store.first_error(command.output_schema, sample) is None, command.id


def test_samples_hold_no_secret_and_no_token(seeded_secrets: list[str]) -> None:
    forms = {form for secret in seeded_secrets for form in variants(secret)}
    for path in sorted((ROOT / "sample_outputs").glob("*.json")):
        text = path.read_text()
        assert not any(form in text for form in forms), path.name
        assert "eyJ" not in text and "Bearer" not in text, path.name


def test_fetch_event_sample_carries_mapped_events() -> None:
    sample = json.loads((ROOT / "sample_outputs" / "fetch-event.json").read_text())
    raw = sample["raw_data"]["value"]
    assert len(sample["events"]) == len(raw) > 0
    for event, mapped in zip(raw, sample["events"], strict=True):
        assert mapped["event_type"] == event["eventType"] == "signIn"
        assert mapped["fields"]["Unique_Event_Key"] == event["id"]
        assert mapped["fields"]["Start_Time"] == event["createdDateTime"]
