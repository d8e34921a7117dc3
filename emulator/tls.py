"""A throwaway CA and a server certificate for the loopback names, made at start (trustme)."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class TestAuthority:
    """The emulator's CA; `ca_path` is the PEM clients pass as their CA bundle."""

    def __init__(self, directory: Path, host: str) -> None:
        self._ca = trustme.CA(organization_name="Entra emulator test CA")
        names = {"127.0.0.1", "localhost", "::1", host}
        self._leaf = self._ca.issue_cert(*sorted(names))
        self.ca_path = directory / "emulator-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_path))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._leaf.configure_cert(context)
        return context
