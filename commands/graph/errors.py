"""Graph error responses turned into :class:`~executor.errors.ApiError` (status, message, ids).

Graph's body is ``{"error": {"code", "message", "innerError": {"request-id", "date"}}}``; older
services spell it ``innererror`` and ``Date`` (facts §4.1), so both are read. The message is
Graph's own, redacted (a service may echo request data back) and shortened; a body that is not
Graph's JSON gives a short message with the status and nothing from the body.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from commands.graph.transport import request_id as header_request_id
from executor.errors import ApiError
from executor.redaction import Redactor

MAX_MESSAGE = 500
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_LICENSE_CODES = ("nonpremium", "license")
_LICENSE_WORDS = ("not licensed", "premium license", "license is required", "licence")
LICENCE_NEEDED = {
    "auditLogs": ("Microsoft Entra ID P1 or P2", "sign-in logs"),
    "identityProtection": ("Microsoft Entra ID P2 (P1 gets risk detections with the risk "
                           "hidden; service principals need Workload Identities Premium)",
                           "risk data"),
}


def graph_error_body(response: requests.Response) -> dict[str, Any] | None:
    """The ``error`` object of a Graph error response, if the body is one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _inner(error: dict[str, Any]) -> dict[str, Any]:
    for key in ("innerError", "innererror", "InnerError"):
        inner = error.get(key)
        if isinstance(inner, dict):
            return inner
    return {}


def permission_hint(permissions: Sequence[str]) -> str:
    if not permissions:
        return ""
    if len(permissions) == 1:
        return f" This command needs the application permission {permissions[0]}."
    listed = ", ".join(permissions[:-1]) + f" and {permissions[-1]}"
    return f" This command needs the application permissions {listed}."


def is_licence_refusal(status: int, code: str | None, message: str) -> bool:
    """A 403 that is about the tenant's licence, not the app's permissions: sign-ins without P1
    answer ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``, risk data without P2 a
    ``Forbidden`` whose message says the tenant is not licensed."""
    if status != 403:
        return False
    lowered_code = (code or "").lower()
    lowered = message.lower()
    return (any(c in lowered_code for c in _LICENSE_CODES)
            or any(w in lowered for w in _LICENSE_WORDS))


def licence_message(workload: str) -> str:
    needed, what = LICENCE_NEEDED.get(workload, ("a premium Microsoft Entra ID",
                                                 "this data"))
    return (f"The tenant's licence does not cover {what}: Microsoft Graph serves it only to "
            f"tenants with {needed}. Granting permissions will not help.")


def workload_of_url(url: str) -> str:
    """``auditLogs`` for ``https://host/v1.0/auditLogs/signIns?...``."""
    path = url.split("?", 1)[0].split("://", 1)[-1]
    segments = path.split("/")[1:]
    if segments and segments[0] in ("v1.0", "beta"):
        segments = segments[1:]
    return segments[0] if segments else ""


def error_from_response(response: requests.Response, *, redactor: Redactor,
                        permissions: Sequence[str] = (), cls: type[ApiError] = ApiError,
                        note: str = "") -> ApiError:
    """The error to raise for a non-success response."""
    status = response.status_code
    error = graph_error_body(response)
    code: str | None = None
    message = ""
    rid = header_request_id(response)
    if error is not None:
        raw_code, raw_message = error.get("code"), error.get("message")
        code = raw_code if isinstance(raw_code, str) else None
        message = raw_message if isinstance(raw_message, str) else ""
        inner = _inner(error)
        rid = inner.get("request-id") or inner.get("requestId") or rid
    if not message:
        reason = _REASONS.get(status) or response.reason or "error"
        if error is None:
            message = f"HTTP {status} {reason} from Microsoft Graph (the response was not "\
                      "Graph's JSON error body)"
        else:
            message = f"HTTP {status} {reason}" + (f" ({code})" if code else "")
    message = " ".join(redactor.text(message).split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 3] + "..."
    if is_licence_refusal(status, code, message):
        message = f"{licence_message(workload_of_url(response.url or ''))} (Graph: {message})"
    elif status == 403:
        message = message.rstrip() + permission_hint(permissions)
    if note:
        message = f"{message} ({note})"
    return cls(status, message, request_id=str(rid) if rid else None, code=code)


def unexpected_response(status: int | None, what: str, *, request_id: str | None = None
                        ) -> ApiError:
    """A 2xx answer that is not what Graph documents (not JSON, not an object, too large):
    reported as is, never retried (a repeated read of a 200 would get the same)."""
    return ApiError(status, f"Graph sent an unexpected response ({what})",
                    request_id=request_id, code="unexpectedResponse")
