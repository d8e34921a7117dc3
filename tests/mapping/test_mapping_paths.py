"""Paths: what compiles to direct getters, and that every fast route agrees with jsonpath-ng.

The reference behaviour is jsonpath-ng's own reading of `$` + path, with field steps walking
through arrays. Three property tests hold the fast routes to it: the small parser for plain
chains, the step evaluator, and the generated mapper.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from executor.mapping import compile_path
from executor.mapping.codegen import build_mapper, generate_source, map_generic
from executor.mapping.jsonpath_adapter import _walking, find_values, parse_expression, plain_steps
from executor.mapping.model import FieldMapping
from executor.mapping.paths import FIELD, INDEX, WILDCARD, PathSyntaxError, collect, parse_plain
from executor.mapping.results import ValuesTable

REPO = Path(__file__).resolve().parents[2]

PROPERTY = settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        (".deviceDetail.deviceId", ((FIELD, "deviceDetail"), (FIELD, "deviceId"))),
        (".riskEventTypes_v2", ((FIELD, "riskEventTypes_v2"),)),
        (".a[0].b", ((FIELD, "a"), (INDEX, 0), (FIELD, "b"))),
        (".a[-1]", ((FIELD, "a"), (INDEX, -1))),
        (".a[*]", ((FIELD, "a"), (WILDCARD, None))),
        (".a.*", ((FIELD, "a"), (WILDCARD, None))),
        ("['@odata.type']", ((FIELD, "@odata.type"),)),
        ('.a["b c"]', ((FIELD, "a"), (FIELD, "b c"))),
        (".a-b", ((FIELD, "a-b"),)),  # jsonpath-ng reads it as one name; still a direct getter
        ('."名前"', ((FIELD, "名前"),)),
        (".a[ 0 ]", ((FIELD, "a"), (INDEX, 0))),
    ],
)
def test_plain_chains_become_direct_getters(text: str, steps: tuple[Any, ...]) -> None:
    path = compile_path(text)
    assert path.is_plain
    assert path.steps == steps


@pytest.mark.parametrize(
    ("text", "guard_key"),
    [
        (".networkLocationDetails..networkNames[*]", "networkLocationDetails"),
        (".networkLocationDetails..networkType", "networkLocationDetails"),
        ("..networkType", None),
        (".kvp_info[?(@.key.text=='json.source_address')].value.text", "kvp_info"),
        (".a[1:3]", "a"),
        (".a['b','c']", "a"),
        (".a[0,1]", "a"),
    ],
)
def test_other_paths_keep_jsonpath_ng(text: str, guard_key: str | None) -> None:
    path = compile_path(text)
    assert not path.is_plain
    assert path.guard_key == guard_key


def test_guard_key_skips_jsonpath_ng_without_changing_the_answer() -> None:
    path = compile_path(".networkLocationDetails..networkType")
    assert path.find({"other": {"networkLocationDetails": [{"networkType": "x"}]}}) == []
    assert path.find({"networkLocationDetails": [{"networkType": "x"}]}) == ["x"]
    assert path.find([{"networkLocationDetails": {"networkType": "y"}}]) == ["y"]


@pytest.mark.parametrize("text", [".a[", "$.a", "a", "", "   ", ".a b", ".where"])
def test_malformed_paths(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_path(text)


def test_import_is_cheap_and_plain_mappings_never_import_jsonpath_ng(tmp_path: Any) -> None:
    (tmp_path / "default.yaml").write_text(
        'id: default\nname: "D"\nmain_event_json_path: "$.value"\n'
        'fields:\n  - {name: "A", path: ".a.b[0]"}\n  - {name: "B", path: ".c[*]"}\n'
    )
    script = (
        "import sys\n"
        "import executor.mapping as m\n"
        "print(sorted(x for x in ('yaml', 'jsonpath_ng') if x in sys.modules))\n"
        f"s = m.MappingSet.load({str(tmp_path)!r})\n"
        "print(s.map_event({'a': {'b': [1]}, 'c': [2, 3]}))\n"
        "print(sorted(x for x in ('yaml', 'jsonpath_ng') if x in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["[]", "{'A': 1, 'B': [2, 3]}", "['yaml']"]


# Property 1: the small parser reads plain chains exactly as jsonpath-ng does.

NAMES = st.one_of(
    st.sampled_from(["a", "b", "_x", "id", "where", "wherenot", "true", "null", "A1", "value"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
)
QUOTED = st.text(
    st.characters(blacklist_characters="'\"\\", blacklist_categories=["Cs"]), max_size=6
)
SEGMENTS = st.one_of(
    NAMES.map(lambda name: "." + name),
    st.integers(-3, 12).map(lambda index: f"[{index}]"),
    st.just("[*]"),
    st.just(".*"),
    QUOTED.map(lambda name: f"['{name}']"),
    QUOTED.map(lambda name: f'["{name}"]'),
)


@PROPERTY
@given(st.lists(SEGMENTS, min_size=1, max_size=5).map("".join))
def test_small_parser_agrees_with_jsonpath_ng(text: str) -> None:
    ours = parse_plain(text)
    if ours is None:
        # Only reserved words are refused; jsonpath-ng then decides.
        assert any(f".{word}" in text for word in ("where", "wherenot"))
        return
    assert ours == plain_steps(parse_expression("$" + text))


# Property 2: the step evaluator finds what jsonpath-ng (with the walking rule) finds.

KEYS = ["a", "b", "c"]
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "x", "a"])),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=3),
    ),
    max_leaves=25,
)
STEPS = st.lists(
    st.one_of(
        st.sampled_from(KEYS).map(lambda key: (FIELD, key)),
        st.integers(-2, 2).map(lambda index: (INDEX, index)),
        st.just((WILDCARD, None)),
    ),
    min_size=1,
    max_size=4,
)


def steps_text(steps: list[tuple[int, Any]]) -> str:
    parts = []
    for kind, arg in steps:
        parts.append(f".{arg}" if kind == FIELD else f"[{arg}]" if kind == INDEX else "[*]")
    return "".join(parts)


@PROPERTY
@given(JSON, STEPS)
def test_step_evaluator_agrees_with_jsonpath_ng(data: Any, steps: list[tuple[int, Any]]) -> None:
    expression = _walking(parse_expression("$" + steps_text(steps)))
    assert collect(data, tuple(steps)) == find_values(expression, data)


# Property 3: generated mappers agree with the evaluator, on events of any shape.

PATHS = st.one_of(
    STEPS.map(steps_text),
    st.sampled_from(["..a", ".a..b", ".a[?(@.b=='x')].c", ".a[0:2]", ".a.b.c", ".a.b", ".b.c"]),
)
FIELDS = st.lists(
    st.tuples(
        PATHS,
        st.booleans(),
        st.sampled_from([None, {"x": "X", "*": "other"}, {0: "zero", True: "yes"}, {"a": None}]),
        st.sampled_from(["F1", "F2", "F3", "F4"]),
    ),
    min_size=1,
    max_size=8,
)


def make_fields(specs: list[tuple[str, bool, dict[Any, Any] | None, str]]) -> list[FieldMapping]:
    return [
        FieldMapping(
            name=name,
            system_name=name,
            path=compile_path(text),
            file="test",
            as_list=as_list,
            values=ValuesTable(values) if values is not None else None,
        )
        for text, as_list, values, name in specs
    ]


CHAIN_FIELDS = [
    (".a.b", False, None, "F1"),
    (".a.b.c", True, None, "F2"),
    (".a.b", False, {"x": "X"}, "F3"),
    (".a[0].b", False, None, "F4"),
]


@PROPERTY
@given(FIELDS, st.one_of(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=3), JSON))
@example(CHAIN_FIELDS, {"a": [[{"b": 1}], [{"b": {"c": 2}}, [{"b": "x"}]]]})  # nested arrays
@example(CHAIN_FIELDS, {"a": [{"b": [{"c": [1, None]}]}, "s", None, 3]})  # array then arrays
@example(CHAIN_FIELDS, {"a": "text"})  # a string where an object is expected
@example(CHAIN_FIELDS, {"a": {"b": [{"c": 1}, {"c": None}]}})  # the anchor is an array
@example(CHAIN_FIELDS, [{"a": {"b": "x"}}, {"a": [{"b": 2}]}])  # the event is an array
def test_generated_mapper_agrees_with_evaluator(
    specs: list[tuple[str, bool, dict[Any, Any] | None, str]], event: Any
) -> None:
    fields = make_fields(specs)
    assert build_mapper(fields)(event) == map_generic(fields, event)


def test_generated_source_embeds_names_only_as_literals() -> None:
    hostile = 'x\')\nimport os  # """\\'
    fields = [
        FieldMapping(
            name=hostile,
            system_name=hostile,
            path=compile_path(f"['{hostile.replace(chr(39), '').replace(chr(92), '')}'].b"),
            file="test",
        )
    ]
    source, _ = generate_source(fields)
    compile(source, "<test>", "exec")
    assert "\nimport os" not in source
    key = hostile.replace("'", "").replace("\\", "")
    assert build_mapper(fields)({key: {"b": 1}}) == {hostile: 1}


def test_generated_source_reads_like_hand_written_code() -> None:
    fields = make_fields([(".deviceDetail.browser", False, None, "Browser")])
    source, _ = generate_source(fields)
    assert source == (
        "def map_event(event):\n"
        "    if type(event) is not dict:\n"
        "        return _generic(event)\n"
        "    get = event.get\n"
        "    out = {}\n"
        "    n1 = get('deviceDetail')\n"
        "    g1 = n1.get if type(n1) is dict else None\n"
        "    # 'Browser' <- '.deviceDetail.browser'\n"
        "    if g1 is not None:\n"
        "        v = g1('browser')\n"
        "        if v is not None:\n"
        "            out['Browser'] = v\n"
        "    elif type(n1) is list:\n"
        "        m = _each(n1, 'browser')\n"
        "        if m:\n"
        "            out['Browser'] = m[0] if len(m) == 1 else m\n"
        "    elif n1 is not None:\n"
        "        m = _collect(event, _steps5)\n"
        "        if m:\n"
        "            out['Browser'] = m[0] if len(m) == 1 else m\n"
        "    return out\n"
    )
