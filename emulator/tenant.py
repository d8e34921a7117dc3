"""One synthetic tenant: its directory, its generated sign-in log, a store per materialised
collection of the resource table (seeded by the collections' generators), the records tests
add, and the actions that change risk state.

The sign-in log (a collection whose spec says `log`) is the one genuinely special collection:
a million records are a pure function of their index, so it is generated per request, never
stored, and its paths below (iterate, get, add, ground truth) serve it from the index.
"""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from functools import partial
from typing import Any

from emulator import directory, render, seeds
from emulator.auth import TenantAuth
from emulator.errors import ControlError, GraphError
from emulator.odata import Filter
from emulator.paging import Item, Key, SortedView
from emulator.resources import COLLECTIONS
from emulator.signins import SignInSource
from emulator.spec import SeedContext
from emulator.store import AddedSignIns, VersionedStore
from emulator.timefmt import TICKS_PER_SECOND

INDEX = "#index"  # marks a light sign-in record: the generated record's index



def _light_signin(key: Key, index: int) -> dict[str, Any]:
    """A generated sign-in's stand-in holding only what an id/createdDateTime page needs."""
    return {"id": key[1], "createdDateTime": key[0], INDEX: index}


__all__ = ["INDEX", "ControlError", "JsonCache", "Tenant"]


class JsonCache:
    """Serialised generated sign-ins (immutable, so never stale), least recently used out."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[int, bool, bool], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, bool, bool]) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: tuple[int, bool, bool], value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)


class Tenant:
    def __init__(self, seed: int, index: int, signins: int, end_ticks: int,
                 auth: TenantAuth) -> None:
        self.index = index
        self.auth = auth
        self.tenant_id = auth.tenant_id
        self.domain = auth.domain
        self.key = seeds.derive("tenant", seed, index)
        self.end_ticks = end_ticks
        user_count = min(max(signins // 20, 40), 2000)
        self.users = directory.build_users(self.key, user_count, self.domain)
        pool_size = max(8, user_count // 8)
        pool = [self.users[(n * 7) % user_count] for n in range(pool_size)]
        self.signins = SignInSource(self.key, self.tenant_id, self.users, pool, end_ticks,
                                    signins)
        # One store per materialised collection of the resource table, filled by the
        # collections' seed generators (a generator may fill several that must agree).
        self.stores = {name: VersionedStore() for name, spec in COLLECTIONS.items()
                       if not spec.log}
        seeding = SeedContext(self.key, self.users, self.signins, signins, end_ticks,
                              directory.admin_id(self.key))
        for spec in COLLECTIONS.values():
            if spec.seed is not None:
                for name, records in spec.seed(seeding).items():
                    for record in records:
                        self.stores[name].put(record)
        self.added_signins = AddedSignIns()
        # Hostile records (control API "verbatim"): served exactly as given, by resource.
        self.verbatim: dict[str, list[tuple[int | None, Any]]] = {}
        self.signin_json = JsonCache(20_000)
        self._next = seeding.reserved + 1  # numbers of added records follow the seeds'
        self.lock = threading.RLock()

    def set_whole_seconds(self, whole: bool) -> None:
        """The signin_time_precision switch: generated sign-in times change, so do caches."""
        if self.signins.whole_seconds != whole:
            self.signins.whole_seconds = whole
            self.signin_json.clear()

    def counter(self) -> int:
        """A new number for an added record (its generated id and defaults derive from it)."""
        with self.lock:
            self._next += 1
            return self._next

    def peek_counter(self) -> int:
        """The last number given (spreads added records' owners over the directory)."""
        return self._next

    # -- reading ----------------------------------------------------------------------------

    def store(self, resource: str) -> VersionedStore:
        return self.stores[resource]

    def fingerprint(self, resource: str, now: int) -> str:
        """Changes whenever a record listed from `resource` may have (offset paging's fast-path
        check): its store and, for a child, its parent's store; for the generated log, the
        records added to it and its time precision. Other collections do not count."""
        spec = COLLECTIONS[resource]
        if spec.log:
            counts = [self.added_signins.changes(now), int(self.signins.whole_seconds)]
        else:
            counts = [self.store(name).changes(now) for name in (spec.parent, resource) if name]
        return ".".join(map(str, counts))

    def children(self, resource: str, parent_id: str, now: int) -> list[dict[str, Any]]:
        """Visible items of a child collection (history) of one visible parent, with the
        item the child's spec synthesises for the parent's current state when it has none."""
        spec = COLLECTIONS[resource]
        assert spec.parent is not None and spec.parent_key is not None
        parent = self.store(spec.parent).visible(parent_id, now)
        if parent is None:
            return []
        wanted = parent_id.lower()
        items = [h for h in self.store(resource).visible_all(now)
                 if str(h.get(spec.parent_key, "")).lower() == wanted]
        current = spec.missing_current_item(parent, items)
        return items if current is None else [*items, current]

    def get(self, resource: str, record_id: str, now: int, beta: bool,
            user_id: str | None = None) -> dict[str, Any] | None:
        spec = COLLECTIONS[resource]
        if spec.log:
            index = self.signins.index_of(record_id)
            if index is not None:
                return self.signins.build(index, beta)
            added = self.added_signins.get(record_id)
            if added and (added[0] is None or added[0] <= now):
                return added[1]
            return None
        if spec.parent is not None:
            for item in self.children(resource, user_id or "", now):
                if item["id"].lower() == record_id.lower():
                    return item
            return None
        return self.store(resource).visible(record_id, now)

    def iterate(self, resource: str, beta: bool, field: str | None, descending: bool,
                after: Key | None, flt: Filter | None, now: int,
                user_id: str | None = None, light: bool = False) -> Iterator[Item]:
        """Records in (field, id) order strictly after `after`, loaded lazily.

        `light`: the caller needs only id and createdDateTime, so generated sign-ins are not
        built at all (a $select=id,createdDateTime walk over a million records stays fast).
        """
        spec = COLLECTIONS[resource]
        if spec.log:
            return self._iterate_signins(beta, descending, after, flt, now, light)
        if spec.parent is not None:
            records = self.children(resource, user_id or "", now)
        else:
            records = self.store(resource).visible_all(now)
        if flt is not None and flt.id_equals is not None:
            wanted = flt.id_equals.lower()
            records = [r for r in records if r["id"].lower() == wanted]
        return SortedView(records, field).iterate(descending, after)

    def _iterate_signins(self, beta: bool, descending: bool, after: Key | None,
                         flt: Filter | None, now: int, light: bool) -> Iterator[Item]:
        src = self.signins
        lo_t, hi_t = (flt.time_bounds.get("createdDateTime", (None, None)) if flt
                      else (None, None))
        lo = src.first_at_or_after(lo_t) if lo_t is not None else 0
        hi = src.first_after(hi_t) if hi_t is not None else src.count
        added_keys = self.added_signins.snapshot()
        if flt is not None and flt.id_equals is not None:
            index = src.index_of(flt.id_equals)
            if index is not None and lo <= index < hi:
                lo, hi = index, index + 1
            else:
                lo = hi = 0
            wanted = flt.id_equals.lower()
            added_keys = [k for k in added_keys if k[1].lower() == wanted]
        if lo_t is not None:
            added_keys = added_keys[bisect_left(added_keys, (lo_t, "")):]
        if hi_t is not None:
            added_keys = added_keys[:bisect_right(added_keys, (hi_t, "\uffff"))]

        if after is not None:
            t_after = after[0]
            if descending:
                hi = min(hi, src.first_after(t_after))
                added_keys = added_keys[:bisect_left(added_keys, tuple(after))]
            else:
                lo = max(lo, src.first_at_or_after(t_after))
                added_keys = added_keys[bisect_right(added_keys, tuple(after)):]

        def generated() -> Iterator[Item]:
            keys = src.keys_desc(lo, hi) if descending else src.keys_asc(lo, hi)
            for t, record_id, index in keys:
                key = (t, record_id)
                if after is not None and (key >= after if descending else key <= after):
                    continue
                if light:
                    yield key, partial(_light_signin, key, index)
                else:
                    yield key, partial(src.build, index, beta)

        def added() -> Iterator[Item]:
            ordered = reversed(added_keys) if descending else iter(added_keys)
            for key in ordered:
                yield key, partial(self._visible_added, key[1], now)

        if not added_keys:
            return generated()
        return heapq.merge(generated(), added(), key=lambda item: item[0], reverse=descending)

    def _visible_added(self, record_id: str, now: int) -> dict[str, Any] | None:
        version = self.added_signins.get(record_id)
        if version is None or (version[0] is not None and version[0] > now):
            return None
        return version[1]

    # -- actions ----------------------------------------------------------------------------

    def act(self, resource: str, action: str, ids: list[str], actor: str, now: int,
            unknown_ids: str = "404", delay: int = 0) -> None:
        """A bound action of the collection's spec on some of its records.

        `unknown_ids` (behaviour switch): "404"/"400" refuse the whole batch when an id is not
        a visible risky record; "204" applies the known ones and ignores the rest. `delay`
        (ticks): the change shows `isProcessing` at once and settles `delay` later.
        """
        collection = COLLECTIONS[resource]
        spec = collection.actions[action]
        store = self.store(resource)
        with self.lock:
            unique = list({i.lower(): i for i in ids}.values())
            found = [store.visible(i, now) for i in unique]
            if any(r is None for r in found):
                if unknown_ids == "404":
                    raise GraphError(404, "itemNotFound", spec.not_found)
                if unknown_ids == "400":
                    raise GraphError(400, "BadRequest",
                                     f"Invalid {spec.id_param}: {spec.not_found}")
            taken: set[str] = set()
            for record in found:
                if record is None:
                    continue
                settles = now + delay
                if delay:
                    store.put({**record, "isProcessing": True})
                final = {**record, "riskState": spec.risk_state, "riskDetail": spec.risk_detail,
                         "riskLevel": spec.risk_level, "riskLastUpdatedDateTime": settles,
                         "isProcessing": False}
                store.put(final, settles if delay else None)
                if collection.settle is not None:
                    collection.settle(self, final, action, spec, actor, settles, taken,
                                      settles if delay else None)

    # -- control API ------------------------------------------------------------------------

    def add_records(self, resource: str, records: list[Any], visible_from: int | None,
                    now: int) -> list[tuple[int | None, dict[str, Any]]]:
        """Complete partial records with generated defaults and store them."""
        spec = COLLECTIONS[resource]
        full = spec.widest
        stored: list[tuple[int | None, dict[str, Any]]] = []
        with self.lock:
            prepared = []
            for raw in records:
                try:
                    partial = render.to_internal(raw, full)
                except render.RecordFormatError as exc:
                    raise ControlError(str(exc)) from None
                prepared.append(partial)
            for partial in prepared:
                record = self._complete(resource, partial, now)
                if spec.log:
                    self.added_signins.add(record, visible_from)
                else:
                    self.store(resource).put(record, visible_from)
                stored.append((visible_from, record))
        return stored

    def add_verbatim(self, resource: str, records: list[Any], visible_from: int | None) -> None:
        """Store records exactly as given: any JSON value, checked against nothing."""
        with self.lock:
            self.verbatim.setdefault(resource, []).extend((visible_from, r) for r in records)

    def verbatim_visible(self, resource: str, now: int) -> list[Any]:
        with self.lock:
            return [r for vf, r in self.verbatim.get(resource, ()) if vf is None or vf <= now]

    def _complete(self, resource: str, partial: dict[str, Any], now: int) -> dict[str, Any]:
        """The stored record `partial` updates, else the collection's generated defaults,
        with `partial` merged over it."""
        spec = COLLECTIONS[resource]
        record_id = partial.get("id")
        if spec.log:
            if record_id and (self.signins.index_of(record_id) is not None
                              or self.added_signins.get(record_id)):
                raise ControlError(f"a sign-in with id '{record_id}' already exists", 409)
            n = self.counter()
            base = self.signins.build(self.signins.count + n, beta=True)
            whole = self.signins.whole_seconds
            base["createdDateTime"] = now - now % TICKS_PER_SECOND if whole else now
            base["originalRequestId"] = base["id"]
            record = render.merge(base, partial)
            record["id"] = str(record["id"])
            return record
        existing = self.store(resource).latest(record_id) if record_id else None
        if existing is not None:
            return render.merge(existing[1], partial)
        if spec.new_record is None:
            raise ControlError(f"new {resource} records cannot be added; update one by its id")
        return render.merge(spec.new_record(self, partial, now), partial)

    def ground_truth(self, resource: str) -> Iterator[tuple[int | None, dict[str, Any]]]:
        """Every record in the resource's default order, visible or not yet (a child's
        synthesised current-state items included)."""
        spec = COLLECTIONS[resource]
        if spec.log:
            yield from self._signin_truth(light=False)
            return
        versions = self.store(resource).latest_all()
        if spec.current_item is not None:
            assert spec.parent is not None and spec.parent_key is not None
            by_parent: dict[str, list[dict[str, Any]]] = {}
            for _vf, item in versions:
                by_parent.setdefault(str(item.get(spec.parent_key, "")).lower(), []).append(item)
            for _vf, parent in self.store(spec.parent).latest_all():
                current = spec.missing_current_item(parent, by_parent.get(parent["id"].lower(), []))
                if current is not None:
                    versions.append((None, current))
        yield from sorted(versions, key=lambda v: v[1]["id"])

    def _signin_truth(self, light: bool) -> Iterator[tuple[int | None, dict[str, Any]]]:
        src = self.signins
        added = self.added_signins.snapshot()
        if not added:
            for t, record_id, index in src.keys_desc(0, src.count):
                yield None, ({"id": record_id, "createdDateTime": t} if light
                             else src.build(index, beta=True))
            return

        def generated() -> Iterator[tuple[tuple[int, str], Any]]:
            for t, record_id, index in src.keys_desc(0, src.count):
                yield (t, record_id), index

        def extra() -> Iterator[tuple[tuple[int, str], Any]]:
            for key in reversed(added):
                yield key, None

        for key, index in heapq.merge(generated(), extra(), key=lambda x: x[0], reverse=True):
            if index is not None:
                record = ({"id": key[1], "createdDateTime": key[0]} if light
                          else src.build(index, beta=True))
                yield None, record
            else:
                version = self.added_signins.get(key[1])
                assert version is not None
                yield version

    def signin_truth_light(self) -> Iterator[tuple[int | None, dict[str, Any]]]:
        """Ground truth of sign-ins with only id and createdDateTime (fast for a million)."""
        return self._signin_truth(light=True)
