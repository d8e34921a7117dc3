"""What one emulated Graph collection is: the spec a module under emulator/collections/ declares.

The router, role checks, query options, paging, actions, the control API and the seeded stores
read these specs through the registry (emulator.resources); a collection's own behaviour (seed
generator, defaults of a record added through the control API, what an action changes) is a
hook on its spec, so nothing outside emulator/collections/ names a particular collection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from emulator.schema import ResourceSchema, Type

if TYPE_CHECKING:
    from emulator.directory import User
    from emulator.signins import SignInSource
    from emulator.store import VersionedStore

IDENTITY_PROTECTION = "identityProtection"
AUDIT_LOGS = "auditLogs"

EQ = frozenset({"eq"})
EQ_STARTS = frozenset({"eq", "startswith"})
TIME_RANGE = frozenset({"eq", "ge", "le", "gt", "lt"})

Record = dict[str, Any]


def scalar_filters(props: dict[str, Type]) -> dict[str, frozenset[str]]:
    """identityProtection: the pages say "supports $filter" with no property table; the
    emulator assumes eq on every scalar property and ranges on date-times (docs/fidelity.md).

    `props`: the collection's widest (beta) properties."""
    out: dict[str, frozenset[str]] = {}
    for name, t in props.items():
        if t == "datetime":
            out[name] = TIME_RANGE
        elif t in ("string", "bool") or (isinstance(t, tuple) and t[0] == "enum"):
            out[name] = EQ
    return out


def versions(entity: str, v1: dict[str, Type],
             beta: dict[str, Type] | None = None) -> dict[str, ResourceSchema]:
    """The collection's item type per API version (beta defaults to the v1.0 shape)."""
    return {"v1.0": ResourceSchema(entity, v1),
            "beta": ResourceSchema(entity, v1 if beta is None else beta)}


@dataclass(frozen=True)
class Action:
    """A bound POST action on a collection: its state change and its id parameter."""

    id_param: str  # userIds / servicePrincipalIds
    risk_state: str
    risk_detail: str
    risk_level: str
    not_found: str  # Graph's message when an id is unknown (404)
    noun: str  # what the ids name, in the "at most 60" message: users, service principals


class TenantView(Protocol):
    """What a collection's hooks may use of a tenant."""

    key: int
    domain: str
    users: list[User]

    def store(self, resource: str) -> VersionedStore: ...

    def counter(self) -> int: ...

    def peek_counter(self) -> int: ...

    def children(self, resource: str, parent_id: str, now: int) -> list[Record]: ...


@dataclass
class SeedContext:
    """What seed generators build from: the tenant's key, directory and sign-in log."""

    key: int
    users: list[User]
    signins: SignInSource
    signin_count: int  # the sign-ins the tenant was asked for (sizes other collections)
    end: int  # the emulator's start, in ticks: seeded records lie before it
    admin_id: str  # the tenant admin who acted on seeded records (history's initiatedBy)
    reserved: int = 0  # record numbers the seeds used; control-API numbers start after them

    def reserve(self, count: int) -> None:
        self.reserved = max(self.reserved, count)


#: Seeded records by collection name. A generator may fill several collections when their
#: records must agree (a risky user's level comes from its detections).
Seed = Callable[[SeedContext], dict[str, list[Record]]]
#: Generated defaults of a record the control API adds (`partial` is merged over them).
NewRecord = Callable[[TenantView, Record, int], Record]
#: What else changes when an action settles on `record` at `at`:
#: (tenant, record, action name, action, actor, at, taken history ids, visible_from).
Settle = Callable[[TenantView, Record, str, Action, str, int, set[str], "int | None"], None]
#: A child collection's item synthesised for its parent (Graph's current-state history item).
CurrentItem = Callable[[Record, list[Record]], Record]


@dataclass(frozen=True)
class Collection:
    """One Graph collection as the emulator serves it."""

    name: str  # the internal and control-API name, e.g. riskyUsers
    segment: str  # the URL segment, e.g. riskyUsers (under identityProtection)
    service: str  # URL root and throttling family: identityProtection or auditLogs
    schemas: dict[str, ResourceSchema]  # by API version: v1.0, beta
    read_roles: frozenset[str]  # any one of them allows reading
    default_top: int
    max_top: int
    orderable: tuple[str, ...] = ()  # properties Graph documents for $orderby
    default_order: tuple[str | None, bool] = (None, False)  # (field or None for id, desc)
    write_roles: frozenset[str] = frozenset()
    actions: dict[str, Action] = field(default_factory=dict)  # lower-case action name
    child: str | None = None  # the collection under /{id}/history
    parent: str | None = None  # for a child: the owning collection
    parent_key: str | None = None  # for a child: the item's property naming its parent
    beta_root: bool = False  # beta also serves it at /beta/{segment}
    licence: str = "P2"  # the lowest licence that serves the data (SPEC §9 behaviour switch)
    # $filter as documented: property path ("location/city") -> operators; and collections
    # filterable through any(x: x <op> literal) -> the operators allowed inside.
    filterable: dict[str, frozenset[str]] = field(default_factory=dict)
    any_filterable: dict[str, frozenset[str]] = field(default_factory=dict)
    beta_any_filterable: dict[str, frozenset[str]] = field(default_factory=dict)
    # Graph's quirks for this collection.
    unlicensed_error: tuple[str, str] = ("Forbidden",
                                         "Your tenant is not licensed for this feature.")
    hidden_without_p2: tuple[str, ...] = ()  # served as `hidden` below a P2 licence
    terse_filter_errors: bool = False  # a bad $filter says only "Invalid filter clause"
    filter_time_bounds: tuple[str, ...] = ()  # date-times a $filter narrows a scan by
    filter_max_age_days: int | None = None  # older date-time literals in $filter: 400
    beta_implicit_filter: tuple[str, str] | None = None  # (property, member) beta shows only,
    #                                                    unless the $filter names the property
    next_link_segment: str | None = None  # the segment as nextLinks spell it, if different
    # Where the records come from.
    log: bool = False  # the tenant's generated sign-in log (built per index, never stored)
    seed: Seed | None = None
    new_record: NewRecord | None = None
    settle: Settle | None = None
    current_item: CurrentItem | None = None

    def schema(self, version: str) -> ResourceSchema:
        return self.schemas[version]

    def missing_current_item(self, parent: Record, own: list[Record]) -> Record | None:
        """For a child collection: the item to synthesise for `parent`'s current state, unless
        the collection synthesises none or `own` (the parent's items) already holds one (its id
        is the parent's)."""
        parent_id = parent["id"].lower()
        if self.current_item is None or any(h["id"].lower() == parent_id for h in own):
            return None
        return self.current_item(parent, own)

    @property
    def widest(self) -> ResourceSchema:
        """The beta shape, a superset of v1.0's: records are built for it."""
        return self.schemas["beta"]
