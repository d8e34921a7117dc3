"""App registrations, the token endpoint, OpenID discovery, and Graph's access-token checks."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from emulator import seeds, timefmt
from emulator.clock import EmulatorClock
from emulator.errors import AadError, GraphError
from emulator.resources import READ_ROLES, WRITE_ROLES

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# The roles the resource table's collections name (and Directory.Read.All).
ALL_ROLES = (*READ_ROLES, *WRITE_ROLES)
APP_ROLES = {"full": ALL_ROLES, "readonly": READ_ROLES, "none": (), "cert": ALL_ROLES}
APP_NAMES = {
    "full": "Entra ID Protection integration",
    "readonly": "Entra ID Protection integration (read-only)",
    "none": "Entra ID Protection integration (no roles)",
    "cert": "Entra ID Protection integration (certificate)",
}


@dataclass
class Certificate:
    pem_path: Path
    thumbprint: str  # SHA-1, upper-case hex, as the Azure portal shows it
    sha1_b64: str
    sha256_b64: str
    der: bytes
    public_key: Any


@dataclass
class AppRegistration:
    kind: str
    client_id: str
    tenant_id: str
    roles: tuple[str, ...]
    display_name: str
    service_principal_id: str
    secret: str | None = None
    secret_expired: bool = False
    # A certificate app's key pair is made on first use: RSA key generation costs ~0.1-0.3 s,
    # and most emulator runs never use that app.
    certificate_maker: Callable[[], Certificate] | None = None
    _certificate: Certificate | None = None

    @property
    def certificate(self) -> Certificate | None:
        if self._certificate is None and self.certificate_maker is not None:
            with _CERTIFICATE_LOCK:
                if self._certificate is None:
                    self._certificate = self.certificate_maker()
        return self._certificate


@dataclass
class Principal:
    """A validated access token."""

    tenant_id: str
    app_id: str
    roles: frozenset[str]
    service_principal_id: str


@dataclass
class TenantAuth:
    tenant_id: str
    domain: str
    apps: dict[str, AppRegistration] = field(default_factory=dict)

    def app(self, client_id: str) -> AppRegistration | None:
        for app in self.apps.values():
            if app.client_id == client_id.lower():
                return app
        return None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_certificate(directory: Path, name: str) -> Certificate:
    """A self-signed certificate and key in one PEM file (what MSAL's private_key wants)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = time.time()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.fromtimestamp(now - 86_400, dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(now + 365 * 86_400, dt.UTC))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    path = directory / f"{name}.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    sha1 = hashlib.sha1(der).digest()
    return Certificate(
        pem_path=path,
        thumbprint=sha1.hex().upper(),
        sha1_b64=_b64url(sha1),
        sha256_b64=_b64url(hashlib.sha256(der).digest()),
        der=der,
        public_key=cert.public_key(),
    )


def build_tenant_auth(seed: int, index: int, tenant_id: str, domain: str,
                      directory: Path) -> TenantAuth:
    tenant = TenantAuth(tenant_id=tenant_id, domain=domain)
    key = seeds.derive("apps", seed, index)
    for n, kind in enumerate(APP_ROLES):
        app = AppRegistration(
            kind=kind,
            client_id=seeds.guid_for(key, n, 1),
            tenant_id=tenant_id,
            roles=APP_ROLES[kind],
            display_name=APP_NAMES[kind],
            service_principal_id=seeds.guid_for(key, n, 2),
        )
        _give_credential(app, kind == "cert", directory, f"tenant{index}-cert-app",
                         seeds.derive("secret", seed, index, kind))
        tenant.apps[kind] = app
    return tenant


def add_app(tenant: TenantAuth, seed: int, index: int, roles: tuple[str, ...],
            secret_expired: bool, certificate: bool, directory: Path) -> AppRegistration:
    """A new app registration of `tenant` (POST /_emulator/apps), named app-N."""
    n = len(tenant.apps)
    name = f"app-{n}"
    key = seeds.derive("extra-apps", seed, index, n)
    app = AppRegistration(
        kind=name, client_id=seeds.guid_for(key, 0, 1), tenant_id=tenant.tenant_id,
        roles=roles, display_name=f"Emulator app {n}",
        service_principal_id=seeds.guid_for(key, 0, 2), secret_expired=secret_expired)
    _give_credential(app, certificate, directory, f"tenant{index}-{name}",
                     seeds.derive("extra-secret", seed, index, n))
    tenant.apps[name] = app
    return app


def _give_credential(app: AppRegistration, certificate: bool, directory: Path, cert_name: str,
                     secret_key: int) -> None:
    """A certificate (made on first use, in `directory`) or a seeded client secret."""
    if certificate:
        app.certificate_maker = functools.partial(make_certificate, directory, cert_name)
    else:
        app.secret = seeds.entra_secret(secret_key)


_CERTIFICATE_LOCK = threading.Lock()


class _SigningKey:
    """The RS256 key tokens are signed with, made once per process (emulators in one process
    share it; each still accepts only the tokens it issued itself).

    RSA key generation takes 15-150 ms and releases the GIL, so :meth:`start` makes the key on a
    thread while the emulator seeds its tenants and the client starts; :meth:`get` waits for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._key: rsa.RSAPrivateKey | None = None
        self._error: BaseException | None = None

    def _make(self) -> None:
        try:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        except BaseException as exc:  # handed to the waiter in get()
            self._error = exc

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._make, daemon=True,
                                                name="emulator-signing-key")
                self._thread.start()

    def get(self) -> rsa.RSAPrivateKey:
        self.start()
        assert self._thread is not None
        self._thread.join()
        if self._key is None and self._error is None:  # a forked child: the thread is gone
            with self._lock:
                if self._key is None:
                    self._make()
        if self._key is None:
            raise RuntimeError("the emulator's token signing key could not be made") \
                from self._error
        return self._key


_SIGNING_KEY = _SigningKey()


def signing_key() -> rsa.RSAPrivateKey:
    """The process's token signing key (see :class:`_SigningKey`)."""
    return _SIGNING_KEY.get()


def prepare_signing_key() -> None:
    """Start making the signing key on a thread (an emulator's first step at start)."""
    _SIGNING_KEY.start()


# Started at import: the rest of the emulator's import (~40 ms) and the client's own start
# run while the key is made on another core.
prepare_signing_key()


class TokenService:
    """Issues and validates the emulator's RS256 access tokens."""

    def __init__(self, clock: EmulatorClock, tenants: list[TenantAuth], lifetime: int) -> None:
        self.clock = clock
        self.tenants = tenants
        self.lifetime = lifetime
        self.base_url = ""
        # The signing key is already being made (on a thread since this module's import); the
        # first token or JWKS waits for it through _key.
        self._serials = itertools.count(1)
        self._issued: dict[str, int] = {}
        self._revoked_through = 0
        self._lock = threading.Lock()

    @functools.cached_property
    def _key(self) -> rsa.RSAPrivateKey:
        return signing_key()

    @functools.cached_property
    def _public(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    @functools.cached_property
    def kid(self) -> str:
        numbers = self._public.public_numbers()
        return _b64url(hashlib.sha256(str(numbers.n).encode()).digest()[:15])

    @functools.cached_property
    def _jwk(self) -> dict[str, str]:
        numbers = self._public.public_numbers()
        return {
            "kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes(3, "big")),
        }

    # -- tenants ------------------------------------------------------------------------------

    def find_tenant(self, segment: str) -> TenantAuth | None:
        segment = segment.lower()
        for tenant in self.tenants:
            if segment in (tenant.tenant_id, tenant.domain):
                return tenant
        return None

    def _tenant_or_error(self, segment: str) -> TenantAuth:
        tenant = self.find_tenant(segment)
        if tenant is None:
            raise AadError(
                400, "invalid_tenant", 90002,
                f"Tenant '{segment}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud. Check with your subscription "
                "administrator, this may happen if there are no active subscriptions for the "
                "tenant.",
            )
        return tenant

    def discovery(self, segment: str) -> dict[str, Any]:
        tenant = self._tenant_or_error(segment)
        base, tid = self.base_url, tenant.tenant_id
        return {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "roles"],
            "kerberos_endpoint": f"{base}/{tid}/kerberos",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": base.split("://", 1)[-1],
            "rbac_url": "https://pas.windows.net",
        }

    def jwks(self, segment: str) -> dict[str, Any]:
        self._tenant_or_error(segment)
        return {"keys": [self._jwk]}

    # -- token endpoint -----------------------------------------------------------------------

    def token(self, segment: str, form: dict[str, str],
              authorization: str | None) -> tuple[dict[str, Any], AppRegistration]:
        """Client-credentials grant; raises AadError with Entra's codes."""
        tenant = self._tenant_or_error(segment)
        grant = form.get("grant_type")
        if not grant:
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: "
                           "'grant_type'.")
        if grant != "client_credentials":
            raise AadError(400, "unsupported_grant_type", 70003,
                           f"The app requested an unsupported grant type '{grant}'.")
        client_id = form.get("client_id", "")
        secret = form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                raw = base64.b64decode(authorization[6:].strip()).decode()
                basic_id, _, basic_secret = raw.partition(":")
                client_id = client_id or unquote_plus(basic_id)
                secret = secret or unquote_plus(basic_secret)
            except (binascii.Error, UnicodeDecodeError):
                raise AadError(401, "invalid_client", 7000215,
                               "Invalid client secret provided.") from None
        if not client_id:
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: "
                           "'client_id'.")
        app = tenant.app(client_id)
        if app is None:
            raise AadError(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant.tenant_id}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the "
                "tenant. You may have sent your authentication request to the wrong tenant.",
            )
        assertion = form.get("client_assertion")
        assertion_type = form.get("client_assertion_type")
        if secret:
            if app.secret is None or not hmac.compare_digest(
                secret.encode(), app.secret.encode()
            ):
                raise AadError(
                    401, "invalid_client", 7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to "
                    f"app '{app.client_id}'.",
                )
            if app.secret_expired:
                raise AadError(
                    401, "invalid_client", 7000222,
                    f"The provided client secret keys for app '{app.client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate credentials "
                    "for added security: https://aka.ms/certCreds.",
                )
            credential = "1"
        elif assertion and assertion_type == ASSERTION_TYPE:
            self._check_assertion(app, assertion, segment)
            credential = "2"
        else:
            raise AadError(400, "invalid_client", 7000218,
                           "The request body must contain the following parameter: "
                           "'client_assertion' or 'client_secret'.")
        audience = self._audience(form.get("scope"))
        return self._issue(tenant, app, audience, credential), app

    def _audience(self, scope: str | None) -> str:
        if scope is None or not scope.strip():
            raise AadError(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.")
        scopes = scope.split()
        accepted = {
            f"{self.base_url}/.default".lower(): self.base_url,
            f"{GRAPH_RESOURCE}/.default": GRAPH_RESOURCE,
            f"{GRAPH_RESOURCE}//.default": GRAPH_RESOURCE,
            f"{GRAPH_APP_ID}/.default": GRAPH_RESOURCE,
        }
        if len(scopes) == 1 and scopes[0].lower() in accepted:
            return accepted[scopes[0].lower()]
        raise AadError(
            400, "invalid_scope", 70011,
            f"The provided request must include a 'scope' input parameter. The provided value "
            f"for the input parameter 'scope' is not valid. The scope {scope} is not valid. "
            "Client credential flows must have a scope value with /.default suffixed to the "
            "resource identifier (application ID URI).",
        )

    def _check_assertion(self, app: AppRegistration, assertion: str, segment: str) -> None:
        def fail(reason: str) -> AadError:
            return AadError(401, "invalid_client", 700027,
                            f"Client assertion failed signature validation. [Reason - {reason}]")

        cert = app.certificate
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise fail("The client assertion is not a well-formed JWT.") from None
        if cert is None:
            raise fail(f"No certificate credential is registered for app '{app.client_id}'.")
        x5t = str(header.get("x5t") or "").rstrip("=")
        x5t256 = str(header.get("x5t#S256") or "").rstrip("=")
        if not ((x5t and x5t == cert.sha1_b64) or (x5t256 and x5t256 == cert.sha256_b64)):
            raise fail("The key was not found. The thumbprint of the key used by the client "
                       "does not match a certificate registered on the application.")
        x5c = header.get("x5c")
        if x5c:
            chain = x5c if isinstance(x5c, list) else [x5c]
            first = "".join(str(chain[0]).split())
            if first.startswith("-----"):
                first = "".join(first.splitlines()[1:-1])
            try:
                if base64.b64decode(first) != cert.der:
                    raise fail("The x5c certificate does not match the registered certificate.")
            except binascii.Error:
                raise fail("The x5c header is not valid base64.") from None
        if header.get("alg") not in ("RS256", "PS256"):
            raise fail(f"Unsupported signing algorithm '{header.get('alg')}'.")
        valid_audiences = {
            f"{self.base_url}/{segment}/oauth2/v2.0/token".lower(),
            f"{self.base_url}/{app.tenant_id}/oauth2/v2.0/token".lower(),
        }
        try:
            claims = jwt.decode(
                assertion, cert.public_key, algorithms=["RS256", "PS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise fail("The signature of the client assertion is not valid.") from None
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a.lower() in valid_audiences for a in auds):
            raise fail("The audience of the client assertion is not this token endpoint.")
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise fail("The iss and sub claims of the client assertion must be the client id.")
        # The assertion is the client's artefact, stamped with its real clock, so its lifetime is
        # checked against real time (with Entra's 5-minute skew), not the emulator clock.
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + 300 < now:
            raise fail("The client assertion is expired or has no 'exp' claim.")
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf - 300 > now:
            raise fail("The client assertion is not yet valid.")

    def _issue(self, tenant: TenantAuth, app: AppRegistration, audience: str,
               credential: str) -> dict[str, Any]:
        now = self.clock.now() // timefmt.TICKS_PER_SECOND
        with self._lock:
            serial = next(self._serials)
            uti = _b64url(uuid.uuid4().bytes)[:22]
            self._issued[uti] = serial
            lifetime = self.lifetime
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": credential,
            "idp": f"https://sts.windows.net/{tenant.tenant_id}/",
            "idtyp": "app",
            "oid": app.service_principal_id,
            "sub": app.service_principal_id,
            "tid": tenant.tenant_id,
            "uti": uti,
            "ver": "1.0",
        }
        if app.roles:
            claims["roles"] = list(app.roles)
        token = jwt.encode(claims, self._key, algorithm="RS256",
                           headers={"kid": self.kid, "x5t": self.kid})
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    # -- control -----------------------------------------------------------------------------

    def revoke_all(self) -> None:
        """Every token issued so far answers 401 from now on."""
        with self._lock:
            self._revoked_through = max(self._issued.values(), default=0)

    # -- Graph side ---------------------------------------------------------------------------

    def validate(self, authorization: str | None) -> Principal:
        """Check a Graph request's bearer token; raises GraphError 401 as Graph does."""

        def deny(message: str) -> GraphError:
            return GraphError(401, "InvalidAuthenticationToken", message, {
                "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.'
                'microsoftonline.com/common/oauth2/authorize", client_id="'
                f'{GRAPH_APP_ID}"'})

        if not authorization or not authorization.strip():
            raise deny("Access token is empty.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise deny("Access token is empty.")
        if token.count(".") != 2:
            raise deny("IDX14100: JWT is not well formed, there are no dots (.).")
        try:
            claims = jwt.decode(
                token, self._public, algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            raise deny("Access token validation failure. Invalid signature.") from None
        except jwt.PyJWTError:
            raise deny("CompactToken parsing failed with error code: 80049217") from None
        tid = claims.get("tid")
        tenant = self.find_tenant(tid) if isinstance(tid, str) else None
        if tenant is None or claims.get("iss") != f"https://sts.windows.net/{tid}/":
            raise deny("Access token validation failure. Invalid issuer.")
        if claims.get("aud") not in (GRAPH_RESOURCE, self.base_url, GRAPH_APP_ID):
            raise deny("Access token validation failure. Invalid audience.")
        now = self.clock.now()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int) or now >= exp * timefmt.TICKS_PER_SECOND:
            raise deny("Lifetime validation failed, the token is expired.")
        if isinstance(nbf, int) and now < nbf * timefmt.TICKS_PER_SECOND:
            raise deny("Lifetime validation failed, the token is not yet valid.")
        with self._lock:
            serial = self._issued.get(str(claims.get("uti")))
            revoked = self._revoked_through
        if serial is None:  # signed with the shared key, but by another emulator instance
            raise deny("Access token validation failure. Invalid signature.")
        if serial <= revoked:
            raise deny("Continuous access evaluation resulted in challenge with result: "
                       "InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp")
        app_id = str(claims.get("appid", ""))
        if tenant.app(app_id) is None:
            raise deny("Access token validation failure. Invalid application.")
        roles = claims.get("roles") or []
        return Principal(
            tenant_id=tenant.tenant_id,
            app_id=app_id,
            roles=frozenset(r for r in roles if isinstance(r, str)),
            service_principal_id=str(claims.get("oid", "")),
        )


def peek_claims(authorization: str | None) -> dict[str, Any]:
    """Unverified claims (tid, appid) for throttle keys and the request log; {} if unreadable."""
    if not authorization:
        return {}
    _, _, token = authorization.strip().partition(" ")
    parts = token.strip().split(".")
    if len(parts) != 3:
        return {}
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}
