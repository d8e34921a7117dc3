"""Microsoft Entra ID Protection commands: one handler module per command, on one Graph client.

Importing this package fills :data:`registry`, which the executor checks against the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.mapping_documents import mapping_documents
from commands.odata import check_filter
from commands.resources import EVENT_TYPE_RESOURCES
from executor.registry import Registry

registry = Registry()
registry.coverage_documents = mapping_documents


@registry.check("odata-filter")
def _check_filter(value: str, inputs: Mapping[str, Any], args: Mapping[str, str]) -> None:
    resource = args.get("resource") or EVENT_TYPE_RESOURCES[inputs[args["resource_by"]]]
    check_filter(value, resource)


@registry.client
def _make_client(context: Any) -> Any:
    from commands.graph.client import GraphClient
    from commands.graph.settings import GraphSettings

    options = context.options
    return GraphClient(GraphSettings.from_connection(context.connection),
                       redactor=context.redactor,
                       **{k: options[k] for k in ("sleep", "monotonic", "retry", "pace")
                          if k in options})


from commands import (  # noqa: E402 - handlers register themselves on import
    confirm_compromised,
    confirm_safe,
    dismiss_risky_user,
    fetch_event,
    list_history,
    list_risk_detections,
    list_risky_users,
    list_sign_in,
    test_connection,
)

__all__ = [
    "confirm_compromised",
    "confirm_safe",
    "dismiss_risky_user",
    "fetch_event",
    "list_history",
    "list_risk_detections",
    "list_risky_users",
    "list_sign_in",
    "registry",
    "test_connection",
]
