"""One request's way through the emulator: control API, or faults -> token endpoint / Graph
(token check, rate limits, roles, handler) -> common headers -> request log."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from emulator import auth, errors, graph, timefmt
from emulator.errors import AadError, GraphError
from emulator.faults import Decision
from emulator.messages import Request, Response

if TYPE_CHECKING:
    from emulator.app import Emulator

_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token/?$", re.I)
_DISCOVERY = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration/?$", re.I)
_JWKS = re.compile(r"^/([^/]+)/discovery/v2\.0/keys/?$", re.I)
_GRAPH = re.compile(r"^/(v1\.0|beta)(/.*)?$", re.I)


class Dispatcher:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def __call__(self, req: Request) -> Response:
        req.now = self.emu.clock.now()
        req.request_id = str(uuid.uuid4())
        req.client_request_id = req.header("client-request-id") or req.request_id
        if req.path.lower().startswith("/_emulator/"):
            return self.emu.control.handle(req)

        graph_match = _GRAPH.match(req.path)
        token_match = _TOKEN.match(req.path)
        claims = auth.peek_claims(req.header("authorization")) if graph_match else {}
        form = self._form(req) if token_match else {}
        tenant_hint = str(claims.get("tid") or (token_match.group(1) if token_match else "")
                          or (_tenant_segment(req.path) or ""))
        entry: dict[str, Any] = {
            "method": req.method,
            "path": req.raw_path,
            "query": req.query,
            "status": None,
            "time": timefmt.format_micro(req.now),
            "token_present": bool(req.header("authorization")),
            "tenant": tenant_hint.lower() or None,
            "app_id": claims.get("appid") or (form.get("client_id") if token_match else None),
            "early_retry": False,
            "fault": None,
            "retry_after": None,
            "request_id": req.request_id,
            "client_request_id": req.client_request_id,
        }
        if graph_match and req.method == "POST":
            entry["body"] = _json_or_none(req.body)  # action bodies: user ids, never secrets
        segments = [s for s in req.path.split("/") if s]
        workload = (tenant_hint.lower(), str(entry["app_id"] or "").lower(),
                    segments[1].split("(")[0].lower() if len(segments) > 1 else "")
        service = graph.service_of(req.path) if graph_match else None
        target = req.raw_path + (f"?{req.query}" if req.query else "")
        decision = self.emu.faults.before(
            req.method, target, bool(graph_match), workload,
            no_retry_after=service == "identityProtection", now=req.now)
        entry["early_retry"] = decision.early_retry
        if decision.latency_s:
            self.emu.sleep(decision.latency_s)

        after = self.emu.faults.config.after_handler and not decision.early_retry
        response: Response | None = None
        if not after:
            response = self._fault_response(req, decision, bool(graph_match))
        if response is None:
            if graph_match:
                response = self._graph(req, graph_match.group(1).lower(),
                                       graph_match.group(2) or "", entry)
            elif token_match:
                response = self._token(req, token_match.group(1), form)
            else:
                response = self._identity(req)
            if after:
                response = self._fault_response(req, decision, bool(graph_match)) or response
        response.trickle = decision.trickle
        if decision.kind and (response.drop or response.status == decision.status):
            entry["fault"] = decision.kind
        response.headers.setdefault("request-id", req.request_id)
        response.headers.setdefault("client-request-id", req.client_request_id)
        response.headers.setdefault("Date", timefmt.format_http_date(req.now))
        response.headers.setdefault(
            "x-ms-ags-diagnostic",
            '{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0",'
            '"ScaleUnit":"000","RoleInstance":"LOCAL"}}')
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.headers.setdefault("Cache-Control", "no-cache")
        entry["status"] = None if response.drop else response.status
        entry["retry_after"] = response.headers.get("Retry-After")
        self.emu.request_log.add(entry)
        return response

    # -- pieces -------------------------------------------------------------------------------

    @staticmethod
    def _form(req: Request) -> dict[str, str]:
        try:
            parsed = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return {}
        return {k: v[0] for k, v in parsed.items()}

    def _fault_response(self, req: Request, decision: Decision,
                        is_graph: bool) -> Response | None:
        if decision.drop:
            return Response(0, drop=True)
        if decision.status is None:
            return None
        body = errors.injected_body(decision.status, req.now, req.request_id,
                                    req.client_request_id)
        headers = {}
        if decision.retry_after is not None:
            headers["Retry-After"] = decision.retry_after
        content_type = graph.GRAPH_JSON if is_graph else "application/json; charset=utf-8"
        return Response.json(decision.status, body, headers, content_type=content_type)

    def _graph_error(self, req: Request, err: GraphError) -> Response:
        body = errors.graph_error_body(err.code, err.message, req.now, req.request_id,
                                       req.client_request_id)
        return Response.json(err.status, body, dict(err.headers), content_type=graph.GRAPH_JSON)

    def _graph(self, req: Request, version: str, rest: str, entry: dict[str, Any]) -> Response:
        try:
            principal = self.emu.token_service.validate(req.header("authorization"))
            entry["tenant"], entry["app_id"] = principal.tenant_id, principal.app_id
            tenant = self.emu.tenant_by_id(principal.tenant_id)
            rt = graph.route(version, rest)
            limited = self.emu.faults.rate_limit(
                rt.service, principal.tenant_id, principal.app_id, req.now,
                self.emu.behaviour.identity_protection_background_rps)
            if limited is not None:
                entry["fault"] = limited.kind or "rate_limit"
                headers = {"Retry-After": limited.retry_after} if limited.retry_after else {}
                body = errors.throttled_body(req.now, req.request_id, req.client_request_id)
                return Response.json(429, body, headers, content_type=graph.GRAPH_JSON)
            graph.check_roles(rt, principal, self.emu.behaviour.forbidden_code)
            return self.emu.graph_api.handle(req, version, rt, tenant, principal)
        except GraphError as err:
            return self._graph_error(req, err)

    def _token(self, req: Request, segment: str, form: dict[str, str]) -> Response:
        service = self.emu.token_service
        headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
                   "x-ms-request-id": req.request_id}
        try:
            if req.method != "POST":
                raise AadError(405, "invalid_request", 900561,
                               "The endpoint only accepts POST requests.")
            if self.emu.faults.config.token_throttle:
                # Observed (MSAL.NET issue 2855): plain text, not an AADSTS JSON body.
                return Response(429, {**headers, "Retry-After": "60",
                                      "Content-Type": "text/plain"}, b"Too Many Requests")
            content_type = (req.header("content-type") or "").lower()
            if "application/x-www-form-urlencoded" not in content_type:
                raise AadError(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: "
                               "'grant_type'.")
            payload, _app = service.token(segment, form, req.header("authorization"))
            return Response.json(200, payload, headers)
        except AadError as err:
            body, trace = errors.aad_error_body(err, req.now, self.emu.base_url,
                                                req.header("client-request-id"))
            headers["x-ms-request-id"] = trace
            return Response.json(err.status, body, headers)

    def _identity(self, req: Request) -> Response:
        """OpenID discovery and the signing keys."""
        service = self.emu.token_service
        try:
            match = _DISCOVERY.match(req.path)
            if match and req.method == "GET":
                return Response.json(200, service.discovery(match.group(1)))
            match = _JWKS.match(req.path)
            if match and req.method == "GET":
                return Response.json(200, service.jwks(match.group(1)))
        except AadError as err:
            body, _trace = errors.aad_error_body(err, req.now, self.emu.base_url,
                                                 req.header("client-request-id"))
            return Response.json(err.status, body)
        body = errors.graph_error_body("NotFound", f"No endpoint at {req.path}.", req.now,
                                       req.request_id, req.client_request_id)
        return Response.json(404, body)


def _tenant_segment(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[0] if parts and not parts[0].lower().startswith(("v1.0", "beta")) else None


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
