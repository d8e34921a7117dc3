"""Access tokens for Graph through MSAL's client-credentials flow (secret or certificate).

MSAL is imported on first use only (the CLI's cold start is benchmarked). It gets our session
(:class:`~commands.graph.transport.MsalHttpClient`), so the connection's CA bundle and proxy hold
for the token endpoint too, and ``instance_discovery=False``, so nothing is sent to
login.microsoftonline.com unless the Auth URL says so. Tokens come from MSAL's cache until they
are near expiry (five minutes before, as MSAL, but on the client's injected clock: see
:class:`TokenProvider`); :meth:`TokenProvider.invalidate` drops them after Graph answered 401, and
the client then asks once more, never in a loop.

A failure at the token endpoint becomes a ``ConfigurationError`` carrying the endpoint's HTTP
status and ``"<error>: <first line of error_description>"``; MSAL does not expose the status, so
the HTTP client adapter records it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from commands.graph.logs import LogRedaction, logger
from commands.graph.retry import parse_retry_after
from commands.graph.settings import GraphSettings
from commands.graph.transport import MsalHttpClient, Transport, describe_failure
from executor.errors import ApiError, ConfigurationError, RetriableError
from executor.redaction import Redactor

MSAL_REFRESH_MARGIN = 300.0
"""MSAL treats a token with less than five minutes left as expired; so does the provider."""
DEFAULT_RENEW_RETRY = 30.0
EXPIRED_SECRET = "AADSTS7000222"
"""The token endpoint's code for a client secret past its end date (the most common live
failure of a long-running connection)."""


@dataclass(frozen=True)
class TokenInfo:
    """What an access token says about itself (read, not verified: Graph verifies it)."""

    roles: tuple[str, ...]
    tenant_id: str | None
    app_id: str | None
    expires_at: datetime | None


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, without verifying it; {} when it is not a JWT."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_info(token: str) -> TokenInfo:
    claims = token_claims(token)
    roles = claims.get("roles")
    exp = claims.get("exp")
    return TokenInfo(
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        tenant_id=claims.get("tid") if isinstance(claims.get("tid"), str) else None,
        app_id=next((claims[k] for k in ("appid", "azp") if isinstance(claims.get(k), str)),
                    None),
        expires_at=datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None,
    )


@dataclass(frozen=True)
class _Held:
    value: str
    refresh_at: float
    """Monotonic time from which a new token is fetched (five minutes before expiry, as MSAL)."""
    expires_at: float


class TokenProvider:
    """Tokens from MSAL, renewed by the client's own clock.

    MSAL judges expiry by the wall clock; the client's clock is injected (tests move it), so the
    provider keeps the token it got with its expiry on that clock, returns it until five minutes
    before expiry, then drops it from MSAL's cache and asks again. If that renewal fails for a
    transient reason while the old token is still valid, the old token is kept and the renewal is
    retried after the endpoint's Retry-After (30 s without one), as MSAL and azure-identity do.
    """

    def __init__(self, settings: GraphSettings, transport: Transport, redactor: Redactor,
                 log_redaction: LogRedaction, monotonic: Callable[[], float]) -> None:
        self.settings = settings
        self.redactor = redactor
        self.http = MsalHttpClient(transport)
        self.monotonic = monotonic
        self._log_redaction = log_redaction
        self._app: Any = None
        self._held: _Held | None = None
        self._renew_not_before = 0.0

    def _application(self) -> Any:
        if self._app is not None:
            return self._app
        import msal

        self._log_redaction.cover("msal")
        settings = self.settings
        credential: Any = (settings.certificate.for_msal() if settings.certificate
                           else settings.client_secret)
        try:
            self._app = msal.ConfidentialClientApplication(
                settings.client_id, client_credential=credential, authority=settings.authority,
                instance_discovery=False, http_client=self.http,
                token_cache=msal.TokenCache())
        except requests.RequestException as exc:
            raise ConfigurationError(None, "Cannot reach the token endpoint: "
                                     + describe_failure(exc)) from None
        except ValueError:
            raise self._endpoint_error("OpenID configuration of the authority") from None
        return self._app

    def token(self) -> str:
        """A valid access token: the one held, or a new one near its expiry."""
        now = self.monotonic()
        held = self._held
        if held is not None:
            if now < held.refresh_at:
                return held.value
            if now < self._renew_not_before and now < held.expires_at:
                return held.value  # the token endpoint failed a moment ago; the old one serves
            self._application().remove_tokens_for_client()
        try:
            value, lifetime = self._acquire()
        except ApiError as exc:
            transient = exc.status_code is None or exc.status_code == 429 \
                or exc.status_code >= 500
            if held is None or not transient or now >= held.expires_at:
                raise
            self._renew_not_before = now + self._retry_after()
            logger.warning("Renewing the access token failed (%s); the current token stays in "
                           "use until it expires", exc.message)
            return held.value
        self._held = _Held(value, refresh_at=now + max(0.0, lifetime - MSAL_REFRESH_MARGIN),
                           expires_at=now + lifetime)
        return value

    def invalidate(self) -> None:
        """Forget the token (Graph rejected it): the next :meth:`token` fetches a new one."""
        if self._app is not None:
            self._app.remove_tokens_for_client()
        self._held = None
        self._renew_not_before = 0.0

    def _acquire(self) -> tuple[str, float]:
        app = self._application()
        from msal.exceptions import MsalServiceError

        try:
            result = app.acquire_token_for_client([self.settings.scope])
        except requests.RequestException as exc:
            raise ConfigurationError(None, "Cannot reach the token endpoint: "
                                     + describe_failure(exc)) from None
        except MsalServiceError:
            status = self.http.last_status
            if status == 429:
                raise self._throttled() from None
            raise RetriableError(status, f"The token endpoint is unavailable (HTTP {status}); "
                                 "try again later", code="temporarily_unavailable") from None
        except ValueError:
            if self.http.last_status == 429:
                raise self._throttled() from None
            raise self._endpoint_error("token endpoint") from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            raise self._token_error(result if isinstance(result, dict) else {})
        self.redactor.add(token)
        try:
            lifetime = float(result.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        return token, lifetime

    def _retry_after(self) -> float:
        response = self.http.last_response
        header = response.headers.get("Retry-After") if response is not None else None
        seconds = parse_retry_after(header, server_date=response.headers.get("Date")
                                    if response is not None else None)
        return DEFAULT_RENEW_RETRY if seconds is None else seconds

    def _throttled(self) -> RetriableError:
        """The token endpoint answered 429: say so, with its Retry-After (the provider honours
        it for renewals while a held token is valid; a first token cannot be had before)."""
        wait = self._retry_after()
        return RetriableError(429, "The token endpoint is throttling this app (HTTP 429): no "
                              f"access token could be had; try again in {wait:g} s (its "
                              "Retry-After)", code="token_throttled")

    def _token_error(self, result: dict[str, Any]) -> ApiError:
        error = str(result.get("error") or "token_error")
        description = str(result.get("error_description") or "").strip()
        first_line = description.splitlines()[0].strip() if description else ""
        status = self.http.last_status
        if status == 429:
            return self._throttled()
        if EXPIRED_SECRET in description or EXPIRED_SECRET in str(result.get("error_codes")):
            return ConfigurationError(status, "The client secret has expired: create a new one "
                                      "(App registrations > Certificates & secrets) and put it "
                                      f"in the connection's Client Secret ({error} "
                                      f"{EXPIRED_SECRET})", code=error)
        message = self.redactor.text(f"{error}: {first_line}" if first_line else error)
        cls = RetriableError if status == 429 or (status or 0) >= 500 else ConfigurationError
        return cls(status, message, code=error)

    def _endpoint_error(self, what: str) -> ApiError:
        status = self.http.last_status
        response = self.http.last_response
        if response is not None and status is not None and status >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("error"):
                return self._token_error(body)
        shown = f" (HTTP {status})" if status else ""
        return ConfigurationError(status, f"The {what} could not be read{shown}: check Auth "
                                  "URL and Tenant ID")
