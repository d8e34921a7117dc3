"""Connection parameters turned into one checked, immutable :class:`GraphSettings`.

Everything a user can get wrong in the connection is refused here, before any request, with an
:class:`~executor.errors.InvalidInput` that names the parameter: a cloud whose login or Graph host
does not match the URLs, a scope for another host, a missing credential, an unreadable key file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from executor.connection import parse_bool, url_credentials
from executor.errors import InvalidInput

DEFAULT_SERVER_URL = "https://graph.microsoft.com"
API_VERSIONS = ("v1.0", "beta")
GRANT_TYPE = "client_credentials"
DEFAULT_TIMEOUT = 60.0
MAX_CONNECT_TIMEOUT = 10.0
MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 600.0
"""Timeout Seconds' range; ``schemas/connection.schema.json`` states the same (a test checks)."""
DEFAULT_COMMAND_TIMEOUT = 600.0
"""Ten minutes: some 300 pages of sign-ins at Graph's five requests per ten seconds, well past
any single-page command, and short enough that a stuck playbook step fails the same hour."""
MIN_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT = 10.0, 86400.0
PROXY_SCHEMES = ("http", "https")
MAX_PEM_BYTES = 1 << 20


@dataclass(frozen=True)
class Cloud:
    name: str
    login_hosts: tuple[str, ...]  # the first is the one we suggest
    graph_host: str


# Facts §5.5. China has two documented login hosts; both are accepted.
CLOUDS: dict[str, Cloud] = {
    "global": Cloud("global", ("login.microsoftonline.com", "login.windows.net"),
                    "graph.microsoft.com"),
    "usgov": Cloud("usgov", ("login.microsoftonline.us", "login-us.microsoftonline.com"),
                   "graph.microsoft.us"),
    "usgov-dod": Cloud("usgov-dod", ("login.microsoftonline.us", "login-us.microsoftonline.com"),
                       "dod-graph.microsoft.us"),
    "china": Cloud("china", ("login.chinacloudapi.cn", "login.partner.microsoftonline.cn"),
                   "microsoftgraph.chinacloudapi.cn"),
}
_KNOWN_LOGIN_HOSTS = {h for c in CLOUDS.values() for h in c.login_hosts}
_KNOWN_GRAPH_HOSTS = {c.graph_host for c in CLOUDS.values()}

_PLACEHOLDER = re.compile(r"\{\{\s*tenant_id\s*\}\}|\{\s*tenant_id\s*\}|<\s*tenant_id\s*>"
                          r"|%7B\s*tenant_id\s*%7D", re.IGNORECASE)
_TENANT = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?")
_TOKEN_PATH = re.compile(r"/([^/]+)/oauth2/v2\.0/token/?")
_MULTI_TENANT = {"common", "organizations", "consumers"}
_HEX_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")


@dataclass(frozen=True)
class CertificateCredential:
    """A PEM private key (with its certificate, ideally) and the SHA-1 thumbprint of the cert."""

    private_key_pem: str = field(repr=False)
    thumbprint: str
    passphrase: str | None = field(default=None, repr=False)

    def for_msal(self) -> dict[str, str]:
        credential = {"private_key": self.private_key_pem, "thumbprint": self.thumbprint}
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential


@dataclass(frozen=True)
class GraphSettings:
    server_url: str
    """Graph root, ``scheme://host[:port]`` without a trailing slash."""
    api_version: str
    auth_url: str
    """The token endpoint with the tenant filled in."""
    authority: str
    """``auth_url`` without ``/oauth2/v2.0/token``: what MSAL calls the authority."""
    tenant: str
    client_id: str
    scope: str
    cloud: str
    client_secret: str | None = field(default=None, repr=False)
    certificate: CertificateCredential | None = None
    proxy_url: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    verify_tls: bool = True
    timeout_seconds: float = DEFAULT_TIMEOUT
    command_timeout_seconds: float = DEFAULT_COMMAND_TIMEOUT
    """The total for one command run (every request, retry and wait); the job is bounded by its
    own ``--max-cycle-seconds`` instead."""

    @property
    def base_url(self) -> str:
        return f"{self.server_url}/{self.api_version}"

    @property
    def verify(self) -> bool | str:
        """What requests gets as ``verify``."""
        if not self.verify_tls:
            return False
        return self.ca_bundle or True

    def secrets(self) -> list[str]:
        """Every value that must never appear in a log, a result or an error."""
        found = [self.client_secret]
        if self.certificate is not None:
            found += [self.certificate.private_key_pem, self.certificate.passphrase]
        if self.proxy_url:
            found += url_credentials(self.proxy_url)
        return [s for s in found if s]

    @classmethod
    def from_connection(cls, connection: Mapping[str, Any]) -> GraphSettings:
        """Build settings from connection parameters keyed by id (see the manifest)."""
        value = _Reader(connection)
        cloud_name = (value.text("cloud", "Cloud") or "global").lower()
        if cloud_name not in CLOUDS:
            raise InvalidInput("Cloud", f"'{cloud_name}' is not one of: {', '.join(CLOUDS)}")
        cloud = CLOUDS[cloud_name]

        grant = value.text("grant_type", "Grant Type")
        if grant and grant != GRANT_TYPE:
            raise InvalidInput("Grant Type", f"only {GRANT_TYPE} is supported")

        api_version = value.text("api_version", "Api Version") or "v1.0"
        if api_version.lower() not in API_VERSIONS:
            raise InvalidInput("Api Version", f"'{api_version}' is not one of: "
                               + ", ".join(API_VERSIONS))
        api_version = api_version.lower()

        server_url = _server_url(value.text("server_url", "Server URL"), cloud)
        # The scope names the resource the token is for: the cloud's Graph, by host only (no
        # port, path or user information), even when Server URL points at a gateway or an
        # emulator in front of it.
        scope = f"https://{cloud.graph_host}/.default"
        given_scope = value.text("scope", "Scope")
        if given_scope and given_scope.lower() != scope:
            raise InvalidInput("Scope", f"must be {scope}: Graph accepts only its own host's "
                               ".default scope (set Cloud instead)")

        tenant_id = value.text("tenant_id", "Tenant ID")
        auth_url, authority, tenant = _auth_url(value.text("auth_url", "Auth URL"), tenant_id,
                                                cloud)

        client_id = value.text("client_id", "Client ID")
        if not client_id:
            raise InvalidInput("Client ID", "is required")
        if re.search(r"[\s\x00-\x1f]", client_id) or len(client_id) > 256:
            raise InvalidInput("Client ID", "must be the application (client) ID")

        secret = value.raw_text("client_secret", "Client Secret")
        certificate = _certificate(value)
        if certificate is None and not secret:
            raise InvalidInput("Client Secret", "is required (or set Certificate Path and "
                               "Certificate Thumbprint to use a certificate instead)")

        return cls(
            server_url=server_url, api_version=api_version, auth_url=auth_url,
            authority=authority, tenant=tenant, client_id=client_id, scope=scope,
            cloud=cloud_name, client_secret=None if certificate else secret,
            certificate=certificate, proxy_url=_proxy_url(value.text("proxy_url", "Proxy URL")),
            ca_bundle=_ca_bundle(value.text("ca_bundle", "CA Bundle")),
            verify_tls=value.boolean("verify_tls", "Verify TLS", default=True),
            timeout_seconds=_timeout(value.get("timeout_seconds")),
            command_timeout_seconds=_seconds(
                value.get("command_timeout_seconds"), "Command Timeout Seconds",
                DEFAULT_COMMAND_TIMEOUT, MIN_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT)
        )


class _Reader:
    """Typed access to the raw connection mapping; empty strings count as missing."""

    def __init__(self, connection: Mapping[str, Any]) -> None:
        self.connection = connection

    def get(self, key: str) -> Any:
        value = self.connection.get(key)
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    def raw_text(self, key: str, name: str) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(name, "must be a string")
        return value

    def text(self, key: str, name: str) -> str | None:
        value = self.raw_text(key, name)
        return value.strip() if value is not None else None

    def boolean(self, key: str, name: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        parsed = parse_bool(value)
        if parsed is None:
            raise InvalidInput(name, f"'{value}' is not true or false")
        return parsed


def _https_parts(url: str, name: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise InvalidInput(name, "is not a valid URL") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InvalidInput(name, "must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(name, "must not contain user information")
    if parts.query or parts.fragment:
        raise InvalidInput(name, "must not contain a query or fragment")
    return parts


def _server_url(raw: str | None, cloud: Cloud) -> str:
    default = f"https://{cloud.graph_host}"
    if not raw or raw.rstrip("/").lower() == DEFAULT_SERVER_URL:
        return default  # left at the global default: follows the cloud
    parts = _https_parts(raw, "Server URL")
    if parts.path not in ("", "/"):
        raise InvalidInput("Server URL", "must be the Graph root without a path, e.g. "
                           f"{default} (the API version is set by Api Version)")
    host = parts.hostname or ""
    if host in _KNOWN_GRAPH_HOSTS and host != cloud.graph_host:
        raise InvalidInput("Server URL", f"{host} is not the Graph host of cloud "
                           f"'{cloud.name}' ({cloud.graph_host}): set Cloud to match")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    return f"https://{netloc}"


def _auth_url(raw: str | None, tenant_id: str | None, cloud: Cloud) -> tuple[str, str, str]:
    if tenant_id is not None and not _TENANT.fullmatch(tenant_id):
        raise InvalidInput("Tenant ID", "must be a GUID or a domain name")
    if not raw:
        if not tenant_id:
            raise InvalidInput("Auth URL", "is required (or set Tenant ID)")
        raw = f"https://{cloud.login_hosts[0]}/{tenant_id}/oauth2/v2.0/token"
    if _PLACEHOLDER.search(raw):
        if not tenant_id:
            raise InvalidInput("Tenant ID", "is required: Auth URL holds the {tenant_id} "
                               "placeholder")
        raw = _PLACEHOLDER.sub(tenant_id, raw)
    parts = _https_parts(raw, "Auth URL")
    match = _TOKEN_PATH.fullmatch(parts.path)
    if not match:
        raise InvalidInput("Auth URL", "must look like https://"
                           f"{cloud.login_hosts[0]}/<tenant ID>/oauth2/v2.0/token")
    tenant = match.group(1)
    if tenant.lower() in _MULTI_TENANT:
        raise InvalidInput("Auth URL", f"'{tenant}' is not a tenant: the client credentials "
                           "flow needs your tenant ID or domain")
    if not _TENANT.fullmatch(tenant):
        raise InvalidInput("Auth URL", "the tenant part must be a GUID or a domain name")
    if tenant_id and tenant.lower() != tenant_id.lower():
        raise InvalidInput("Tenant ID", "differs from the tenant in Auth URL")
    host = parts.hostname or ""
    if host in _KNOWN_LOGIN_HOSTS and host not in cloud.login_hosts:
        raise InvalidInput("Auth URL", f"{host} is not a login host of cloud '{cloud.name}': "
                           f"use https://{cloud.login_hosts[0]}/<tenant ID>/oauth2/v2.0/token "
                           "or set Cloud to match")
    netloc = parts.netloc
    authority = f"https://{netloc}/{tenant}"
    return f"{authority}/oauth2/v2.0/token", authority, tenant


def _certificate(value: _Reader) -> CertificateCredential | None:
    path = value.text("certificate_path", "Certificate Path")
    thumbprint = value.text("certificate_thumbprint", "Certificate Thumbprint")
    passphrase = value.raw_text("certificate_passphrase", "Certificate Passphrase")
    if not path:
        if thumbprint:
            raise InvalidInput("Certificate Path", "is required with Certificate Thumbprint")
        return None
    try:
        with Path(path).expanduser().open("rb") as handle:
            data = handle.read(MAX_PEM_BYTES + 1)
        if len(data) > MAX_PEM_BYTES:
            raise InvalidInput("Certificate Path", f"{path} is larger than {MAX_PEM_BYTES:,} "
                               "bytes: not a PEM key file")
        pem = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a PEM text file"
        raise InvalidInput("Certificate Path", f"cannot read {path}: {reason}") from None
    if "PRIVATE KEY-----" not in pem:
        raise InvalidInput("Certificate Path", "the PEM file holds no private key")
    _check_private_key(pem, passphrase)
    if thumbprint:
        thumbprint = re.sub(r"[\s:]", "", thumbprint)
        if not _HEX_THUMBPRINT.fullmatch(thumbprint):
            raise InvalidInput("Certificate Thumbprint", "must be the certificate's SHA-1 "
                               "thumbprint: 40 hexadecimal digits")
    else:
        thumbprint = _thumbprint_from_pem(pem)
        if thumbprint is None:
            raise InvalidInput("Certificate Thumbprint", "is required when the PEM file holds "
                               "no certificate")
    return CertificateCredential(pem, thumbprint.upper(), passphrase)


def _check_private_key(pem: str, passphrase: str | None) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode(), passphrase.encode() if passphrase else None)
    except TypeError:
        problem = ("the key is encrypted: set Certificate Passphrase" if not passphrase
                   else "the key is not encrypted: leave Certificate Passphrase empty")
        raise InvalidInput("Certificate Passphrase", problem) from None
    except ValueError:
        if passphrase:
            raise InvalidInput("Certificate Passphrase", "does not decrypt the private key "
                               "(or the key is malformed)") from None
        raise InvalidInput("Certificate Path", "the private key cannot be read") from None


def _thumbprint_from_pem(pem: str) -> str | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    if "BEGIN CERTIFICATE" not in pem:
        return None
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise InvalidInput("Certificate Path", "the certificate cannot be read") from None
    return cert.fingerprint(hashes.SHA1()).hex()  # x5t is SHA-1 by definition


def _proxy_url(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise InvalidInput("Proxy URL", "is not a valid URL") from None
    if parts.scheme.lower() not in PROXY_SCHEMES or not parts.hostname:
        raise InvalidInput("Proxy URL", "must be an http:// or https:// URL of the proxy")
    return raw


def _ca_bundle(raw: str | None) -> str | None:
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.exists():
        raise InvalidInput("CA Bundle", f"{raw} does not exist")
    return str(path)


def request_timeouts(total: float) -> tuple[float, float]:
    """(connect, read) for requests, for an exchange of at most ``total`` seconds."""
    return (min(MAX_CONNECT_TIMEOUT, total), total)


def _timeout(raw: Any) -> float:
    return _seconds(raw, "Timeout Seconds", DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT)


def _seconds(raw: Any, name: str, default: float, low: float, high: float) -> float:
    if raw is None:
        return default
    if isinstance(raw, bool):
        raise InvalidInput(name, f"'{raw}' is not a number")
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise InvalidInput(name, f"'{raw}' is not a number") from None
    if not low <= seconds <= high:  # NaN too
        raise InvalidInput(name, f"must be between {low:g} and {high:g}")
    return seconds
