"""The console's pure parts, without a browser: lag, groups, field errors, overrides."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from console.commands_view import command_group, command_views, invalid_field
from console.dashboard import describe_lag
from console.playground import clean_overrides

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("cursor", "shown"), [
    (None, "-"),
    ("not a time", "-"),
    ("2026-11-01T11:59:15Z", "45 s"),
    ("2026-11-01T11:48:30.1234567Z", "11 min 29 s"),
    ("2026-11-01T09:30:00Z", "2 h 30 min"),
    ("2026-10-29T10:00:00Z", "3 d 2 h"),
    ("2026-11-01T12:00:30Z", "ahead by 30 s"),
])
def test_lag_behind_now(cursor: str | None, shown: str) -> None:
    assert describe_lag(cursor, NOW) == shown


@pytest.mark.parametrize(("name", "group"), [
    ("List Service Principals", "Investigate"), ("Fetch Event", "Events"),
    ("Test Connection", "Connection"), ("Confirm Compromised", "Respond"),
    ("Dismiss Risky Service Principal", "Respond"),
])
def test_groups_follow_the_verb_of_any_command(name: str, group: str) -> None:
    assert command_group(SimpleNamespace(display_name=name)) == group


def test_a_manifest_group_wins() -> None:
    assert command_group(SimpleNamespace(display_name="List X", group="Triage")) == "Triage"


def test_an_invalid_input_message_finds_its_field(connector: Any) -> None:
    views = {v.id: v for v in command_views(connector.plugin.manifest)}
    fetch = views["fetch-event"]
    for field in fetch.fields:
        message = f"Invalid input '{field.label}': is wrong"
        assert invalid_field(fetch, message) == field.id
    assert invalid_field(fetch, "Invalid input 'Client ID': is required") is None
    assert invalid_field(fetch, "403 Forbidden") is None


def test_overrides_from_the_browser_keep_only_names_and_paths() -> None:
    sent = {"default": {"add": [{"name": "Risk Score", "path": ".riskLevel", "evil": 1},
                                {"name": "  ", "path": ".x"}, "nonsense"],
                        "remove": ["Browser", 3]},
            "risk_user": {"add": [], "remove": []}, 7: {"add": []}, "x": "y"}
    assert clean_overrides(sent) == {"default": {
        "add": [{"name": "Risk Score", "path": ".riskLevel"}], "remove": ["Browser"]}}
    assert clean_overrides(["not", "a", "mapping"]) == {}


def test_dead_letters_are_read_newest_first_from_the_jobs_file(tmp_path: Any) -> None:
    from console.dashboard import _dead_letters

    path = tmp_path / "job.db.dead-letters.ndjson"
    path.write_text('{"reason": "first"}\n{"reason": "second"}\nnot json\n', encoding="utf-8")
    letters = _dead_letters(SimpleNamespace(dead_letter_path=path))
    assert letters == [{"unreadable line": "not json"}, {"reason": "second"},
                       {"reason": "first"}]
    assert _dead_letters(SimpleNamespace(dead_letter_path=tmp_path / "none")) == []
    assert _dead_letters(SimpleNamespace()) is None  # a state without dead letters


def test_a_large_result_is_previewed_not_sent_whole() -> None:
    from console.results import MAX_JSON_CHARS, json_preview

    small = {"value": [1, 2]}
    assert json_preview(small) == (json.dumps(small, indent=2), len(json.dumps(small, indent=2)))
    big = {"value": ["x" * 1000] * 2000}
    preview, size = json_preview(big)
    assert len(preview) == MAX_JSON_CHARS and size == len(json.dumps(big, indent=2))


def test_mapped_events_are_tabled_by_field() -> None:
    from console.results import table_of

    events = [{"event_type": "signIn", "fields": {"User": "a", "IP": "1.2.3.4"}},
              {"event_type": "riskUser", "fields": {"User": "b", "Risk": ["x"]}}]
    [table] = table_of(events, "Events")
    assert table.columns == ["event_type", "User", "IP", "Risk"]
    assert table.rows == [["signIn", "a", "1.2.3.4", ""], ["riskUser", "b", "", '["x"]']]
