"""Load errors name the file, the field and what is wrong; nothing half-loads silently."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from executor.mapping import MappingError, MappingSet, read_overrides

WriteDir = Callable[..., Path]

GOOD = [{"name": "Id", "path": ".id"}]
RISK = ("{$.eventType}=riskDetection", [{"name": "Severity", "path": ".riskLevel"}])


def problems_of(directory: Path, overrides: Any = None, **options: Any) -> list[str]:
    with pytest.raises(MappingError) as raised:
        MappingSet.load(directory, overrides, **options)
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            {"name": "Bad", "path": ".a["},
            "field 'Bad': malformed path '.a['",
            id="unclosed-bracket",
        ),
        pytest.param(
            {"name": "Bad", "path": ".a..", "type": "list"},
            "field 'Bad': malformed path '.a..'",
            id="dangling-descent",
        ),
        pytest.param(
            {"name": "Bad", "path": ".a[?(@.x==)]"}, "field 'Bad': malformed path", id="bad-filter"
        ),
        pytest.param(
            {"name": "Bad", "path": ".名前"},
            "field 'Bad': malformed path '.名前'",
            id="unquoted-unicode",
        ),
        pytest.param(
            {"name": "Bad", "path": "$.id"},
            "field 'Bad': malformed path '$.id': path must be relative",
            id="absolute",
        ),
        pytest.param(
            {"name": "Bad", "path": "id"},
            "field 'Bad': malformed path 'id': path must start with '.'",
            id="no-dot",
        ),
        pytest.param(
            {"name": "Bad", "path": ""}, "field 'Bad': malformed path ''", id="empty-path"
        ),
        pytest.param(
            {"name": "Bad", "path": 3}, "field 'Bad': path must be a string", id="path-not-string"
        ),
        pytest.param({"name": "Bad"}, "field 'Bad': path must be a string", id="path-missing"),
        pytest.param(
            {"name": "Bad", "pth": ".id", "path": ".id"},
            "field 'Bad': unknown key 'pth'",
            id="typo-key",
        ),
        pytest.param(
            {"name": "Bad", "path": ".id", "type": "string"},
            "field 'Bad': unknown type 'string'",
            id="bad-type",
        ),
        pytest.param(
            {"name": "Bad", "path": ".id", "values": ["a"]},
            "field 'Bad': values must be a mapping",
            id="values-list",
        ),
        pytest.param(
            {"name": "Bad", "path": ".id", "values": {None: "x"}},
            "field 'Bad': values: key None is not a string, number or boolean",
            id="values-null-key",
        ),
        pytest.param(
            {"name": "Bad", "path": ".ip", "reference_path": ".kvp"},
            "field 'Bad': reference_path and beta_only need a reason",
            id="no-reason",
        ),
        pytest.param(
            {"name": "Bad", "path": ".t", "beta_only": "yes", "reason": "r"},
            "field 'Bad': beta_only must be true or false",
            id="beta-only-not-bool",
        ),
        pytest.param(
            {"name": "", "path": ".id"},
            "field '#2': name must be a non-empty string",
            id="empty-name",
        ),
        pytest.param(
            "just text", "field '#2': must be a mapping with name and path", id="entry-not-mapping"
        ),
        pytest.param(
            {"name": "Id", "path": ".other"}, "field 'Id': duplicate name", id="duplicate-name"
        ),
        pytest.param(
            {"name": "I d", "path": ".x"},
            "field 'I d': duplicate name: System Name 'I_d'",
            id="duplicate-system-name",
        ),
    ],
)
def test_bad_field_names_file_and_field(write_dir: WriteDir, entry: Any, message: str) -> None:
    default = [{"name": "I_d" if "I d" in str(entry) else "Id", "path": ".id"}, entry]
    directory = write_dir(default)
    problems = problems_of(directory)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{directory / 'default.yaml'}: {message}")


@pytest.mark.parametrize(
    ("search_string", "message"),
    [
        pytest.param(
            "$.eventType=riskDetection", "is not of the form '{$.path}=value'", id="no-braces"
        ),
        pytest.param("{$.eventType}", "is not of the form", id="no-equals"),
        pytest.param("{$.eventType}=", "has no value after '='", id="no-value"),
        pytest.param("{$.event[}=x", "malformed path '$.event['", id="bad-path"),
        pytest.param(12, "search string must be a string", id="not-a-string"),
    ],
)
def test_bad_search_string_names_the_file(
    write_dir: WriteDir, search_string: Any, message: str
) -> None:
    directory = write_dir(GOOD, {"risk_detection": (search_string, RISK[1])})
    problems = problems_of(directory)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{directory / 'risk_detection.yaml'}: malformed search_string: ")
    assert message in problems[0]


def test_two_sources_with_the_same_search_string(write_dir: WriteDir) -> None:
    directory = write_dir(GOOD, {"a": RISK, "b": ("{$.eventType} = riskDetection", RISK[1])})
    assert problems_of(directory) == [
        f"{directory / 'b.yaml'}: search string '{{$.eventType}} = riskDetection' selects the same "
        f"events as {directory / 'a.yaml'}"
    ]


def test_source_level_problems(write_dir: WriteDir) -> None:
    directory = write_dir(GOOD, {"risk_detection": RISK})
    (directory / "risk_detection.yaml").write_text(
        'id: wrong\nname: ""\nsearch_string: "{$.eventType}=x"\nmain_event_json_path: "$.value"\n'
        "colour: blue\nfields: []\n"
    )
    label = directory / "risk_detection.yaml"
    assert problems_of(directory) == [
        f"{label}: unknown key 'colour'",
        f"{label}: id must be the file's name 'risk_detection', got 'wrong'",
        f"{label}: name must be a non-empty string",
        f"{label}: needs exactly one of main_event_json_path (Default) or search_string",
    ]


def test_yaml_syntax_error_names_the_file(write_dir: WriteDir) -> None:
    directory = write_dir(GOOD)
    (directory / "default.yaml").write_text("id: default\nfields: [\n")
    problems = problems_of(directory)
    assert problems[0].startswith(f"{directory / 'default.yaml'}: cannot be read as YAML: ")
    assert "line 3" in problems[0]


def test_no_default_and_two_defaults(write_dir: WriteDir, tmp_path: Path) -> None:
    directory = write_dir(GOOD, {"risk_detection": RISK})
    (directory / "default.yaml").unlink()
    assert problems_of(directory) == [
        f"{directory}: exactly one source must have main_event_json_path (the Default), "
        "found: none of the files"
    ]
    (directory / "other.yaml").write_text(
        'id: other\nname: "Other"\nmain_event_json_path: "$.value"\nfields: []\n'
    )
    (directory / "more.yaml").write_text(
        'id: more\nname: "More"\nmain_event_json_path: "$.items"\nfields: []\n'
    )
    assert (
        "found: " + f"{directory / 'more.yaml'}, {directory / 'other.yaml'}"
        in problems_of(directory)[0]
    )


def test_empty_directory(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: no *.yaml mapping files found"]


def test_malformed_main_event_json_path(write_dir: WriteDir) -> None:
    directory = write_dir(GOOD)
    text = (directory / "default.yaml").read_text().replace("$.value", "value")
    (directory / "default.yaml").write_text(text)
    assert problems_of(directory) == [
        f"{directory / 'default.yaml'}: malformed main_event_json_path: "
        "path must start with '$', got 'value'"
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"defualt": {"remove": ["Id"]}},
            "unknown source 'defualt' (known: default, risk_detection)",
            id="unknown-source",
        ),
        pytest.param(
            {"default": {"remove": ["Browser"]}},
            "field 'Browser': cannot remove: default",
            id="remove-missing",
        ),
        pytest.param(
            {"risk_detection": {"remove": ["Id"]}},
            "field 'Id': cannot remove: risk_detection",
            id="remove-from-wrong-source",
        ),
        pytest.param(
            {"default": {"add": [{"name": "X", "path": ".a["}]}},
            "field 'X': malformed path '.a['",
            id="add-bad-path",
        ),
        pytest.param(
            {"default": {"add": [{"name": "X", "path": ".x", "beta_only": False}]}},
            "field 'X': unknown key 'beta_only'",
            id="add-builtin-only-key",
        ),
        pytest.param(
            {"default": {"add": [{"name": "X", "path": ".a"}, {"name": "X", "path": ".b"}]}},
            "field 'X': duplicate name: System Name '__X'",
            id="add-twice",
        ),
        pytest.param(
            {"default": {"drop": ["Id"]}},
            "default: unknown key 'drop' (known: add, remove)",
            id="unknown-change",
        ),
        pytest.param(
            {"default": {"add": {"name": "X"}}},
            "default: add must be a list of fields",
            id="add-not-list",
        ),
        pytest.param(
            {"default": {"remove": "Id"}},
            "default: remove must be a list of Field Names",
            id="remove-not-list",
        ),
        pytest.param(
            {"default": ["Id"]},
            "default: must be a mapping with add and/or remove",
            id="change-not-mapping",
        ),
        pytest.param(
            ["default"], "overrides must be a mapping of source id to add/remove", id="not-mapping"
        ),
    ],
)
def test_bad_overrides_name_the_overrides_file(
    write_dir: WriteDir, overrides: Any, message: str
) -> None:
    directory = write_dir(GOOD, {"risk_detection": RISK})
    problems = problems_of(directory, overrides, overrides_file="my-mappings.yaml")
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"my-mappings.yaml: {message}")


def test_every_problem_is_reported_at_once(write_dir: WriteDir) -> None:
    directory = write_dir(
        [{"name": "A", "path": ".a["}, {"name": "B", "path": "b"}, {"name": "C", "path": ".c"}]
    )
    problems = problems_of(directory, {"default": {"remove": ["Z"]}})
    assert [p.split(": ")[1] for p in problems] == ["field 'Z'", "field 'A'", "field 'B'"]


def test_error_message_lists_the_problems(write_dir: WriteDir) -> None:
    directory = write_dir([{"name": "A", "path": ".a["}])
    with pytest.raises(MappingError) as raised:
        MappingSet.load(directory)
    assert str(raised.value).splitlines()[0] == "1 problem in field mappings:"
    assert (
        str(raised.value)
        .splitlines()[1]
        .startswith(f"  {directory / 'default.yaml'}: field 'A': malformed path")
    )


def test_lenient_load_keeps_the_good_fields_and_the_problems(write_dir: WriteDir) -> None:
    directory = write_dir(
        [{"name": "A", "path": ".a["}, {"name": "C", "path": ".c"}],
        {"risk_detection": ("{nope", RISK[1])},
    )
    mappings = MappingSet.load(directory, strict=False)
    assert [f.name for f in mappings.default.fields] == ["C"]
    assert [s.id for s in mappings.sources] == ["default"]
    assert [p.field for p in mappings.problems] == ["A", None]
    assert mappings.map_event({"a": 1, "c": 2, "eventType": "riskDetection"}) == {"C": 2}
    report = mappings.coverage([{"value": [{"c": 1}]}])
    assert [str(p) for p in report.problems] == [str(p) for p in mappings.problems]


def test_read_overrides(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(
        'default:\n  add:\n    - {name: "Risk Score", path: ".riskLevel"}\n  remove: ["Browser"]\n'
    )
    assert read_overrides(path) == {
        "default": {"add": [{"name": "Risk Score", "path": ".riskLevel"}], "remove": ["Browser"]}
    }
    path.write_text("default: [\n")
    with pytest.raises(MappingError) as raised:
        read_overrides(path)
    assert str(raised.value.problems[0]).startswith(f"{path}: cannot be read as YAML")
    with pytest.raises(MappingError):
        read_overrides(tmp_path / "missing.yaml")
