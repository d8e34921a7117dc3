"""One synthetic tenant: its directory, its generated sign-in log, its Identity Protection state,
the records tests add, and the actions that change risk state."""

from __future__ import annotations

import heapq
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from functools import partial
from typing import Any

from emulator import directory, render, risk, schema, seeds, workload
from emulator.auth import TenantAuth
from emulator.errors import GraphError
from emulator.odata import Filter
from emulator.paging import Item, Key, SortedView
from emulator.resources import COLLECTIONS, Action
from emulator.signins import SignInSource
from emulator.store import AddedSignIns, VersionedStore
from emulator.timefmt import TICKS_PER_SECOND

INDEX = "#index"  # marks a light sign-in record: the generated record's index



def _light_signin(key: Key, index: int) -> dict[str, Any]:
    """A generated sign-in's stand-in holding only what an id/createdDateTime page needs."""
    return {"id": key[1], "createdDateTime": key[0], INDEX: index}


class ControlError(ValueError):
    """A control-API request the emulator cannot honour (400 or 409)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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
        # One store per materialised collection of the resource table, filled by the seeds.
        self.stores = {name: VersionedStore() for name in COLLECTIONS if name != "signIns"}
        for name, records in self._seed(signins, end_ticks).items():
            for record in records:
                self.stores[name].put(record)
        self.detections = self.stores["riskDetections"]
        self.risky_users = self.stores["riskyUsers"]
        self.history = self.stores["history"]
        self.risky_principals = self.stores["riskyServicePrincipals"]
        self.principal_history = self.stores["servicePrincipalHistory"]
        self.principal_detections = self.stores["servicePrincipalRiskDetections"]
        self.added_signins = AddedSignIns()
        # Hostile records (control API "verbatim"): served exactly as given, by resource.
        self.verbatim: dict[str, list[tuple[int | None, Any]]] = {}
        self.signin_json = JsonCache(20_000)
        self._next = (len(self.detections.latest_all()) + len(self.risky_users.latest_all())
                      + 1)
        self.lock = threading.RLock()

    def set_whole_seconds(self, whole: bool) -> None:
        """The signin_time_precision switch: generated sign-in times change, so do caches."""
        if self.signins.whole_seconds != whole:
            self.signins.whole_seconds = whole
            self.signin_json.clear()

    def _counter(self) -> int:
        with self.lock:
            self._next += 1
            return self._next

    # -- reading ----------------------------------------------------------------------------

    def store(self, resource: str) -> VersionedStore:
        return self.stores[resource]

    def _seed(self, signins: int, end_ticks: int) -> dict[str, list[dict[str, Any]]]:
        """The seeded records of every materialised collection (each generator keeps its
        collections consistent with each other and with the sign-in log)."""
        state = risk.build(self.key, self.signins, self.users, end_ticks)
        self.admin_id = state.admin_id
        sp_count = min(max(signins // 400, 12), 200)
        workloads = workload.build(self.key, sp_count, end_ticks, state.admin_id)
        return {"riskDetections": state.detections, "riskyUsers": state.risky_users,
                "history": state.history, "riskyServicePrincipals": workloads.principals,
                "servicePrincipalHistory": workloads.history,
                "servicePrincipalRiskDetections": workloads.detections}

    def fingerprint(self, now: int) -> str:
        """Changes whenever any visible record may have (offset paging's fast-path check)."""
        counts = [store.changes(now) for store in self.stores.values()]
        counts.append(self.added_signins.changes(now))
        counts.append(int(self.signins.whole_seconds))
        return ".".join(map(str, counts))

    def children(self, resource: str, parent_id: str, now: int) -> list[dict[str, Any]]:
        """Visible items of a child collection (history) of one visible parent."""
        if resource == "history":
            return self.history_of(parent_id, now)
        spec = COLLECTIONS[resource]
        assert spec.parent is not None and spec.parent_key is not None
        if self.store(spec.parent).visible(parent_id, now) is None:
            return []
        wanted = parent_id.lower()
        return [h for h in self.store(resource).visible_all(now)
                if str(h.get(spec.parent_key, "")).lower() == wanted]

    def history_of(self, user_id: str, now: int) -> list[dict[str, Any]]:
        """Visible history of one risky user, led by Graph's current-state item (id = user id)."""
        user = self.risky_users.visible(user_id, now)
        if user is None:
            return []
        items = [h for h in self.history.visible_all(now)
                 if h.get("userId", "").lower() == user["id"].lower()]
        if not any(h["id"].lower() == user["id"].lower() for h in items):
            items.append(self._current_item(user, items))
        return items

    def _current_item(self, user: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
        last = max(items, key=lambda h: (h.get("riskLastUpdatedDateTime") or 0, h["id"]),
                   default=None)
        activity = last["activity"] if last else {"riskEventTypes": [], "eventTypes": [],
                                                  "detail": None}
        return {
            "id": user["id"],
            "isDeleted": user.get("isDeleted"),
            "isGuest": user.get("isGuest", False),
            "isProcessing": user.get("isProcessing"),
            "riskLevel": user.get("riskLevel"),
            "riskState": user.get("riskState"),
            "riskDetail": user.get("riskDetail"),
            "riskLastUpdatedDateTime": user.get("riskLastUpdatedDateTime"),
            "userDisplayName": user.get("userDisplayName"),
            "userPrincipalName": user.get("userPrincipalName"),
            "userId": user["id"],
            "initiatedBy": last["initiatedBy"] if last else None,
            "activity": activity,
        }

    def all_history(self, now: int, include_future: bool = False) -> list[dict[str, Any]]:
        """Every user's history, including the synthesised current-state items."""
        users = ([r for _, r in self.risky_users.latest_all()] if include_future
                 else self.risky_users.visible_all(now))
        items = ([r for _, r in self.history.latest_all()] if include_future
                 else self.history.visible_all(now))
        by_user: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            by_user.setdefault(str(item.get("userId", "")).lower(), []).append(item)
        out = list(items)
        for user in users:
            own = by_user.get(user["id"].lower(), [])
            if not any(h["id"].lower() == user["id"].lower() for h in own):
                out.append(self._current_item(user, own))
        return out

    def get(self, resource: str, record_id: str, now: int, beta: bool,
            user_id: str | None = None) -> dict[str, Any] | None:
        if resource == "signIns":
            index = self.signins.index_of(record_id)
            if index is not None:
                return self.signins.build(index, beta)
            added = self.added_signins.get(record_id)
            if added and (added[0] is None or added[0] <= now):
                return added[1]
            return None
        if COLLECTIONS[resource].parent is not None:
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
        if resource == "signIns":
            return self._iterate_signins(beta, descending, after, flt, now, light)
        if COLLECTIONS[resource].parent is not None:
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
        """A bound action on riskyUsers or riskyServicePrincipals.

        `unknown_ids` (behaviour switch): "404"/"400" refuse the whole batch when an id is not
        a visible risky record; "204" applies the known ones and ignores the rest. `delay`
        (ticks): the change shows `isProcessing` at once and settles `delay` later.
        """
        spec = COLLECTIONS[resource].actions[action]
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
                if resource == "riskyUsers":
                    self._settle_user(final, action, spec, actor, settles, taken,
                                      settles if delay else None)
                else:
                    self._settle_principal(final, action, spec, actor, settles, taken,
                                           settles if delay else None)

    def _settle_user(self, user: dict[str, Any], action: str, spec: Action, actor: str,
                     at: int, taken: set[str], visible_from: int | None) -> None:
        """Detections and history follow a risky user's action."""
        user_key = user["id"].lower()
        if action == "confirmcompromised":
            self.detections.put(risk.compromise_detection(self.key, self._counter(), user, at),
                                visible_from)
        else:
            for det in self.detections.visible_all(at):
                if det.get("userId", "").lower() == user_key and det.get("riskState") == "atRisk":
                    self.detections.put({**det, "riskState": spec.risk_state,
                                         "riskDetail": spec.risk_detail,
                                         "lastUpdatedDateTime": at}, visible_from)
        existing = {h["id"] for h in self.history_of(user["id"], at)}
        item_id = risk.history_id(user["id"], at, taken | existing)
        events = ["adminConfirmedUserCompromised"] if action == "confirmcompromised" else []
        self.history.put(risk.history_item(user, item_id, at, spec.risk_state, spec.risk_level,
                                           spec.risk_detail, events, spec.risk_detail, actor),
                         visible_from)

    def _settle_principal(self, principal: dict[str, Any], action: str, spec: Action,
                          actor: str, at: int, taken: set[str],
                          visible_from: int | None) -> None:
        """Detections and history follow a risky service principal's action."""
        key = principal["id"].lower()
        if action == "confirmcompromised":
            det = workload.detection(self.key, 1_000_000 + self._counter(), principal,
                                     "adminConfirmedServicePrincipalCompromised", at, "high")
            det.update(riskState=spec.risk_state, riskDetail=spec.risk_detail)
            self.principal_detections.put(det, visible_from)
        else:
            for det in self.principal_detections.visible_all(at):
                if (str(det.get("servicePrincipalId", "")).lower() == key
                        and det.get("riskState") == "atRisk"):
                    self.principal_detections.put({
                        **det, "riskState": spec.risk_state, "riskDetail": spec.risk_detail,
                        "lastUpdatedDateTime": at}, visible_from)
        existing = {h["id"] for h in self.principal_history.visible_all(at)}
        events = (["adminConfirmedServicePrincipalCompromised"]
                  if action == "confirmcompromised" else [])
        self.principal_history.put(workload.history_item(
            principal, risk.history_id(principal["id"], at, taken | existing), at, events, actor),
            visible_from)

    # -- control API ------------------------------------------------------------------------

    def add_records(self, resource: str, records: list[Any], visible_from: int | None,
                    now: int) -> list[tuple[int | None, dict[str, Any]]]:
        """Complete partial records with generated defaults and store them."""
        full = schema.SCHEMAS[(resource, "beta")]
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
                if resource == "signIns":
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
        record_id = partial.get("id")
        if resource == "signIns":
            if record_id and (self.signins.index_of(record_id) is not None
                              or self.added_signins.get(record_id)):
                raise ControlError(f"a sign-in with id '{record_id}' already exists", 409)
            n = self._counter()
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
        if resource in ("riskyServicePrincipals", "servicePrincipalRiskDetections",
                        "servicePrincipalHistory"):
            return render.merge(self._workload_base(resource, partial, now), partial)
        user = self._user_for(partial)
        n = self._counter()
        if resource == "riskyUsers":
            base = {
                "id": user["id"], "isDeleted": False, "isProcessing": False, "isGuest": False,
                "riskDetail": "none", "riskLastUpdatedDateTime": now, "riskLevel": "medium",
                "riskState": "atRisk", "userDisplayName": user["userDisplayName"],
                "userPrincipalName": user["userPrincipalName"],
            }
        elif resource == "riskDetections":
            base = risk.compromise_detection(self.key, n, user, now)
            base.update(riskEventType="unfamiliarFeatures", riskType="unfamiliarFeatures",
                        riskState="atRisk", riskDetail="none", riskLevel="medium",
                        detectionTimingType="realtime", activity="signin")
        else:
            if not partial.get("userId"):
                raise ControlError("a history item needs 'userId'")
            holder = self.risky_users.latest(partial["userId"])
            owner = holder[1] if holder else {**user, "isDeleted": False}
            base = risk.history_item(
                {**owner, "isDeleted": owner.get("isDeleted", False)},
                risk.history_id(partial["userId"], now, set()), now,
                owner.get("riskState", "atRisk"), owner.get("riskLevel", "medium"),
                owner.get("riskDetail", "none"), [], None, None)
        return render.merge(base, partial)

    def _workload_base(self, resource: str, partial: dict[str, Any], now: int
                       ) -> dict[str, Any]:
        """Generated defaults for a new service-principal record (control API)."""
        n = self._counter()
        owner_id = str(partial.get("servicePrincipalId") or "")
        if resource == "riskyServicePrincipals":
            return workload.principal_base(seeds.guid_for(self.key, n, 620),
                                           seeds.guid_for(self.key, n, 621),
                                           f"Added App {n}", now)
        holder = self.risky_principals.latest(owner_id) if owner_id else None
        if resource == "servicePrincipalHistory":
            if holder is None:
                raise ControlError("a service principal history item needs the "
                                   "'servicePrincipalId' of a risky service principal")
            return workload.history_item(holder[1], risk.history_id(owner_id, now, set()), now,
                                         [], None)
        principal = holder[1] if holder else workload.principal_base(
            owner_id or seeds.guid_for(self.key, n, 620), seeds.guid_for(self.key, n, 621),
            f"Added App {n}", now)
        return workload.detection(self.key, 1_000_000 + n, principal, "suspiciousSignins",
                                  now, "medium", "realtime")

    def _user_for(self, partial: dict[str, Any]) -> dict[str, Any]:
        """Directory fields for a new record: the user named by userId/id, else a directory
        user who is not a risky user yet (so a new risky user never overwrites one)."""
        wanted = str(partial.get("userId") or partial.get("id") or "").lower()
        user = next((u for u in self.users if u.id == wanted), None)
        if user is None:
            start = self._next % len(self.users)
            ordered = self.users[start:] + self.users[:start]
            user = next((u for u in ordered if self.risky_users.latest(u.id) is None), None)
        if user is None:
            new_id = seeds.guid_for(self.key, self._counter(), 404)
            return {"id": new_id, "userDisplayName": "New User",
                    "userPrincipalName": f"user.{new_id[:8]}@{self.domain}"}
        return {"id": user.id, "userDisplayName": user.display_name,
                "userPrincipalName": user.upn}

    def ground_truth(self, resource: str) -> Iterator[tuple[int | None, dict[str, Any]]]:
        """Every record in the resource's default order, visible or not yet."""
        if resource == "signIns":
            yield from self._signin_truth(light=False)
            return
        if resource == "history":
            items = self.all_history(0, include_future=True)
            versions = {h["id"].lower(): vf for vf, h in self.history.latest_all()}
            for item in sorted(items, key=lambda h: h["id"]):
                yield versions.get(item["id"].lower()), item
            return
        yield from sorted(self.store(resource).latest_all(), key=lambda v: v[1]["id"])

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
