"""Microsoft Entra ID Protection commands on one Graph client.

List commands are manifest entries on the generic ``list`` handler and the bulk actions on the
generic ``action`` handler; only Fetch Event and Test Connection have handlers of their own.
Importing this package fills :data:`registry`, which the executor checks against the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commands.csdl import check_catalogue
from commands.mapping_documents import mapping_documents
from commands.odata import check_filter
from executor.model import ResourceSpec
from executor.registry import Registry

registry = Registry()
registry.coverage_documents = mapping_documents
registry.catalogue_check = check_catalogue


@registry.check("odata-filter")
def _check_filter(value: str, inputs: Mapping[str, Any], resource: ResourceSpec | None) -> None:
    if resource is None:
        raise ValueError("cannot be checked: the command reads no resource")
    check_filter(value, resource)


@registry.client
def _make_client(context: Any) -> Any:
    from commands.graph.client import GraphClient
    from commands.graph.settings import GraphSettings

    options = context.options
    settings = GraphSettings.from_connection(context.connection)
    return GraphClient(settings, redactor=context.redactor,
                       command_timeout=settings.command_timeout_seconds,
                       **{k: options[k] for k in ("sleep", "monotonic", "retry", "pace")
                          if k in options})


from commands import (  # noqa: E402 - handlers register themselves on import
    actions,
    fetch_event,
    listing,
    test_connection,
)

__all__ = ["actions", "fetch_event", "listing", "registry", "test_connection"]
