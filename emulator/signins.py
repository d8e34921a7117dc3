"""The generated sign-in log of a tenant: record i is a pure function of (tenant key, i).

Nothing is stored per sign-in. `createdDateTime` is monotone non-decreasing in the index (with
deliberate ties), so time ranges and keyset positions are binary searches over the index.
With whole-second times (live sign-ins carry no fraction; the default) some blocks of the log
also open with a burst of up to a few hundred sign-ins in one second.

The signIns collection's spec is emulator/collections/sign_ins.py; this generator stays beside
the tenant because the log is the one collection served from an index rather than a store.
"""

from __future__ import annotations

import base64
import functools
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any

from emulator import catalog, seeds
from emulator.directory import User
from emulator.schema import ENUMS
from emulator.timefmt import TICKS_PER_SECOND

DAY = 86_400 * TICKS_PER_SECOND
WINDOW = 30 * DAY
END_MARGIN = 60 * TICKS_PER_SECOND
FORCE = 96  # the first indexes cycle through every table so small tenants cover every value

# Salts (any distinct ints).
S_TIE, S_JIT, S_SLOT, S_USER, S_TRAIT, S_BURST = range(100, 106)
BURST_BLOCK_BITS = 9  # bursts open some blocks of 512 sign-ins

LINKED_LEVELS = ("medium", "high", "low", "high", "medium", "low")
TIMINGS = ("realtime", "nearRealtime", "offline", "realtime")
# (sign-in riskState, riskDetail) of a risky sign-in; most stay atRisk and follow their user.
SIGNIN_OUTCOMES = (
    ("atRisk", "none"), ("remediated", "userPassedMFADrivenByRiskBasedPolicy"),
    ("atRisk", "none"), ("dismissed", "adminDismissedRiskForSignIn"),
    ("atRisk", "none"), ("confirmedSafe", "adminConfirmedSigninSafe"),
    ("atRisk", "none"), ("confirmedCompromised", "adminConfirmedSigninCompromised"),
    ("atRisk", "none"), ("dismissed", "aiConfirmedSigninSafe"),
    ("atRisk", "none"), ("dismissed", "m365DAdminDismissedDetection"),
)
CA_RESULTS = (
    "notApplied", "success", "notEnabled", "failure", "reportOnlySuccess", "unknown",
    "reportOnlyFailure", "reportOnlyNotApplied", "reportOnlyInterrupted", "unknownFutureValue",
)
TOKEN_ISSUERS = ("AzureAD", "ADFederationServices", "AzureADBackupAuth",
                 "ADFederationServicesMFAAdapter", "NPSExtension", "UnknownFutureValue")
NETWORK_TYPES = ("namedNetwork", "trustedNamedLocation", "intranet", "extranet", "trusted",
                 "unknownFutureValue")
RISK_EVENT_ENUM = frozenset(ENUMS["riskEventType"]) - {"unknownFutureValue"}
PROTOCOLS = ("none", "oAuth2", "ropc", "wsFederation", "saml20", "deviceCode")


def pick(table: tuple[Any, ...], index: int, value: int) -> Any:
    """table[index] for the first indexes (coverage), a hashed choice after."""
    if index < FORCE:
        return table[index % len(table)]
    return table[value % len(table)]


def _own_or_other(index: int, size: int, own: int, use_own: bool, other: int) -> int:
    """A table row for sign-in `index`: every row in turn for the first FORCE sign-ins, then
    the user's own row (home city, usual device) or, now and then, another one."""
    if index < FORCE:
        return index % size
    return own if use_own else other % size


def linked_traits(key: int, j: int) -> tuple[str, str, str, str, str]:
    """(riskEventType, riskLevel, timing, sign-in riskState, riskDetail) of linked detection j."""
    v = seeds.h(key, j, S_TRAIT)
    event = pick(catalog.SIGNIN_RISK_EVENTS, j, v)
    level = pick(LINKED_LEVELS, j, v >> 8)
    timing = pick(TIMINGS, j, v >> 16)
    state, detail = pick(SIGNIN_OUTCOMES, j, v >> 24)
    return event, level, timing, state, detail


class SignInSource:
    """The virtual, index-addressed sign-in log of one tenant."""

    def __init__(
        self,
        key: int,
        tenant_id: str,
        users: list[User],
        risky_pool: list[User],
        end_ticks: int,
        count: int,
    ) -> None:
        self.key = key
        self.id_key = seeds.mix(key ^ 0x1D)
        self.tenant_id = tenant_id
        self.users = users
        self.pool = risky_pool
        self.count = count
        self.start = end_ticks - WINDOW
        self.span = WINDOW - END_MARGIN
        self.linked = min(count // 40, 5000)
        self.stride = count // self.linked if self.linked else 0
        self._indexes = range(count)
        self._count = max(count, 1)
        self._spacing = max(self.span // self._count, 1)
        self._tie_key = seeds.mix(key ^ S_TIE)
        self._jitter_key = seeds.mix(key ^ S_JIT)
        self._burst_key = seeds.mix(key ^ S_BURST)
        self.whole_seconds = True  # the signin_time_precision behaviour switch
        self._bits = seeds.BitSource(key, 0x51)
        self.id_of = functools.lru_cache(maxsize=1 << 16)(self._id_of)

    # -- time and identity -------------------------------------------------------------------

    def _time_index(self, i: int) -> int:
        """Blocks of 8 indexes; in a quarter of them the first three share one time (ties).

        With whole seconds, a quarter of the blocks of 512 open with a burst: their first
        2-401 indexes share the first one's time (hundreds of sign-ins in one second)."""
        if self.whole_seconds:
            burst = seeds.mix(self._burst_key ^ (i >> BURST_BLOCK_BITS))
            offset = i & ((1 << BURST_BLOCK_BITS) - 1)
            if burst & 3 == 0 and offset < 2 + (burst >> 8) % 400:
                return i - offset
        offset = i & 7
        if offset < 3 and seeds.mix(self._tie_key ^ (i >> 3)) & 3 == 0:
            return i - offset
        return i

    def time_of(self, i: int) -> int:
        j = self._time_index(i)
        t = (self.start + (j * self.span) // self._count
             + seeds.mix(self._jitter_key ^ j) % self._spacing)
        return t - t % TICKS_PER_SECOND if self.whole_seconds else t

    def _id_of(self, i: int) -> str:
        return seeds.indexed_guid(self.id_key, i)

    def index_of(self, record_id: str) -> int | None:
        index = seeds.index_of_guid(self.id_key, record_id)
        if index is None or index >= self.count:
            return None
        return index

    def first_at_or_after(self, ticks: int) -> int:
        return bisect_left(self._indexes, ticks, key=self.time_of)

    def first_after(self, ticks: int) -> int:
        return bisect_right(self._indexes, ticks, key=self.time_of)

    # -- risky sign-ins ----------------------------------------------------------------------

    def slot_index(self, j: int) -> int:
        """The sign-in index of linked detection j."""
        return j * self.stride + seeds.h(self.key, j, S_SLOT) % self.stride

    def slot_of(self, i: int) -> int | None:
        if not self.linked:
            return None
        j = i // self.stride
        if j < self.linked and self.slot_index(j) == i:
            return j
        return None

    # -- ordered iteration -------------------------------------------------------------------

    def keys_desc(self, lo: int, hi: int) -> Iterator[tuple[int, str, int]]:
        """(time, id, index) for indexes in [lo, hi), by (time, id) descending."""
        return self._keys(range(hi - 1, lo - 1, -1), descending=True)

    def keys_asc(self, lo: int, hi: int) -> Iterator[tuple[int, str, int]]:
        """(time, id, index) for indexes in [lo, hi), by (time, id) ascending."""
        return self._keys(range(lo, hi), descending=False)

    def _keys(self, indexes: range, descending: bool) -> Iterator[tuple[int, str, int]]:
        """Indexes run in time order; only sign-ins of the same time need sorting by id."""
        group: list[tuple[int, str, int]] = []
        for i in indexes:
            t = self.time_of(i)
            if group and group[0][0] != t:
                if len(group) > 1:
                    group.sort(reverse=descending)
                yield from group
                group = []
            group.append((t, self.id_of(i), i))
        if len(group) > 1:
            group.sort(reverse=descending)
        yield from group

    # -- records -----------------------------------------------------------------------------

    def build(self, i: int, beta: bool = False) -> dict[str, Any]:
        """The internal record of sign-in i (DateTimeOffsets as ticks)."""
        bits = self._bits.bits(i)
        d = [(bits >> shift) & 0xFFFF for shift in _SHIFTS]  # 16-bit draws

        j = self.slot_of(i)
        if j is not None:
            user = self.pool[seeds.h(self.key, j, S_USER) % len(self.pool)]
        else:
            user = self.users[((d[0] << 16) | d[1]) % len(self.users)]
        app_id, app_name = pick(catalog.CLIENT_APPS, i, d[2])
        res_id, res_name = pick(catalog.RESOURCES, i, d[3])
        city_index = _own_or_other(i, len(catalog.CITIES), user.home_city, d[4] % 100 < 85, d[5])
        prefix = catalog.CITIES[city_index][6]
        if d[6] % 10 == 0:
            ip = f"2001:4898:{d[7]:x}:{d[8]:x}::{d[9] & 0xFFF:x}"
        else:
            ip = f"{prefix}{d[7] % 254 + 1}.{d[8] % 254 + 1}"
        device_index = _own_or_other(i, len(catalog.DEVICES), user.device, d[10] % 10 < 8, d[11])
        os_name, browser, agent = catalog.DEVICES[device_index]
        trust = pick(catalog.TRUST_TYPES, i, d[12])
        managed = trust != ""
        client_v = d[13]
        if i < FORCE or client_v % 4 == 0:
            client_app = pick(catalog.CLIENT_APP_USED, i, client_v >> 2)
        else:
            client_app = "Browser" if device_index < 6 else "Mobile Apps and Desktop clients"

        st_v = d[14]
        if (i < FORCE and i % 3 == 1) or (i >= FORCE and st_v % 100 < 12):
            code, reason, details = pick(catalog.FAILURES, i // 3, st_v >> 7)
        else:
            code, reason = 0, None
            details = pick(catalog.SUCCESS_DETAILS, i, st_v >> 7)
        status = _STATUS_CACHE.get((code, details))
        if status is None:
            status = {"errorCode": code, "failureReason": reason, "additionalDetails": details}
            _STATUS_CACHE[(code, details)] = status

        ca_v = d[15] | (d[16] << 16)
        n_pol = (ca_v % 4) if i >= FORCE else 2
        chosen: list[tuple[int, str]] = []
        for p in range(n_pol):
            pol = (ca_v >> (2 + p * 3)) % len(catalog.CA_POLICIES)
            if any(c[0] == pol for c in chosen):
                continue
            result = pick(CA_RESULTS, i * 2 + p, ca_v >> (12 + p * 5))
            if code == 53003 and p == 0:
                result = "failure"
            chosen.append((pol, result))
        policies = [_policy(pol, result) for pol, result in chosen]
        results = {r for _, r in chosen}
        if code == 53003 or "failure" in results:
            ca_status = "failure"
        elif "success" in results:
            ca_status = "success"
        else:
            ca_status = "notApplied"
        if i == 5 or (i >= FORCE and d[17] % 997 == 0):
            ca_status = "unknownFutureValue"

        if j is not None:
            event, level, _timing, risk_state, risk_detail = linked_traits(self.key, j)
            events_v2 = [event]
            events = [event if event in RISK_EVENT_ENUM else "unknownFutureValue"]
            agg = during = level
        else:
            events_v2, events = [], []
            hid = d[18] % 1000
            if i in (11, 12) or (i >= FORCE and hid < 4):
                risk_state, risk_detail, agg, during = "none", "hidden", "hidden", "hidden"
            elif i == 13 or (i >= FORCE and hid == 999):
                risk_state = risk_detail = agg = during = "unknownFutureValue"
            else:
                risk_state = risk_detail = agg = during = "none"

        auth_app = None
        if code == 0 and d[19] % 10 == 0:
            auth_app = {
                "appVersion": "6.2401.0119",
                "clientApp": "Microsoft Authenticator",
                "deviceId": user.phone_id,
                "operatingSystem": "Ios" if user.device % 2 else "Android",
            }
        interactive = i % 13 != 4
        record: dict[str, Any] = {
            "id": self.id_of(i),
            "createdDateTime": self.time_of(i),
            "userDisplayName": user.display_name,
            "userPrincipalName": user.upn,
            "userId": user.id,
            "appId": app_id,
            "appDisplayName": app_name,
            "ipAddress": ip,
            "clientAppUsed": client_app,
            "userAgent": agent,
            "correlationId": seeds.guid128(bits >> 384),
            "conditionalAccessStatus": ca_status,
            "isInteractive": interactive,
            "riskDetail": risk_detail,
            "riskLevelAggregated": agg,
            "riskLevelDuringSignIn": during,
            "riskState": risk_state,
            "riskEventTypes": events,
            "riskEventTypes_v2": events_v2,
            "resourceDisplayName": res_name,
            "resourceId": res_id,
            "resourceTenantId": self.tenant_id,
            "homeTenantId": self.tenant_id,
            "servicePrincipalId": "",
            "servicePrincipalName": None,
            "status": status,
            "deviceDetail": {
                "deviceId": user.device_id if managed else "",
                "displayName": user.device_name if managed else None,
                "operatingSystem": os_name,
                "browser": browser,
                "isCompliant": managed and d[20] % 5 != 0,
                "isManaged": managed,
                "trustType": trust or None,
            },
            "location": _LOCATIONS[city_index],
            "appliedConditionalAccessPolicies": policies,
            "authenticationAppDeviceDetails": auth_app,
        }
        if beta:
            record.update(self._beta_fields(i, record, user, interactive, bits >> 320))
        return record

    def _beta_fields(
        self, i: int, record: dict[str, Any], user: User, interactive: bool, v: int
    ) -> dict[str, Any]:
        key = self.key
        ok = record["status"]["errorCode"] == 0
        mfa = ok and v % 3 == 0
        steps = [{
            "authenticationStepDateTime": record["createdDateTime"],
            "authenticationMethod": "Password" if interactive else "Previously satisfied",
            "authenticationMethodDetail": "Password in the cloud" if interactive else None,
            "succeeded": ok or record["status"]["errorCode"] not in (50126, 50053),
            "authenticationStepResultDetail": "Correct password" if ok else (
                record["status"]["failureReason"]),
            "authenticationStepRequirement": "Primary authentication",
        }]
        if mfa:
            steps.append({
                "authenticationStepDateTime": record["createdDateTime"] + 7 * TICKS_PER_SECOND,
                "authenticationMethod": pick(catalog.AUTH_METHODS[2:], i, v >> 4),
                "authenticationMethodDetail": None,
                "succeeded": True,
                "authenticationStepResultDetail": "MFA successfully completed",
                "authenticationStepRequirement": "Multifactor authentication",
            })
        net_type = pick(NETWORK_TYPES, i, v >> 8)
        networks = [] if (v >> 12) % 3 == 0 and i >= FORCE else [
            {"networkType": net_type,
             "networkNames": [pick(catalog.NETWORK_NAMES, i, v >> 16)]}]
        token = base64.urlsafe_b64encode(seeds.h(key, i, 901).to_bytes(8, "big") * 2).decode()
        return {
            "deviceDetail": {**record["deviceDetail"], "browserId": ""},
            "authenticationContextClassReferences": (
                [{"id": "C1", "details": "required"}] if v % 11 == 0 else []),
            "authenticationDetails": steps,
            "authenticationMethodsUsed": [s["authenticationMethod"] for s in steps],
            "authenticationProcessingDetails": [{"key": "Login Hint Present", "value": "True"}],
            "authenticationProtocol": pick(PROTOCOLS, i, v >> 20),
            "authenticationRequirement": (
                "multiFactorAuthentication" if mfa else "singleFactorAuthentication"),
            "authenticationRequirementPolicies": (
                [{"requirementProvider": "multiConditionalAccess", "detail": "Conditional Access"}]
                if mfa else []),
            "authenticationAppPolicyDetails": [],
            "autonomousSystemNumber": 8075 + (v >> 24) % 400,
            "azureResourceId": "",
            "clientCredentialType": "none",
            "crossTenantAccessType": "none",
            "federatedCredentialId": "",
            "flaggedForReview": (v >> 28) % 50 == 0,
            "homeTenantName": "",
            "incomingTokenType": "none" if interactive else "primaryRefreshToken",
            "isTenantRestricted": False,
            "networkLocationDetails": networks,
            "originalRequestId": record["id"],
            "processingTimeInMilliseconds": 40 + (v >> 32) % 900,
            "resourceServicePrincipalId": seeds.guid_for(key, (v >> 36) % 6, 902),
            "sessionLifetimePolicies": (
                [{"expirationRequirement": "tenantTokenLifetimePolicy",
                  "detail": "The user was required to sign in again according to the tenant "
                            "session lifetime policy"}] if (v >> 40) % 7 == 0 else []),
            "signInEventTypes": ["interactiveUser" if interactive else "nonInteractiveUser"],
            "signInIdentifier": user.upn,
            "tokenIssuerName": "",
            "tokenIssuerType": pick(TOKEN_ISSUERS, i, 0 if (v >> 44) % 10 else v >> 50),
            "uniqueTokenIdentifier": token.rstrip("="),
            "userType": "guest" if user.is_guest else "member",
        }



_SHIFTS = tuple(range(0, 16 * 21, 16))
_STATUS_CACHE: dict[tuple[int, str | None], dict[str, Any]] = {}
_POLICY_CACHE: dict[tuple[int, str], dict[str, Any]] = {}


def _policy(pol: int, result: str) -> dict[str, Any]:
    """An applied CA policy; shared between records and never mutated (records are rebuilt,
    not edited), which also lets the renderer pass it through untouched."""
    cached = _POLICY_CACHE.get((pol, result))
    if cached is None:
        pol_id, pol_name, grants, sessions = catalog.CA_POLICIES[pol]
        applied = result in ("success", "failure")
        cached = {
            "id": pol_id,
            "displayName": pol_name,
            "enforcedGrantControls": list(grants) if applied else [],
            "enforcedSessionControls": list(sessions) if applied else [],
            "result": result,
        }
        _POLICY_CACHE[(pol, result)] = cached
    return cached


_LOCATIONS = tuple(
    {
        "city": city,
        "state": state,
        "countryOrRegion": country,
        "geoCoordinates": {"altitude": alt, "latitude": lat, "longitude": lon},
    }
    for city, state, country, lat, lon, alt, _prefix in catalog.CITIES
)
