"""GraphSettings.from_connection: clouds, placeholders, scope, credentials, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from commands.graph.settings import GraphSettings, request_timeouts
from executor.errors import InvalidInput

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AUTH = "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token"


def settings(**overrides: Any) -> GraphSettings:
    connection = {"auth_url": AUTH, "tenant_id": TENANT, "client_id": "app",
                  "client_secret": "s3cr3t-value"}
    connection.update(overrides)
    return GraphSettings.from_connection(connection)


def refused(**overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        settings(**overrides)
    return caught.value


@pytest.mark.parametrize("auth_url", [
    "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token",
    "https://login.microsoftonline.com/{{tenant_id}}/oauth2/v2.0/token",
    "https://login.microsoftonline.com/<tenant_id>/oauth2/v2.0/token",
    f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
])
def test_tenant_placeholders_are_filled(auth_url: str) -> None:
    s = settings(auth_url=auth_url)
    assert s.auth_url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert s.authority == f"https://login.microsoftonline.com/{TENANT}"
    assert s.tenant == TENANT


def test_placeholder_without_tenant_names_tenant_id() -> None:
    assert refused(tenant_id=None).name == "Tenant ID"


def test_global_defaults() -> None:
    s = settings()
    assert (s.server_url, s.api_version, s.scope, s.cloud) == (
        "https://graph.microsoft.com", "v1.0", "https://graph.microsoft.com/.default", "global")
    assert s.base_url == "https://graph.microsoft.com/v1.0"
    assert s.verify is True and request_timeouts(s.timeout_seconds) == (10.0, 60.0)


@pytest.mark.parametrize(("cloud", "login", "graph"), [
    ("usgov", "login.microsoftonline.us", "graph.microsoft.us"),
    ("usgov-dod", "login.microsoftonline.us", "dod-graph.microsoft.us"),
    ("china", "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn"),
])
def test_cloud_moves_hosts_and_scope_together(cloud: str, login: str, graph: str) -> None:
    s = settings(cloud=cloud, auth_url=f"https://{login}/{{tenant_id}}/oauth2/v2.0/token",
                 server_url="https://graph.microsoft.com")
    assert s.server_url == f"https://{graph}"
    assert s.scope == f"https://{graph}/.default"
    assert s.authority == f"https://{login}/{TENANT}"


def test_auth_url_derived_from_cloud_and_tenant_when_missing() -> None:
    s = settings(cloud="usgov", auth_url=None)
    assert s.auth_url == f"https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token"


def test_global_login_host_with_other_cloud_is_refused() -> None:
    error = refused(cloud="usgov")
    assert error.name == "Auth URL" and "login.microsoftonline.us" in error.problem


def test_graph_host_of_another_cloud_is_refused() -> None:
    assert refused(server_url="https://graph.microsoft.us").name == "Server URL"


def test_scope_is_the_clouds_graph_host_and_a_different_one_is_refused() -> None:
    s = settings(server_url="https://127.0.0.1:8443/")
    assert s.server_url == "https://127.0.0.1:8443"
    assert s.scope == "https://graph.microsoft.com/.default"
    assert settings(scope="https://graph.microsoft.com/.default").scope == s.scope
    assert refused(scope="https://graph.microsoft.us/.default").name == "Scope"
    assert refused(scope="https://127.0.0.1:8443/.default").name == "Scope"


@pytest.mark.parametrize(("overrides", "name"), [
    ({"client_secret": None}, "Client Secret"),
    ({"client_id": ""}, "Client ID"),
    ({"api_version": "v2"}, "Api Version"),
    ({"grant_type": "password"}, "Grant Type"),
    ({"cloud": "germany"}, "Cloud"),
    ({"server_url": "http://graph.example"}, "Server URL"),
    ({"server_url": "https://graph.microsoft.com/v1.0"}, "Server URL"),
    ({"server_url": "https://user:pw@graph.example"}, "Server URL"),
    ({"auth_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}, "Auth URL"),
    ({"auth_url": "https://login.microsoftonline.com/x/oauth2/token"}, "Auth URL"),
    ({"auth_url": "http://login.example/t/oauth2/v2.0/token", "tenant_id": None}, "Auth URL"),
    ({"auth_url": "https://login.microsoftonline.com/other/oauth2/v2.0/token"}, "Tenant ID"),
    ({"tenant_id": "a/../b"}, "Tenant ID"),
    ({"timeout_seconds": 0}, "Timeout Seconds"),
    ({"timeout_seconds": "soon"}, "Timeout Seconds"),
    ({"verify_tls": "maybe"}, "Verify TLS"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "CA Bundle"),
    ({"proxy_url": "socks5://proxy:1080"}, "Proxy URL"),
    ({"certificate_thumbprint": "AB" * 20}, "Certificate Path"),
])
def test_refusals_name_the_parameter(overrides: dict[str, Any], name: str) -> None:
    assert refused(**overrides).name == name


def test_secret_is_not_in_repr() -> None:
    s = settings(proxy_url="http://user:proxy-pass@proxy:3128")
    assert "s3cr3t-value" not in repr(s) and "proxy-pass" not in repr(s)
    assert {"s3cr3t-value", "proxy-pass"} <= set(s.secrets())


def test_tls_options() -> None:
    assert settings(verify_tls="false").verify is False
    assert settings(ca_bundle=__file__).verify == __file__
    assert request_timeouts(settings(timeout_seconds="5").timeout_seconds) == (5.0, 5.0)


def _key_and_cert(tmp_path: Path, passphrase: bytes | None = None) -> tuple[Path, str]:
    import trustme
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    leaf = trustme.CA().issue_cert("app.example")
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption)
    cert_pem = leaf.cert_chain_pems[0].bytes()
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem + cert_pem)
    thumbprint = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA1()).hex()
    return path, thumbprint.upper()


def test_certificate_thumbprint_from_pem_and_passphrase(tmp_path: Path) -> None:
    path, thumbprint = _key_and_cert(tmp_path, b"pass-phrase")
    s = settings(client_secret=None, certificate_path=str(path),
                 certificate_passphrase="pass-phrase")
    assert s.certificate is not None and s.certificate.thumbprint == thumbprint
    assert s.client_secret is None
    assert s.certificate.for_msal()["passphrase"] == "pass-phrase"
    assert refused(client_secret=None, certificate_path=str(path),
                   certificate_passphrase="wrong").name == "Certificate Passphrase"
    assert refused(client_secret=None,
                   certificate_path=str(path)).name == "Certificate Passphrase"


def test_certificate_thumbprint_format(tmp_path: Path) -> None:
    path, thumbprint = _key_and_cert(tmp_path)
    colons = ":".join(thumbprint[i:i + 2] for i in range(0, 40, 2)).lower()
    s = settings(certificate_path=str(path), certificate_thumbprint=colons)
    assert s.certificate is not None and s.certificate.thumbprint == thumbprint
    assert refused(certificate_path=str(path),
                   certificate_thumbprint="xyz").name == "Certificate Thumbprint"
    assert refused(certificate_path=str(tmp_path / "missing.pem")).name == "Certificate Path"
