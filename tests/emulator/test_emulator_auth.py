"""Token endpoint, OpenID discovery, MSAL flows, and Graph's 401/403 answers."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import jwt
import msal
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator import Emulator

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
AAD_KEYS = {"error", "error_description", "error_codes", "timestamp", "trace_id",
            "correlation_id", "error_uri"}


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- MSAL ---------------------------------------------------------------------------------------


def test_msal_secret_flow_gets_graph_token(client):
    result = client.msal_app(app="full").acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    claims = _claims(result["access_token"])
    conn = client.emu.connection()
    assert claims["tid"] == conn["tenant_id"]
    assert claims["appid"] == conn["client_id"]
    assert set(claims["roles"]) == {
        "AuditLog.Read.All", "Directory.Read.All", "IdentityRiskEvent.Read.All",
        "IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All",
        "IdentityRiskyServicePrincipal.Read.All", "IdentityRiskyServicePrincipal.ReadWrite.All"}
    assert claims["exp"] - claims["iat"] == 3600
    assert client.get("/v1.0/identityProtection/riskyUsers",
                      token=result["access_token"]).status_code == 200


def test_msal_certificate_flow_with_thumbprint(client):
    result = client.msal_app(app="cert").acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result
    assert _claims(result["access_token"])["appidacr"] == "2"
    assert client.get("/v1.0/auditLogs/signIns", token=result["access_token"],
                      query={"$top": 1}).status_code == 200


def test_msal_certificate_flow_with_public_certificate(client):
    """MSAL >= 1.35 signs PS256 with x5t#S256 and x5c when given the certificate itself."""
    conn = client.emu.connection(app="cert")
    pem = Path(conn["certificate_path"]).read_text()
    app = client.msal_app(app="cert", credential={"private_key": pem, "public_certificate": pem})
    result = app.acquire_token_for_client([f"{client.base}/.default"])
    assert "access_token" in result, result


def test_msal_wrong_thumbprint_is_rejected(client):
    conn = client.emu.connection(app="cert")
    pem = Path(conn["certificate_path"]).read_text()
    app = client.msal_app(app="cert", credential={"private_key": pem, "thumbprint": "AB" * 20})
    result = app.acquire_token_for_client([GRAPH_SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_msal_discovery_of_unknown_tenant_fails(client):
    conn = client.emu.connection()
    with pytest.raises(ValueError):
        msal.ConfidentialClientApplication(
            conn["client_id"], client_credential=conn["client_secret"],
            authority=f"{client.base}/{uuid.uuid4()}", instance_discovery=False,
            http_client=client.session)


def test_discovery_document(client):
    tid = client.emu.tenant_ids[0]
    doc = client.session.get(f"{client.base}/{tid}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"{client.base}/{tid}/oauth2/v2.0/token"
    assert doc["issuer"] == f"{client.base}/{tid}/v2.0"
    keys = client.session.get(doc["jwks_uri"]).json()["keys"]
    token = client.token()
    public = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="https://graph.microsoft.com",
                        options={"verify_exp": False})  # stamped by the (pinned) emulator clock
    assert claims["tid"] == tid


# -- token errors -------------------------------------------------------------------------------


def _aad_error(response, status: int, error: str, code: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= AAD_KEYS
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}:")
    for line in ("\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "):
        assert line in body["error_description"]
    assert body["error_uri"].endswith(f"error?code={code}")
    return body


def test_wrong_secret(client):
    secret = "abc8Q~" + "x" * 34
    response = client.token_response(client_secret=secret)
    body = _aad_error(response, 401, "invalid_client", 7000215)
    assert secret not in response.text
    assert client.emu.connection()["client_secret"] not in response.text
    assert body["timestamp"].endswith("Z")


def test_unknown_app(client):
    _aad_error(client.token_response(client_id=str(uuid.uuid4())), 400, "unauthorized_client",
               700016)


def test_app_of_another_tenant_is_unknown():
    with Emulator(seed=3, tenants=2, signins=50) as emu:
        conn = emu.connection(0)
        other = emu.connection(1)
        response = requests.post(
            other["auth_url"], verify=emu.ca_bundle,
            data={"grant_type": "client_credentials", "client_id": conn["client_id"],
                  "client_secret": conn["client_secret"], "scope": GRAPH_SCOPE})
        _aad_error(response, 400, "unauthorized_client", 700016)


def test_unknown_tenant(client):
    conn = client.emu.connection()
    url = conn["auth_url"].replace(conn["tenant_id"], str(uuid.uuid4()))
    response = client.session.post(url, data={
        "grant_type": "client_credentials", "client_id": conn["client_id"],
        "client_secret": conn["client_secret"], "scope": GRAPH_SCOPE})
    _aad_error(response, 400, "invalid_tenant", 90002)


@pytest.mark.parametrize("scope", [
    "https://graph.microsoft.com/User.Read",
    "https://graph.microsoft.com/.default https://management.azure.com/.default",
    "https://management.azure.com/.default",
    "openid",
])
def test_bad_scope(client, scope):
    _aad_error(client.token_response(scope=scope), 400, "invalid_scope", 70011)


def test_emulator_scope_is_accepted(client):
    response = client.token_response(scope=f"{client.base}/.default")
    assert response.status_code == 200
    assert _claims(response.json()["access_token"])["aud"] == client.base


def test_no_credentials(client):
    _aad_error(client.token_response(client_secret=None), 400, "invalid_client", 7000218)


def test_unsupported_grant(client):
    _aad_error(client.token_response(grant_type="password"), 400, "unsupported_grant_type",
               70003)


def test_basic_auth_secret_is_accepted(client):
    conn = client.emu.connection()
    response = client.session.post(conn["auth_url"], auth=(conn["client_id"],
                                                           conn["client_secret"]),
                                   data={"grant_type": "client_credentials",
                                         "scope": GRAPH_SCOPE})
    assert response.status_code == 200, response.text


def _assertion(conn: dict, key, aud: str, exp_delta: int = 600, x5t: str | None = None,
               sub: str | None = None) -> str:
    pem = Path(conn["certificate_path"]).read_bytes()
    if key is None:
        key = serialization.load_pem_private_key(pem, None)
    thumb = x5t or base64.urlsafe_b64encode(
        bytes.fromhex(conn["certificate_thumbprint"])).decode()
    now = int(time.time())
    return jwt.encode({"aud": aud, "iss": conn["client_id"], "sub": sub or conn["client_id"],
                       "jti": str(uuid.uuid4()), "nbf": now, "exp": now + exp_delta},
                      key, algorithm="RS256", headers={"x5t": thumb})


@pytest.mark.parametrize("variant", ["other_key", "wrong_aud", "expired", "wrong_sub",
                                     "garbage", "secret_app"])
def test_bad_assertion(client, variant):
    conn = client.emu.connection(app="cert")
    aud = conn["auth_url"]
    assertion = {
        "other_key": lambda: _assertion(conn, rsa.generate_private_key(65537, 2048), aud),
        "wrong_aud": lambda: _assertion(conn, None, "https://login.microsoftonline.com/x"),
        "expired": lambda: _assertion(conn, None, aud, exp_delta=-3600),
        "wrong_sub": lambda: _assertion(conn, None, aud, sub=str(uuid.uuid4())),
        "garbage": lambda: "not.a.jwt",
        "secret_app": lambda: _assertion(conn, None, aud),
    }[variant]()
    client_id = client.emu.connection(app="full")["client_id"] if variant == "secret_app" \
        else conn["client_id"]
    response = client.session.post(aud, data={
        "grant_type": "client_credentials", "client_id": client_id, "scope": GRAPH_SCOPE,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    _aad_error(response, 401, "invalid_client", 700027)
    assert assertion not in response.text


def test_valid_handmade_assertion(client):
    conn = client.emu.connection(app="cert")
    response = client.session.post(conn["auth_url"], data={
        "grant_type": "client_credentials", "client_id": conn["client_id"],
        "scope": GRAPH_SCOPE,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(conn, None, conn["auth_url"])})
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 3600


def test_secrets_look_like_entra_secrets(emu):
    for app in ("full", "readonly", "none"):
        secret = emu.connection(app=app)["client_secret"]
        assert len(secret) == 40
        assert secret[4:6] == "Q~"
        assert {"~", ".", "_"} <= set(secret)
    assert "client_secret" not in emu.connection(app="cert")
    assert len(emu.connection(app="cert")["certificate_thumbprint"]) == 40


def test_secret_never_logged(client):
    seq = client.last_seq()
    client.token_response(client_secret="wrong-secret-value")
    client.token_response()
    log = json.dumps(client.requests_log(seq))
    assert client.emu.connection()["client_secret"] not in log
    assert "wrong-secret-value" not in log
    assert client.token() not in log


# -- Graph 401 ----------------------------------------------------------------------------------


def _graph_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    return error


def test_missing_token(client):
    response = client.session.get(f"{client.base}/v1.0/identityProtection/riskyUsers")
    _graph_error(response, 401, "InvalidAuthenticationToken")
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_malformed_token(client, token):
    _graph_error(client.get("/v1.0/auditLogs/signIns", token=token), 401,
                 "InvalidAuthenticationToken")


def test_token_signed_by_another_key(client):
    claims = _claims(client.token())
    forged = jwt.encode(claims, rsa.generate_private_key(65537, 2048), algorithm="RS256")
    _graph_error(client.get("/v1.0/identityProtection/riskyUsers", token=forged), 401,
                 "InvalidAuthenticationToken")


def test_token_of_another_emulator_tenant_is_rejected(client):
    with Emulator(seed=99, signins=50) as other:
        conn = other.connection()
        response = requests.post(conn["auth_url"], verify=other.ca_bundle, data={
            "grant_type": "client_credentials", "client_id": conn["client_id"],
            "client_secret": conn["client_secret"], "scope": GRAPH_SCOPE})
        foreign = response.json()["access_token"]
    assert _claims(foreign)["tid"] not in client.emu.tenant_ids
    _graph_error(client.get("/v1.0/identityProtection/riskyUsers", token=foreign), 401,
                 "InvalidAuthenticationToken")


def test_token_for_unknown_tenant_signed_by_emulator_is_rejected(client):
    """Even a correctly signed token must name one of the emulator's tenants as issuer."""
    claims = _claims(client.token())
    other = str(uuid.uuid4())
    claims.update(tid=other, iss=f"https://sts.windows.net/{other}/")
    forged = jwt.encode(claims, client.emu.token_service._key, algorithm="RS256")
    error = _graph_error(client.get("/v1.0/identityProtection/riskyUsers", token=forged), 401,
                         "InvalidAuthenticationToken")
    assert "issuer" in error["message"]


def test_expired_token(fresh):
    token = fresh.token()
    assert fresh.get("/v1.0/identityProtection/riskyUsers", token=token).status_code == 200
    fresh.control("POST", "clock", {"advance_seconds": 3599})
    assert fresh.get("/v1.0/identityProtection/riskyUsers", token=token).status_code == 200
    fresh.control("POST", "clock", {"advance_seconds": 1})
    error = _graph_error(fresh.get("/v1.0/identityProtection/riskyUsers", token=token), 401,
                         "InvalidAuthenticationToken")
    assert "expired" in error["message"]


def test_lifetime_and_revocation(fresh):
    old = fresh.token()
    assert fresh.control("POST", "tokens", {"lifetime_seconds": 120}) == {"lifetime_seconds": 120}
    new_response = fresh.token_response()
    assert new_response.json()["expires_in"] == 120
    new = new_response.json()["access_token"]
    fresh.control("POST", "tokens", {"revoke_all": True})
    for token in (old, new):
        _graph_error(fresh.get("/v1.0/identityProtection/riskyUsers", token=token), 401,
                     "InvalidAuthenticationToken")
    assert fresh.get("/v1.0/identityProtection/riskyUsers",
                     token=fresh.token(fresh=True)).status_code == 200


# -- Graph 403 ----------------------------------------------------------------------------------

ENDPOINTS = {
    "riskyUsers": ("GET", "/v1.0/identityProtection/riskyUsers"),
    "riskDetections": ("GET", "/v1.0/identityProtection/riskDetections"),
    "signIns": ("GET", "/v1.0/auditLogs/signIns?$top=1"),
    "history": ("GET", "/v1.0/identityProtection/riskyUsers/{uid}/history"),
    "dismiss": ("POST", "/v1.0/identityProtection/riskyUsers/dismiss"),
    "confirmCompromised": ("POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised"),
    "betaRiskyUsers": ("GET", "/beta/riskyUsers"),
}
ALLOWED = {
    "full": set(ENDPOINTS),
    "cert": set(ENDPOINTS),
    "readonly": {"riskyUsers", "riskDetections", "signIns", "history", "betaRiskyUsers"},
    "none": set(),
}


@pytest.mark.parametrize("app", ["full", "readonly", "none", "cert"])
def test_roles_per_endpoint(client, app):
    uid = client.truth("riskyUsers")[0]["id"]
    for name, (method, path) in ENDPOINTS.items():
        path = path.format(uid=uid)
        if method == "GET":
            response = client.get(path, app=app)
            expected = 200
        else:
            # An unknown id: allowed apps get 404 (no state change), denied ones 403.
            response = client.post(path, {"userIds": [str(uuid.uuid4())]}, app=app)
            expected = 404
        if name in ALLOWED[app]:
            assert response.status_code == expected, (app, name, response.text)
        elif name == "signIns":
            error = _graph_error(response, 403, "Authorization_RequestDenied")
            assert error["message"] == "Insufficient privileges to complete the operation."
        else:  # identityProtection answers missing roles with its own code and message
            error = _graph_error(response, 403, "Forbidden")
            assert error["message"] == ("You cannot perform the requested operation, required "
                                        "scopes are missing in the token.")


def test_token_of_another_emulator_is_refused(client):
    """Emulators in one process share their signing key; each accepts only its own tokens."""
    from emulator import Emulator
    from tests.emulator.support import Client

    with Emulator(seed=42, signins=10, now="2025-03-01T12:00:00Z", frozen=True) as other:
        foreign = Client(other).token()
    response = client.get("/v1.0/identityProtection/riskyUsers", token=foreign)
    error = _graph_error(response, 401, "InvalidAuthenticationToken")
    assert error["message"] == "Access token validation failure. Invalid signature."
