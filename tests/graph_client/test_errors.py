"""Graph error bodies to ApiError: both spellings of innerError, 403 hints, non-JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from commands.graph.client import GraphClient
from commands.graph.errors import error_from_response
from executor.errors import ApiError, RetriableError
from executor.redaction import Redactor
from tests.control import EmulatorControl
from tests.graph_client.conftest import graph_calls


def response(status: int, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize("inner_key", ["innerError", "innererror"])
@pytest.mark.parametrize("date_key", ["date", "Date"])
def test_graph_body_either_spelling(inner_key: str, date_key: str) -> None:
    body = {"error": {"code": "BadRequest", "message": "Invalid filter clause",
                      inner_key: {"request-id": "rid-1", date_key: "2021-09-07T07:11:46"}}}
    error = error_from_response(response(400, body), redactor=Redactor())
    assert type(error) is ApiError
    assert (error.status_code, error.message, error.code, error.request_id) == (
        400, "Invalid filter clause", "BadRequest", "rid-1")


def test_request_id_falls_back_to_the_header() -> None:
    body = {"error": {"code": "x", "message": "m"}}
    error = error_from_response(response(404, body, {"request-id": "hdr"}), redactor=Redactor())
    assert error.request_id == "hdr"


@pytest.mark.parametrize(("permissions", "hint"), [
    (["IdentityRiskyUser.ReadWrite.All"],
     " This command needs the application permission IdentityRiskyUser.ReadWrite.All."),
    (["AuditLog.Read.All", "Directory.Read.All"],
     " This command needs the application permissions AuditLog.Read.All and Directory.Read.All."),
    ([], ""),
])
def test_403_names_the_missing_permissions(permissions: list[str], hint: str) -> None:
    body = {"error": {"code": "Authorization_RequestDenied",
                      "message": "Insufficient privileges to complete the operation."}}
    error = error_from_response(response(403, body), redactor=Redactor(), permissions=permissions)
    assert error.message == "Insufficient privileges to complete the operation." + hint


def test_403_for_a_license_does_not_blame_permissions() -> None:
    body = {"error": {"code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                      "message": "Neither tenant is B2C or tenant doesn't have premium license"}}
    error = error_from_response(response(403, body), redactor=Redactor(),
                                permissions=["AuditLog.Read.All"])
    assert "AuditLog" not in error.message


def test_non_json_body_gives_a_short_message_without_the_body() -> None:
    error = error_from_response(response(502, b"<html>upstream s3cr3t</html>"),
                                redactor=Redactor())
    assert error.status_code == 502
    assert "502" in error.message
    assert "s3cr3t" not in error.message and "<html>" not in error.message


def test_echoed_secrets_are_redacted_and_long_messages_cut() -> None:
    redactor = Redactor()
    redactor.add("s3cr3t-value")
    body = {"error": {"code": "x", "message": "bad client_secret=s3cr3t-value " + "x" * 900}}
    error = error_from_response(response(400, body), redactor=redactor, cls=RetriableError,
                                note="gave up")
    assert isinstance(error, RetriableError)
    assert "s3cr3t" not in error.message and len(error.message) < 600
    assert error.message.endswith("(gave up)")


def test_403_from_the_emulator_names_the_permission(make_client: Callable[..., GraphClient],
                                                    ctl: EmulatorControl) -> None:
    client = make_client("readonly")
    with pytest.raises(ApiError) as caught:
        client.post_action("identityProtection/riskyUsers/dismiss",
                           {"userIds": ["00000000-0000-4000-8000-000000000000"]},
                           permissions=["IdentityRiskyUser.ReadWrite.All"])
    error = caught.value
    assert (error.status_code, error.code) == (403, "Forbidden")
    assert error.message == ("You cannot perform the requested operation, required scopes are "
                             "missing in the token. This command needs the application permission "
                             "IdentityRiskyUser.ReadWrite.All.")
    assert error.request_id == graph_calls(ctl)[0]["request_id"]
    assert len(graph_calls(ctl)) == 1  # a 403 is not retried


def test_400_keeps_graphs_message(make_client: Callable[..., GraphClient],
                                  ctl: EmulatorControl) -> None:
    with pytest.raises(ApiError) as caught:
        make_client().get("auditLogs/signIns", {"$filter": "nosuchproperty eq 1"})
    assert caught.value.status_code == 400 and caught.value.message
    assert len(graph_calls(ctl)) == 1
