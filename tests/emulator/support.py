"""A small requests-based client for the emulator, shared by the emulator tests.

REQUESTS_CA_BUNDLE (set on this machine and in CI) overrides a Session's `verify`, so every
request passes `verify=` explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msal
import pytest
import requests

from emulator import Emulator

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class CaSession(requests.Session):
    """A Session whose every request verifies against the emulator CA (for MSAL's http_client)."""

    def __init__(self, ca_bundle: str) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle

    def request(self, method: str, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self.ca_bundle
        return super().request(method, url, *args, **kwargs)


class Client:
    """Plain-requests access to one emulator: tokens per app, Graph calls, control API."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.session = CaSession(emu.ca_bundle)
        self._tokens: dict[tuple[int, str], str] = {}

    @property
    def base(self) -> str:
        return self.emu.base_url

    def token_response(self, tenant: int = 0, app: str = "full", **overrides: str
                       ) -> requests.Response:
        conn = self.emu.connection(tenant, app)
        form = {"grant_type": "client_credentials", "client_id": conn["client_id"],
                "client_secret": conn.get("client_secret", ""), "scope": GRAPH_SCOPE}
        form.update(overrides)
        form = {k: v for k, v in form.items() if v is not None}
        return self.session.post(conn["auth_url"], data=form)

    def token(self, tenant: int = 0, app: str = "full", fresh: bool = False) -> str:
        key = (tenant, app)
        if fresh or key not in self._tokens:
            if app == "cert":
                result = self.msal_app(tenant, "cert").acquire_token_for_client([GRAPH_SCOPE])
                self._tokens[key] = result["access_token"]
            else:
                response = self.token_response(tenant, app)
                response.raise_for_status()
                self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    def msal_app(self, tenant: int = 0, app: str = "full",
                 credential: Any = None) -> msal.ConfidentialClientApplication:
        conn = self.emu.connection(tenant, app)
        if credential is None:
            if app == "cert":
                pem = Path(conn["certificate_path"]).read_text()
                credential = {"private_key": pem, "thumbprint": conn["certificate_thumbprint"]}
            else:
                credential = conn["client_secret"]
        return msal.ConfidentialClientApplication(
            conn["client_id"], client_credential=credential,
            authority=f"{self.base}/{conn['tenant_id']}", instance_discovery=False,
            http_client=self.session, token_cache=msal.TokenCache())

    def get(self, path: str, app: str = "full", tenant: int = 0,
            headers: dict[str, str] | None = None, token: str | None = None,
            query: Mapping[str, Any] | None = None) -> requests.Response:
        """GET a Graph path (or a full nextLink) with the OData query options in `query`."""
        url = path if path.startswith("https://") else self.base + path
        hdrs = {"Authorization": f"Bearer {token or self.token(tenant, app)}"}
        hdrs.update(headers or {})
        return self.session.get(url, headers=hdrs, params=query or None)

    def post(self, path: str, body: Any = None, app: str = "full", tenant: int = 0,
             data: bytes | None = None, headers: dict[str, str] | None = None
             ) -> requests.Response:
        hdrs = {"Authorization": f"Bearer {self.token(tenant, app)}"}
        hdrs.update(headers or {})
        if data is not None:
            return self.session.post(self.base + path, data=data, headers=hdrs)
        return self.session.post(self.base + path, json=body, headers=hdrs)

    def all_pages(self, path: str, app: str = "full", query: Mapping[str, Any] | None = None
                  ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        response = self.get(path, app=app, query=query)
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            out.extend(body["value"])
            link = body.get("@odata.nextLink")
            if not link:
                return out
            response = self.get(link, app=app)

    # control API
    def control(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.session.request(method, f"{self.base}/_emulator/{path}", json=body,
                                        params=params or None)
        assert response.status_code < 300, response.text
        return response.json()

    def truth(self, resource: str, **params: Any) -> list[dict[str, Any]]:
        return self.control("GET", f"records/{resource}", **params)["value"]

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.control("GET", "requests", since=since)["value"]

    def last_seq(self) -> int:
        log = self.requests_log()
        return log[-1]["seq"] if log else 0


def reference_dir() -> Path:
    """../shared/reference beside the repository (CI lays it there)."""
    root = Path(__file__).resolve().parents[2]
    candidates = [Path(os.environ["SHARED_REFERENCE"])] if "SHARED_REFERENCE" in os.environ \
        else []
    candidates += [root.parent / "shared" / "reference", root / "shared" / "reference"]
    for candidate in candidates:
        if (candidate / "graph_examples").is_dir():
            return candidate
    if os.environ.get("CI"):
        pytest.fail("shared/reference/graph_examples not found beside the repository")
    pytest.skip("shared/reference/graph_examples not found beside the repository")
