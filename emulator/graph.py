"""The Graph endpoints: routing, application roles, query options, paging, actions."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from emulator import odata, timefmt
from emulator.auth import Principal
from emulator.behaviour import Behaviour
from emulator.errors import GraphError
from emulator.messages import ENCODER, Request, Response
from emulator.paging import Key, SkipTokenCodec, SkipTokenError, collect, skip_matches
from emulator.render import Renderer
from emulator.resources import (
    AUDIT_LOGS,
    AUDIT_LOGS_TOP,
    BETA_ROOT,
    COLLECTIONS,
    IDENTITY_PROTECTION,
    TOP_LEVEL,
    Collection,
)
from emulator.tenant import INDEX, Tenant

GRAPH_JSON = ("application/json;odata.metadata=minimal;odata.streaming=true;"
              "IEEE754Compatible=false;charset=utf-8")
DAY = 86_400 * timefmt.TICKS_PER_SECOND
DEFAULT_SCAN_BUDGET = 20_000


LICENCE_RANK = {"free": 0, "P1": 1, "P2": 2}


RenderFn = Callable[[dict[str, Any]], dict[str, Any]]


def with_hidden(render: RenderFn, hidden: tuple[str, ...]) -> RenderFn:
    """`render`, with the given properties (where present) served as `hidden`."""
    if not hidden:
        return render

    def hide(record: dict[str, Any]) -> dict[str, Any]:
        out = render(record)
        for name in hidden:
            if name in out:
                out[name] = "hidden"
        return out

    return hide


ALLOWED_LIST_OPTIONS = frozenset({"$filter", "$select", "$top", "$skiptoken", "$orderby"})
KNOWN_OPTIONS = frozenset({"$filter", "$select", "$top", "$skiptoken", "$orderby", "$skip",
                           "$count", "$expand", "$search", "$format", "$apply", "$levels",
                           "$compute", "$index", "$schemaversion", "$deltatoken"})


@dataclass
class Route:
    resource: str
    kind: str  # "list", "get", "action"
    service: str  # "identityProtection" or "auditLogs" (throttling scope)
    context: str  # @odata.context path, e.g. identityProtection/riskyUsers
    next_path: str  # path used in nextLinks
    record_id: str | None = None
    user_id: str | None = None
    action: str | None = None


_KEYED = re.compile(r"^([A-Za-z_.]+)\('?([^')]*)'?\)$")


def _segments(path: str) -> list[str]:
    out: list[str] = []
    for raw in path.strip("/").split("/"):
        match = _KEYED.match(raw)
        if match:
            out += [match.group(1), match.group(2)]
        elif raw:
            out.append(raw)
    return out


def service_of(path: str) -> str | None:
    """identityProtection / auditLogs for a Graph path (used before routing, for throttling)."""
    parts = [p.lower() for p in path.strip("/").split("/")]
    if len(parts) < 2:
        return None
    head = parts[1].split("(")[0]
    if head == "identityprotection" or head in BETA_ROOT:
        return IDENTITY_PROTECTION
    if head == "auditlogs":
        return AUDIT_LOGS
    return None


def route(version: str, path_after_version: str) -> Route:
    segs = _segments(path_after_version)
    low = [s.lower() for s in segs]

    def unknown(segment: str) -> GraphError:
        return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    if not segs:
        raise unknown(version)
    if low[0] == "identityprotection":
        prefix, rest, rest_low = "identityProtection/", segs[1:], low[1:]
        if not rest:
            raise GraphError(405, "BadRequest",
                             "The request target does not support this operation.")
    elif version == "beta" and low[0] in BETA_ROOT:
        prefix, rest, rest_low = "", segs, low
    elif low[0] == "auditlogs":
        # auditLogs collections: list and get by id only (no actions, no children).
        audit = AUDIT_LOGS_TOP.get(low[1]) if len(low) >= 2 else None
        if audit is not None and len(low) <= 3:
            record_id = segs[2] if len(segs) == 3 else None
            return Route(audit.name, "get" if record_id else "list", AUDIT_LOGS,
                         f"{AUDIT_LOGS}/{audit.segment}",
                         f"{AUDIT_LOGS}/{audit.next_link_segment or audit.segment}",
                         record_id=record_id)
        raise unknown(segs[1] if len(segs) > 1 else segs[0])
    else:
        raise unknown(segs[0])

    spec = TOP_LEVEL.get(rest_low[0])
    if spec is None:
        raise unknown(rest[0])
    ctx = f"{prefix}{spec.segment}"
    if len(rest) == 1:
        return Route(spec.name, "list", IDENTITY_PROTECTION, ctx, ctx)
    action = rest_low[1].removeprefix("microsoft.graph.")
    if len(rest) == 2 and action in spec.actions:
        return Route(spec.name, "action", IDENTITY_PROTECTION, ctx, ctx, action=action)
    if len(rest) == 2:
        return Route(spec.name, "get", IDENTITY_PROTECTION, ctx, ctx, record_id=rest[1])
    child = COLLECTIONS[spec.child] if spec.child else None
    if child is not None and rest_low[2] == child.segment.lower() and len(rest) in (3, 4):
        parent_id = rest[1]
        hctx = f"{ctx}('{parent_id}')/{child.segment}"
        record_id = rest[3] if len(rest) == 4 else None
        return Route(child.name, "get" if record_id else "list", IDENTITY_PROTECTION, hctx,
                     f"{ctx}/{parent_id}/{child.segment}", record_id=record_id,
                     user_id=parent_id)
    raise unknown(rest[2])


def check_roles(rt: Route, principal: Principal, forbidden_code: str = "Forbidden") -> None:
    """403 unless the token carries one of the collection's roles (write roles for actions)."""
    spec: Collection = COLLECTIONS[rt.resource]
    needed = spec.write_roles if rt.kind == "action" else spec.read_roles
    if principal.roles & needed:
        return
    if spec.service == IDENTITY_PROTECTION and forbidden_code == "Forbidden":
        raise GraphError(403, "Forbidden", "You cannot perform the requested operation, "
                         "required scopes are missing in the token.")
    raise GraphError(403, "Authorization_RequestDenied",
                     "Insufficient privileges to complete the operation.")


class GraphApi:
    def __init__(self, codec: SkipTokenCodec, base_url: str,
                 behaviour: Callable[[], Behaviour] = Behaviour,
                 scan_budget: int = DEFAULT_SCAN_BUDGET) -> None:
        self.behaviour = behaviour
        self.codec = codec
        self.base_url = base_url
        self.scan_budget = scan_budget

    def handle(self, req: Request, version: str, rt: Route, tenant: Tenant,
               principal: Principal) -> Response:
        if rt.kind == "action":
            if req.method != "POST":
                raise GraphError(405, "BadRequest",
                                 "The request target does not support this HTTP method.")
            self._check_licence(rt)
            return self._action(req, rt, tenant, principal)
        if req.method != "GET":
            raise GraphError(405, "BadRequest",
                             "The request target does not support this HTTP method.")
        self._check_licence(rt)
        params = self._options(req)
        if rt.kind == "get":
            return self._get(req, version, rt, tenant, params)
        return self._list(req, version, rt, tenant, params)

    # -- licence (behaviour switch) -----------------------------------------------------------

    def _check_licence(self, rt: Route) -> None:
        """403, in the collection's words, below the lowest licence that serves its data."""
        licence = self.behaviour().licence
        spec = COLLECTIONS[rt.resource]
        if LICENCE_RANK[licence] >= LICENCE_RANK[spec.licence]:
            return
        raise GraphError(403, *spec.unlicensed_error)

    def _hidden(self, rt: Route) -> tuple[str, ...]:
        """Properties a tenant without P2 reads as `hidden` (the resource pages' notes)."""
        if self.behaviour().licence == "P2":
            return ()
        return COLLECTIONS[rt.resource].hidden_without_p2

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _options(req: Request) -> list[tuple[str, str, str]]:
        """(lower-cased option, original key, value) for every query parameter."""
        seen: set[str] = set()
        out = []
        for key, value in req.params():
            name = key.strip().lower()
            if name.startswith("$") or name in ("filter", "select", "top", "orderby",
                                                "skiptoken"):
                name = "$" + name.lstrip("$")
                if name in seen:
                    raise GraphError(400, "BadRequest",
                                     f"Query option '{name}' was specified more than once, but "
                                     "it must be specified at most once.")
                seen.add(name)
                if name not in KNOWN_OPTIONS:
                    raise GraphError(400, "BadRequest",
                                     f"The query parameter '{key}' is not supported.")
            out.append((name, key, value))
        return out

    @staticmethod
    def _include_unknown(req: Request) -> bool:
        prefer = req.header("prefer") or ""
        return "include-unknown-enum-members" in prefer.lower()

    def _headers(self, req: Request) -> dict[str, str]:
        headers = {"Content-Type": GRAPH_JSON, "OData-Version": "4.0"}
        if self._include_unknown(req):
            headers["Preference-Applied"] = "include-unknown-enum-members"
        return headers

    def _context(self, version: str, rt: Route, select: list[str] | None,
                 entity: bool) -> str:
        ctx = rt.context
        if select is not None:
            ctx += "(" + ",".join(select) + ")"
        if entity:
            ctx += "/$entity"
        return f"{self.base_url}/{version}/$metadata#{ctx}"

    # -- reads --------------------------------------------------------------------------------

    def _get(self, req: Request, version: str, rt: Route, tenant: Tenant,
             params: list[tuple[str, str, str]]) -> Response:
        spec = COLLECTIONS[rt.resource]
        resource_schema = spec.schema(version)
        select = None
        for name, _key, value in params:
            if name == "$select":
                select = self._odata(rt, lambda v=value: odata.parse_select(v, resource_schema))
            elif name.startswith("$"):
                raise GraphError(400, "BadRequest", f"Query option '{name}' is not allowed on "
                                 "a single entity.")
        if spec.parent and tenant.store(spec.parent).visible(rt.user_id or "", req.now) is None:
            raise self._not_found()
        record = tenant.get(rt.resource, rt.record_id or "", req.now, version == "beta",
                            user_id=rt.user_id)
        if record is None:
            raise self._not_found()
        rendered = with_hidden(Renderer(resource_schema, self._include_unknown(req), select,
                                        spec.widest),
                               self._hidden(rt))(record)
        body = {"@odata.context": self._context(version, rt, select, entity=True), **rendered}
        return Response.json(200, body, self._headers(req), content_type=GRAPH_JSON)

    @staticmethod
    def _not_found() -> GraphError:
        return GraphError(404, "itemNotFound", "The requested resource doesn't exist.")

    @staticmethod
    def _odata(rt: Route, parse: Any, is_filter: bool = False) -> Any:
        try:
            return parse()
        except odata.ODataError as exc:
            if is_filter and COLLECTIONS[rt.resource].terse_filter_errors:
                raise GraphError(400, "BadRequest", "Invalid filter clause") from None
            if is_filter:
                raise GraphError(400, "BadRequest",
                                 f"Invalid filter clause: {exc.message}") from None
            raise GraphError(400, "BadRequest", exc.message) from None

    def _list(self, req: Request, version: str, rt: Route, tenant: Tenant,
              params: list[tuple[str, str, str]]) -> Response:
        spec = COLLECTIONS[rt.resource]
        resource_schema = spec.schema(version)
        values = {name: value for name, _key, value in params}
        for name in values:
            if name.startswith("$") and name not in ALLOWED_LIST_OPTIONS:
                raise GraphError(400, "BadRequest",
                                 f"Query option '{name}' is not allowed. To allow it, set the "
                                 "'AllowedQueryOptions' property on EnableQueryAttribute or "
                                 "QueryValidationSettings.")
        if spec.parent and tenant.store(spec.parent).visible(rt.user_id or "", req.now) is None:
            raise self._not_found()
        top = spec.default_top
        if "$top" in values:
            top = self._odata(rt, lambda: odata.parse_top(values["$top"], spec.max_top))
        select = None
        if "$select" in values:
            select = self._odata(rt, lambda: odata.parse_select(values["$select"],
                                                                resource_schema))
        field, descending = spec.default_order
        if "$orderby" in values:
            field, descending = self._odata(rt, lambda: odata.parse_orderby(
                values["$orderby"], resource_schema, spec.orderable))
        flt = None
        if "$filter" in values:
            behaviour = self.behaviour()
            rules = None
            if behaviour.filters == "documented":
                beta_any = spec.beta_any_filterable if version == "beta" else {}
                rules = odata.FilterRules(dict(spec.filterable),
                                          {**spec.any_filterable, **beta_any})
            flt = self._odata(rt, lambda: odata.compile_filter(
                values["$filter"], resource_schema, spec.filter_time_bounds,
                self._include_unknown(req), rules,
                behaviour.string_compare == "sensitive"), is_filter=True)
            if spec.filter_max_age_days is not None:
                oldest = req.now - spec.filter_max_age_days * DAY
                stamps = odata.literal_datetimes(values["$filter"])
                if any(t < oldest for t in stamps):
                    raise GraphError(400, "BadRequest", "Invalid filter clause")
        predicate = flt.predicate if flt is not None else (lambda _r: True)
        implicit = spec.beta_implicit_filter if version == "beta" else None
        if implicit is not None and (flt is None or implicit[0] not in flt.mentions):
            # Beta shows only records holding the member unless the filter names the property.
            base = predicate
            prop, member = implicit

            def predicate(r: dict[str, Any]) -> bool:
                return member in (r.get(prop) or ()) and base(r)

        binding = "|".join((tenant.tenant_id, version, rt.resource, rt.user_id or "",
                            values.get("$filter", ""), values.get("$select", ""),
                            values.get("$orderby", ""), str(top)))
        after: Key | None = None
        skip = 0  # offset paging: matching records to pass over from the start
        offset = 0
        fingerprint = tenant.fingerprint(rt.resource, req.now)
        if "$skiptoken" in values:
            try:
                state = self.codec.decode_state(values["$skiptoken"], binding)
                if state[0] == "k":
                    after = (state[1], state[2])
                else:
                    offset = int(state[1])
                    if state[2] == fingerprint:  # nothing changed: the same as keyset
                        after = (state[3], state[4])
                    else:
                        skip = offset
            except (SkipTokenError, ValueError, TypeError, IndexError):
                raise GraphError(400, "BadRequest",
                                 f"The $skiptoken value '{values['$skiptoken']}' is invalid or "
                                 "does not belong to this query.") from None
        needed = set(select or resource_schema.props) | (flt.mentions if flt else set())
        light = (spec.log and version == "v1.0"
                 and (flt is None or flt.mentions <= {"id", "createdDateTime"}))
        items = tenant.iterate(rt.resource, version == "beta", field, descending, after, flt,
                               req.now, user_id=rt.user_id, light=light)
        page, next_key = collect(skip_matches(items, predicate, skip), predicate, top,
                                 self.scan_budget)
        include_unknown = self._include_unknown(req)
        hidden = self._hidden(rt)
        renderer = with_hidden(Renderer(resource_schema, include_unknown, select,
                                        spec.widest), hidden)
        head = '{"@odata.context":' + json.dumps(self._context(version, rt, select, False))
        if next_key is not None:
            if self.behaviour().paging == "offset":
                token = self.codec.encode_state(binding, ["o", offset + len(page), fingerprint,
                                                          next_key[0], next_key[1]])
            else:
                token = self.codec.encode_state(binding, ["k", next_key[0], next_key[1]])
            query = "&".join(f"{key}={quote(value, safe='()*!')}"
                             for name, key, value in params if name != "$skiptoken")
            query = f"{query}&$skiptoken={token}" if query else f"$skiptoken={token}"
            link = f"{self.base_url}/{version}/{rt.next_path}?{query}"
            head += ',"@odata.nextLink":' + json.dumps(link)
        if light and select is None and not hidden:
            encoded = [self._signin_json(tenant, r, renderer, include_unknown) for r in page]
        elif light and (hidden or not needed <= {"id", "createdDateTime"}):
            encoded = [ENCODER.encode(renderer(
                tenant.signins.build(r[INDEX]) if INDEX in r else r)).encode() for r in page]
        else:
            encoded = [ENCODER.encode(renderer(r)).encode() for r in page]
        if "$skiptoken" not in values:
            # Hostile records (control API "verbatim"): on the first page, exactly as given,
            # whatever the query says.
            encoded += [ENCODER.encode(r).encode()
                        for r in tenant.verbatim_visible(rt.resource, req.now)]
        body = b"".join((head.encode(), b',"value":[', b",".join(encoded), b"]}"))
        return Response(200, self._headers(req), body)

    @staticmethod
    def _signin_json(tenant: Tenant, record: dict[str, Any], renderer: RenderFn,
                     include_unknown: bool) -> bytes:
        """A generated sign-in's JSON, from the cache when it was served before."""
        index = record.get(INDEX)
        if index is None:  # a record added through the control API
            return ENCODER.encode(renderer(record)).encode()
        key = (index, False, include_unknown)
        cached = tenant.signin_json.get(key)
        if cached is None:
            cached = ENCODER.encode(renderer(tenant.signins.build(index))).encode()
            tenant.signin_json.put(key, cached)
        return cached

    # -- actions ------------------------------------------------------------------------------

    def _action(self, req: Request, rt: Route, tenant: Tenant,
                principal: Principal) -> Response:
        try:
            payload = req.json()
        except (ValueError, UnicodeDecodeError):
            raise GraphError(400, "BadRequest",
                             "Unable to read JSON request payload. Please ensure Content-Type "
                             "header is set and payload is of valid JSON format.") from None
        if not isinstance(payload, dict):
            raise GraphError(400, "BadRequest",
                             "Unable to read JSON request payload. Please ensure Content-Type "
                             "header is set and payload is of valid JSON format.")
        action = COLLECTIONS[rt.resource].actions[rt.action or ""]
        param = action.id_param
        extra = [k for k in payload if k.lower() != param.lower()]
        if extra:
            raise GraphError(400, "BadRequest",
                             f"The parameter '{extra[0]}' in the request payload is not a valid "
                             f"parameter for the operation '{rt.action}'.")
        ids = next((v for k, v in payload.items() if k.lower() == param.lower()), None)
        if ids is None:
            raise GraphError(400, "BadRequest",
                             f"The parameter '{param}' is required for the operation "
                             f"'{rt.action}'.")
        if not isinstance(ids, list) or not all(isinstance(u, str) for u in ids):
            raise GraphError(400, "BadRequest",
                             "Cannot convert the literal to the expected type "
                             f"'Collection(Edm.String)' for parameter '{param}'.")
        if not ids:
            raise GraphError(400, "BadRequest", f"The parameter '{param}' must not be empty.")
        if len(ids) > 60:
            raise GraphError(400, "BadRequest",
                             f"The maximum count of {action.noun} in one call is 60; {len(ids)} "
                             "were given.")
        behaviour = self.behaviour()
        tenant.act(rt.resource, rt.action or "", ids, principal.service_principal_id, req.now,
                   behaviour.unknown_ids,
                   round(behaviour.action_delay_seconds * timefmt.TICKS_PER_SECOND))
        return Response(204, {})
