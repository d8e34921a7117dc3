"""The public `Emulator`: builds the tenants, serves HTTPS on loopback, hands out connections."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator import faults, seeds, timefmt
from emulator.auth import (
    APP_ROLES,
    TenantAuth,
    TokenService,
    add_app,
    build_tenant_auth,
)
from emulator.behaviour import Behaviour
from emulator.clock import EmulatorClock
from emulator.control import ControlApi
from emulator.directory import tenant_domain
from emulator.dispatch import Dispatcher
from emulator.graph import GraphApi
from emulator.paging import SkipTokenCodec
from emulator.requestlog import RequestLog
from emulator.server import EmulatorHTTPServer
from emulator.tenant import Tenant
from emulator.tls import TestAuthority

# `connector.py emulator --app KIND`: the seeded apps, plus one with an expired secret.
CLI_APPS = ("full", "readonly", "none", "cert", "expired")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _ticks(now: dt.datetime | str | None) -> int | None:
    if now is None:
        return None
    if isinstance(now, str):
        return timefmt.parse_iso(now)
    return timefmt.from_datetime(now)


class Emulator:
    """A local Microsoft Graph (Identity Protection + sign-in logs) and token endpoint."""

    def __init__(
        self,
        seed: int = 42,
        tenants: int = 1,
        signins: int = 5000,
        now: dt.datetime | str | None = None,
        frozen: bool = False,
        token_lifetime: int = 3600,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: dict[str, Any] | None = None,
        rate_limits: bool = False,
        behaviour: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`sleep` holds a response back for the latency fault (injected by tests of it)."""
        if not is_loopback(host):
            raise ValueError(f"the emulator binds to loopback only, not {host!r}")
        if tenants < 1:
            raise ValueError("tenants must be at least 1")
        if signins < 0:
            raise ValueError("signins must not be negative")
        self.seed = seed
        self.host = "127.0.0.1" if host == "localhost" else host.strip("[]")
        self.port = port
        self.clock = EmulatorClock(_ticks(now), frozen)
        self.sleep = sleep
        self._tenant_count = tenants
        self._signins = signins
        self._token_lifetime = token_lifetime
        self._fault_body = dict(faults or {})
        self._rate_limits = rate_limits
        self.faults = self._fault_engine()
        self.tenant_ids = [seeds.guid_for(seeds.derive("tenant-id", seed), n)
                           for n in range(tenants)]
        self.request_log = RequestLog()
        self.behaviour = Behaviour().updated(behaviour or {})
        self.tenants: list[Tenant] = []
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._dir: Path | None = None
        self._apps_lock = threading.Lock()
        self.base_url = ""
        self.ca_bundle = ""

    def _fault_engine(self) -> faults.FaultEngine:
        body = {k: v for k, v in self._fault_body.items() if k != "rate_limits"}
        engine = faults.FaultEngine(faults.parse_config(body),
                                    bool(self._fault_body.get("rate_limits",
                                                              self._rate_limits)))
        return engine

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Build the tenants and serve; returns once the server accepts connections."""
        if self._server is not None:
            return self
        self._dir = Path(tempfile.mkdtemp(prefix="entra-emulator-"))
        authority = TestAuthority(self._dir, self.host)
        self.ca_bundle = str(authority.ca_path)
        auths: list[TenantAuth] = [
            build_tenant_auth(self.seed, n, tid, tenant_domain(n), self._dir)
            for n, tid in enumerate(self.tenant_ids)
        ]
        self.token_service = TokenService(self.clock, auths, self._token_lifetime)
        end = self.clock.start_ticks
        self.tenants = [Tenant(self.seed, n, self._signins, end, a) for n, a in enumerate(auths)]
        self.set_behaviour(self.behaviour)
        ipv6 = ":" in self.host
        self._server = EmulatorHTTPServer((self.host, self.port), authority.server_context(),
                                          Dispatcher(self), ipv6=ipv6)
        port = self._server.server_address[1]
        shown = f"[{self.host}]" if ipv6 else self.host
        self.base_url = f"https://{shown}:{port}"
        self.token_service.base_url = self.base_url
        codec = SkipTokenCodec(seeds.derive("skiptoken", self.seed).to_bytes(8, "big") * 4)
        self.graph_api = GraphApi(codec, self.base_url, lambda: self.behaviour)
        self.control = ControlApi(self)
        self._thread = threading.Thread(target=self._server.serve, name="entra-emulator",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            if self._thread is not None:
                self._thread.join(timeout=10)
                self._thread = None
            server.close_connections()
            server.server_close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    def set_behaviour(self, behaviour: Behaviour) -> None:
        """Switch documented/observed behaviours (SPEC §9); applies to every tenant."""
        self.behaviour = behaviour
        for tenant in self.tenants:
            tenant.set_whole_seconds(behaviour.signin_time_precision == "seconds")

    # -- lookups ------------------------------------------------------------------------------

    def tenant_by_id(self, tenant_id: str) -> Tenant:
        for tenant in self.tenants:
            if tenant.tenant_id == tenant_id:
                return tenant
        raise KeyError(tenant_id)

    def create_app(self, tenant: int = 0, roles: tuple[str, ...] = (),
                   secret_expired: bool = False, certificate: bool = False) -> dict[str, str]:
        """A new app of the tenant with these application roles; its connection parameters."""
        if not self.running or self._dir is None:
            raise RuntimeError("start the emulator first")
        auth = self.token_service.tenants[tenant]
        with self._apps_lock:
            app = add_app(auth, self.seed, tenant, tuple(roles), secret_expired, certificate,
                          self._dir)
        return {**self.connection(tenant, app.kind), "app": app.kind}

    def cli_app(self, kind: str, tenant: int = 0) -> dict[str, str]:
        """The connection for `--app KIND` (one of CLI_APPS)."""
        if kind not in CLI_APPS:
            raise ValueError(f"app must be one of {', '.join(CLI_APPS)}")
        if kind == "expired":
            return self.create_app(tenant, APP_ROLES["full"], secret_expired=True)
        return self.connection(tenant, kind)

    def connection(self, tenant: int = 0, app: str = "full") -> dict[str, str]:
        """Connection parameters (by the integration's parameter ids) for one app of a tenant."""
        if not self.running:
            raise RuntimeError("start the emulator first")
        auth = self.token_service.tenants[tenant]
        if app not in auth.apps:
            raise ValueError(f"app must be one of {', '.join(auth.apps)}")
        registration = auth.apps[app]
        out = {
            "server_url": self.base_url,
            "auth_url": f"{self.base_url}/{auth.tenant_id}/oauth2/v2.0/token",
            "client_id": registration.client_id,
            "ca_bundle": self.ca_bundle,
            "tenant_id": auth.tenant_id,
        }
        if registration.certificate is not None:
            out["certificate_path"] = str(registration.certificate.pem_path)
            out["certificate_thumbprint"] = registration.certificate.thumbprint
        else:
            assert registration.secret is not None
            out["client_secret"] = registration.secret
        return out
