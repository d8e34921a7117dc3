"""Whatever a user types, validation answers with values or one InvalidInput, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.errors import InvalidInput

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True), st.text(max_size=60),
                    st.sampled_from(["[", "[]", '["a"', "04/15/2024 01:00 AM", "0", "500",
                                     "9" * 30, "2024-02-30T00:00:00Z", "atRisk", "At Risk",
                                     "riskLevel eq 'high'", "((((", "a eq 'x''", "'", "\x00",
                                     "29f270bb-4d23-4f68-8a57-dc73dc0d4caf", "01/01/9999"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_validation_never_raises_anything_but_invalid_input(connector: Any, data: Any) -> None:
    plugin = connector.plugin
    command = data.draw(st.sampled_from(plugin.manifest.commands))
    names = [spec.display_name for spec in command.inputs] + [spec.id for spec in command.inputs]
    keys = st.sampled_from(names) | st.text(max_size=12) if names else st.text(max_size=12)
    inputs = data.draw(st.dictionaries(keys, VALUES, max_size=6))
    try:
        values = plugin.validator(command).validate(inputs)
    except InvalidInput as exc:
        assert "\n" not in exc.message and exc.message.startswith("Invalid input '")
    else:
        assert set(values) <= {spec.id for spec in command.inputs}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_connection_resolution_never_raises_anything_but_invalid_input(connector: Any,
                                                                       data: Any) -> None:
    from executor.connection import resolve_connection

    plugin = connector.plugin
    names = [p.id for p in plugin.manifest.connection_parameters]
    raw = data.draw(st.dictionaries(st.sampled_from(names) | st.text(max_size=8), VALUES,
                                    max_size=8))
    try:
        resolved = resolve_connection(plugin.manifest, plugin.store, raw, environ={})
    except InvalidInput as exc:
        assert "\n" not in exc.message
    else:
        assert set(resolved) <= set(names)
