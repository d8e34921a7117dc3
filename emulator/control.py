"""The control API under /_emulator/ (SPEC §9): clock, faults, records, request log, tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from emulator import faults, resources, timefmt
from emulator.behaviour import BehaviourError
from emulator.messages import Request, Response
from emulator.render import Renderer
from emulator.tenant import ControlError, Tenant

if TYPE_CHECKING:
    from emulator.app import Emulator

RESOURCE_NAMES = resources.NAMES
STREAM_CHUNK = 500


def _error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def handle(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p][1:]
        try:
            body = self._body(req)
            if parts == ["clock"]:
                return self._clock(req, body)
            if parts == ["faults"]:
                return self._faults(req, body)
            if parts == ["behaviour"]:
                return self._behaviour(req, body)
            if parts == ["apps"] and req.method == "POST":
                return self._apps(req, body)
            if parts == ["requests"]:
                return self._requests(req)
            if parts == ["tokens"] and req.method == "POST":
                return self._tokens(body)
            if len(parts) == 2 and parts[0] == "records":
                resource = RESOURCE_NAMES.get(parts[1].lower())
                if resource is None:
                    return _error(404, f"unknown resource '{parts[1]}'; one of "
                                       f"{', '.join(resources.COLLECTIONS)}")
                return self._records(req, resource, body)
        except ControlError as exc:
            return _error(exc.status, str(exc))
        return _error(404, f"no control endpoint {req.method} {req.path}")

    @staticmethod
    def _body(req: Request) -> Any:
        if req.method not in ("POST", "PUT") or not req.body.strip():
            return {}
        try:
            return req.json()
        except ValueError:
            raise ControlError("the body is not valid JSON") from None

    def _tenant(self, req: Request) -> Tenant:
        wanted = dict(req.params()).get("tenant")
        if not wanted:
            return self.emu.tenants[0]
        for tenant in self.emu.tenants:
            if wanted.lower() in (tenant.tenant_id, tenant.domain):
                return tenant
        raise ControlError(f"unknown tenant '{wanted}'", 404)

    # -- clock --------------------------------------------------------------------------------

    def _clock(self, req: Request, body: Any) -> Response:
        clock = self.emu.clock
        if req.method == "POST":
            if not isinstance(body, dict):
                raise ControlError("expected a JSON object")
            unknown = set(body) - {"now", "advance_seconds", "frozen"}
            if unknown or not body:
                raise ControlError('expected {"now": ISO} or {"advance_seconds": N}, and/or '
                                   '{"frozen": true|false}')
            if "now" in body and "advance_seconds" in body:
                raise ControlError("give either 'now' or 'advance_seconds', not both")
            if "now" in body:
                try:
                    clock.set(timefmt.parse_iso(str(body["now"])))
                except ValueError as exc:
                    raise ControlError(str(exc)) from None
            if "advance_seconds" in body:
                seconds = body["advance_seconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    raise ControlError("'advance_seconds' must be a number")
                clock.advance(seconds)
            if "frozen" in body:
                if not isinstance(body["frozen"], bool):
                    raise ControlError("'frozen' must be true or false")
                clock.set_frozen(body["frozen"])
        elif req.method != "GET":
            raise ControlError("use GET or POST", 405)
        return Response.json(200, clock.snapshot())

    # -- faults -------------------------------------------------------------------------------

    def _faults(self, req: Request, body: Any) -> Response:
        engine = self.emu.faults
        if req.method == "POST":
            if not isinstance(body, dict):
                raise ControlError("expected a JSON object")
            try:
                config = faults.parse_config(body)
            except faults.FaultConfigError as exc:
                raise ControlError(str(exc)) from None
            rate_limits = body.get("rate_limits")
            if rate_limits is not None and not isinstance(rate_limits, bool):
                raise ControlError("'rate_limits' must be true or false")
            engine.configure(config)
            if rate_limits is not None:
                engine.set_rate_limits(rate_limits)
            elif not body:
                engine.set_rate_limits(False)
        elif req.method != "GET":
            raise ControlError("use GET or POST", 405)
        return Response.json(200, {**engine.config.to_json(), "rate_limits": engine.rate_limits})

    # -- behaviour ----------------------------------------------------------------------------

    def _behaviour(self, req: Request, body: Any) -> Response:
        if req.method == "POST":
            try:
                self.emu.set_behaviour(self.emu.behaviour.updated(body))
            except BehaviourError as exc:
                raise ControlError(str(exc)) from None
        elif req.method != "GET":
            raise ControlError("use GET or POST", 405)
        return Response.json(200, self.emu.behaviour.to_json())

    # -- apps ---------------------------------------------------------------------------------

    def _apps(self, req: Request, body: Any) -> Response:
        """A new app with the given roles; answers its connection (client id, secret or
        certificate path and thumbprint), as `Emulator.connection` gives them."""
        known = {"roles", "secret_expired", "certificate"}
        if not isinstance(body, dict) or set(body) - known:
            raise ControlError('expected {"roles": [...], "secret_expired": false, '
                               '"certificate": false}')
        roles = body.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
            raise ControlError("'roles' must be a list of application role names")
        flags = {name: body.get(name, False) for name in ("secret_expired", "certificate")}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ControlError(f"'{name}' must be true or false")
        if flags["secret_expired"] and flags["certificate"]:
            raise ControlError("a certificate app has no secret to expire")
        index = self.emu.tenants.index(self._tenant(req))
        return Response.json(200, self.emu.create_app(index, tuple(roles), **flags))

    # -- request log --------------------------------------------------------------------------

    def _requests(self, req: Request) -> Response:
        log = self.emu.request_log
        if req.method == "DELETE":
            return Response.json(200, {"cleared": log.clear()})
        if req.method != "GET":
            raise ControlError("use GET or DELETE", 405)
        since = dict(req.params()).get("since", "0")
        try:
            seq = int(since)
        except ValueError:
            raise ControlError("'since' must be an integer") from None
        return Response.json(200, {"value": log.since(seq)})

    # -- tokens -------------------------------------------------------------------------------

    def _tokens(self, body: Any) -> Response:
        if not isinstance(body, dict) or not body or set(body) - {"lifetime_seconds",
                                                                   "revoke_all"}:
            raise ControlError('expected {"lifetime_seconds": N} and/or {"revoke_all": true}')
        service = self.emu.token_service
        if "lifetime_seconds" in body:
            lifetime = body["lifetime_seconds"]
            if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
                raise ControlError("'lifetime_seconds' must be a positive integer")
            service.lifetime = lifetime
        if body.get("revoke_all") is True:
            service.revoke_all()
        elif "revoke_all" in body and body["revoke_all"] is not False:
            raise ControlError("'revoke_all' must be true or false")
        return Response.json(200, {"lifetime_seconds": service.lifetime})

    # -- records ------------------------------------------------------------------------------

    def _records(self, req: Request, resource: str, body: Any) -> Response:
        tenant = self._tenant(req)
        params = dict(req.params())
        version = params.get("version", "beta")
        if version not in ("v1.0", "beta"):
            raise ControlError("'version' must be v1.0 or beta")
        spec = resources.COLLECTIONS[resource]
        full = spec.schema(version)
        select = None
        if params.get("select"):
            select = []
            for name in params["select"].split(","):
                prop = full.resolve(name.strip())
                if prop is None:
                    raise ControlError(f"unknown property '{name.strip()}'")
                select.append(prop)
        renderer = Renderer(full, include_unknown=True, select=select,
                            superset=spec.widest)
        if req.method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("records"), list):
                raise ControlError('expected {"records": [...], "visible_from": ISO?, '
                                   '"verbatim": false}')
            visible_from = None
            if body.get("visible_from") is not None:
                try:
                    visible_from = timefmt.parse_iso(str(body["visible_from"]))
                except ValueError as exc:
                    raise ControlError(str(exc)) from None
            verbatim = body.get("verbatim", False)
            if not isinstance(verbatim, bool):
                raise ControlError("'verbatim' must be true or false")
            if verbatim:
                tenant.add_verbatim(resource, body["records"], visible_from)
                return Response.json(200, {"value": body["records"]})
            stored = tenant.add_records(resource, body["records"], visible_from, req.now)
            return Response.json(200, {"value": [_with_visibility(renderer(r), vf)
                                                 for vf, r in stored]})
        if req.method != "GET":
            raise ControlError("use GET or POST", 405)
        if spec.log and select is not None and set(select) <= {
                "id", "createdDateTime"}:
            versions = tenant.signin_truth_light()
        else:
            versions = tenant.ground_truth(resource)
        return Response(200, {"Content-Type": "application/json; charset=utf-8"},
                        stream=_stream(versions, renderer, tenant.verbatim.get(resource, [])))


def _with_visibility(record: dict[str, Any], visible_from: int | None) -> dict[str, Any]:
    if visible_from is not None:
        record["visible_from"] = timefmt.format_ticks(visible_from)
    return record


def _stream(versions: Iterator[tuple[int | None, dict[str, Any]]],
            renderer: Renderer, verbatim: list[tuple[int | None, Any]]) -> Iterator[bytes]:
    """`{"value":[...]}` in chunks, so a million records never sit in memory at once.

    Verbatim records come last, exactly as they were given."""
    yield b'{"value":['
    first = True
    chunk: list[dict[str, Any]] = []

    def flush() -> bytes:
        text = json.dumps(chunk, ensure_ascii=False, separators=(",", ":"),
                          check_circular=False)[1:-1]
        return (text if first else "," + text).encode()

    for vf, record in versions:
        chunk.append(_with_visibility(renderer(record), vf))
        if len(chunk) >= STREAM_CHUNK:
            yield flush()
            first = False
            chunk = []
    if chunk:
        yield flush()
        first = False
    for _vf, raw in list(verbatim):
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
        yield (text if first else "," + text).encode()
        first = False
    yield b"]}"
