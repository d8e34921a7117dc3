"""The user-risk seed family: risk detections (linked to sign-ins or user-level), risky users
consistent with their detections, and their history, generated together because they must agree
(a risky user's level and state come from its detections); plus the record builders the
riskyUsers, riskDetections and history modules share for actions and the control API.

These are few compared with sign-ins (at most ~5,600 detections for a million sign-ins), so they
are materialised as internal records and can be changed by actions and the control API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from emulator import catalog, directory, seeds, timefmt
from emulator.directory import User
from emulator.schema import ENUMS
from emulator.signins import FORCE, SignInSource, linked_traits, pick
from emulator.spec import Action, SeedContext, TenantView
from emulator.store import VersionedStore

HOUR = 3600 * timefmt.TICKS_PER_SECOND
MINUTE = 60 * timefmt.TICKS_PER_SECOND
LEVEL_RANK = {"low": 1, "medium": 2, "high": 3}
RISK_EVENT_ENUM = frozenset(ENUMS["riskEventType"]) - {"unknownFutureValue"}

# (riskState, riskDetail) a risky user ends in; the first ones are cycled for coverage.
FATES = (
    ("atRisk", "none"),
    ("remediated", "userPerformedSecuredPasswordReset"),
    ("dismissed", "adminDismissedAllRiskForUser"),
    ("confirmedCompromised", "adminConfirmedUserCompromised"),
    ("atRisk", "none"),
    ("remediated", "userPerformedSecuredPasswordChange"),
    ("remediated", "adminGeneratedTemporaryPassword"),
    ("confirmedSafe", "adminConfirmedAccountSafe"),
    ("atRisk", "none"),
    ("remediated", "userChangedPasswordOnPremises"),
    ("remediated", "microsoftRevokedSessions"),
    ("remediated", "userPassedMFADrivenByRiskBasedPolicy"),
)
WEIGHTED_FATES = (
    *([FATES[0]] * 11), *([FATES[1]] * 3), *([FATES[2]] * 3), FATES[3], FATES[5], FATES[6],
)
SELF_REMEDIATION = frozenset((
    "userPerformedSecuredPasswordReset", "userPerformedSecuredPasswordChange",
    "userPassedMFADrivenByRiskBasedPolicy", "userChangedPasswordOnPremises",
))
SOURCES = catalog.DETECTION_SOURCES
TOKEN_ISSUERS = ("AzureAD", "AzureAD", "ADFederationServices", "AzureADBackupAuth",
                 "ADFederationServicesMFAAdapter", "NPSExtension", "UnknownFutureValue")
# Fixed outcomes of some user-level detections, so every enum member shows up somewhere:
# index -> (activity, timing, level, state, detail)
SPECIAL_USER_DETECTIONS: dict[int, tuple[str, str, str, str, str]] = {
    3: ("unknownFutureValue", "offline", "low", "dismissed", "adminDismissedAllRiskForUser"),
    4: ("servicePrincipal", "offline", "high", "confirmedCompromised",
        "adminConfirmedServicePrincipalCompromised"),
    5: ("user", "notDefined", "low", "dismissed", "adminDismissedAllRiskForServicePrincipal"),
    6: ("user", "unknownFutureValue", "medium", "remediated", "userPerformedSecuredPasswordReset"),
    7: ("user", "offline", "hidden", "none", "hidden"),
    8: ("user", "offline", "none", "dismissed", "m365DAdminDismissedDetection"),
    9: ("user", "offline", "unknownFutureValue", "unknownFutureValue", "unknownFutureValue"),
}


@dataclass
class RiskState:
    detections: list[dict[str, Any]] = field(default_factory=list)
    risky_users: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    admin_id: str = ""


def detection_id(key: int, n: int) -> str:
    return "".join(f"{seeds.h(key, n, 300 + k):016x}" for k in range(4))


def history_id(user_id: str, ticks: int, taken: set[str]) -> str:
    """Graph's form: the user id followed by the .NET ticks of the change."""
    dotnet = timefmt.to_dotnet_ticks(ticks)
    while f"{user_id}{dotnet}" in taken:
        dotnet += 1
    value = f"{user_id}{dotnet}"
    taken.add(value)
    return value


def close_open_detections(detections: VersionedStore, owner_prop: str, owner_id: str,
                          action: Action, at: int, visible_from: int | None) -> None:
    """An action's effect on its owner's detections still `atRisk` (users' and service
    principals' alike): each takes the action's riskState and riskDetail at `at`."""
    owner = owner_id.lower()
    for det in detections.visible_all(at):
        if str(det.get(owner_prop, "")).lower() == owner and det.get("riskState") == "atRisk":
            detections.put({**det, "riskState": action.risk_state,
                            "riskDetail": action.risk_detail, "lastUpdatedDateTime": at},
                           visible_from)


def additional_info(pairs: list[tuple[str, Any]]) -> str:
    """The `additionalInfo` JSON string: a list of {"Key","Value"} objects."""
    return json.dumps([{"Key": k, "Value": v} for k, v in pairs], ensure_ascii=False,
                      separators=(",", ":"))


def _detection_from_signin(key: int, j: int, signin: dict[str, Any], end: int) -> dict[str, Any]:
    event, level, timing, state, detail = linked_traits(key, j)
    v = seeds.h(key, j, 310)
    activity_at = signin["createdDateTime"]
    if timing == "realtime":
        delay = (v % 90) * timefmt.TICKS_PER_SECOND
    elif timing == "nearRealtime":
        delay = MINUTE + (v % (9 * 60)) * timefmt.TICKS_PER_SECOND
    else:
        delay = HOUR + (v % (47 * 3600)) * timefmt.TICKS_PER_SECOND
    latest = end - 2 * MINUTE
    detected = min(activity_at + delay, max(latest, activity_at))
    info: list[tuple[str, Any]] = [("userAgent", signin["userAgent"])]
    if event in ("unlikelyTravel", "impossibleTravel", "mcasImpossibleTravel"):
        other = catalog.CITIES[(v >> 12) % len(catalog.CITIES)]
        info += [
            ("relatedEventTimeInUtc", timefmt.format_ticks(activity_at - 2 * HOUR)),
            ("relatedUserAgent", signin["userAgent"]),
            ("relatedLocation", {"clientIP": f"{other[6]}4.4", "latitude": other[3],
                                 "longitude": other[4], "asn": 8075, "countryCode": other[2],
                                 "countryName": other[2], "state": other[1],
                                 "city": other[0]}),
        ]
    if event.startswith("investigationsThreatIntelligence"):
        info.append(("riskReasons", ["suspiciousIP", "passwordSpray"][(v >> 20) % 2 :]))
    return {
        "id": detection_id(key, j),
        "requestId": signin["id"],
        "correlationId": signin["correlationId"],
        "riskEventType": event,
        "riskState": state,
        "riskLevel": level,
        "riskDetail": detail,
        "source": pick(SOURCES[:2], j, v >> 24),
        "detectionTimingType": timing,
        "activity": "signin",
        "tokenIssuerType": pick(TOKEN_ISSUERS, j, 0 if (v >> 28) % 10 else v >> 32),
        "ipAddress": signin["ipAddress"],
        "location": signin["location"],
        "activityDateTime": activity_at,
        "detectedDateTime": detected,
        "lastUpdatedDateTime": detected + (0 if state == "atRisk" else 5 * MINUTE),
        "userId": signin["userId"],
        "userDisplayName": signin["userDisplayName"],
        "userPrincipalName": signin["userPrincipalName"],
        "additionalInfo": additional_info(info),
        "mitreTechniqueId": catalog.MITRE.get(event),
        "riskType": event if event in RISK_EVENT_ENUM else "unknownFutureValue",
    }


def _user_detection(key: int, n: int, k: int, user: User, src: SignInSource,
                    end: int) -> dict[str, Any]:
    v = seeds.h(key, k, 320)
    event = pick(catalog.USER_RISK_EVENTS[:-1], k, v)
    activity, timing, level, state, detail = SPECIAL_USER_DETECTIONS.get(
        k, ("user", "offline", pick(("low", "medium", "high"), k, v >> 8), "atRisk", "none"))
    window = max(src.span, 72 * HOUR)
    activity_at = end - window + (v >> 16) % (window - 48 * HOUR)
    detected = activity_at + HOUR + (v >> 24) % (47 * HOUR)
    updated = detected + (v >> 32) % (48 * HOUR)
    latest = end - 2 * MINUTE
    detected, updated = min(detected, latest), min(updated, latest)
    city = catalog.CITIES[user.home_city]
    has_ip = event in ("investigationsThreatIntelligence", "anomalousUserActivity",
                       "suspiciousAPITraffic", "attemptedPrtAccess")
    info: list[tuple[str, Any]] = [("lastActivityTimeInUtc", timefmt.format_ticks(activity_at))]
    if event == "leakedCredentials":
        info = [("alertUrl", None)]
    elif event == "investigationsThreatIntelligence":
        info.append(("riskReasons", ["suspiciousIP"]))
    return {
        "id": detection_id(key, n),
        "requestId": None,
        "correlationId": None,
        "riskEventType": event,
        "riskState": state,
        "riskLevel": level,
        "riskDetail": detail,
        "source": pick(SOURCES, k, v >> 40),
        "detectionTimingType": timing,
        "activity": activity,
        "tokenIssuerType": pick(TOKEN_ISSUERS, k, 0 if (v >> 44) % 10 else v >> 48),
        "ipAddress": f"{city[6]}{(v >> 50) % 254 + 1}.9" if has_ip else None,
        "location": {"city": city[0], "state": city[1], "countryOrRegion": city[2],
                     "geoCoordinates": None} if has_ip else None,
        "activityDateTime": activity_at,
        "detectedDateTime": detected,
        "lastUpdatedDateTime": max(updated, detected),
        "userId": user.id,
        "userDisplayName": user.display_name,
        "userPrincipalName": user.upn,
        "additionalInfo": additional_info(info),
        "mitreTechniqueId": catalog.MITRE.get(event),
        "riskType": event if event in RISK_EVENT_ENUM else "unknownFutureValue",
    }


def compromise_detection(key: int, n: int, user: dict[str, Any], at: int) -> dict[str, Any]:
    """The user-level detection an admin's confirmCompromised creates."""
    return {
        "id": detection_id(key, n),
        "requestId": None,
        "correlationId": None,
        "riskEventType": "adminConfirmedUserCompromised",
        "riskState": "confirmedCompromised",
        "riskLevel": "high",
        "riskDetail": "adminConfirmedUserCompromised",
        "source": "IdentityProtection",
        "detectionTimingType": "offline",
        "activity": "user",
        "tokenIssuerType": "AzureAD",
        "ipAddress": None,
        "location": None,
        "activityDateTime": at,
        "detectedDateTime": at,
        "lastUpdatedDateTime": at,
        "userId": user["id"],
        "userDisplayName": user["userDisplayName"],
        "userPrincipalName": user["userPrincipalName"],
        "additionalInfo": additional_info([]),
        "mitreTechniqueId": None,
        "riskType": "adminConfirmedUserCompromised",
    }


def history_item(
    user: dict[str, Any], item_id: str, at: int, state: str, level: str, detail: str,
    events: list[str], activity_detail: str | None, initiated_by: str | None,
) -> dict[str, Any]:
    return {
        "id": item_id,
        "isDeleted": user["isDeleted"],
        "isGuest": user.get("isGuest", False),
        "isProcessing": False,
        "riskLevel": level,
        "riskState": state,
        "riskDetail": detail,
        "riskLastUpdatedDateTime": at,
        "userDisplayName": user["userDisplayName"],
        "userPrincipalName": user["userPrincipalName"],
        "userId": user["id"],
        "initiatedBy": initiated_by,
        "activity": {
            "riskEventTypes": events,
            "eventTypes": [e if e in RISK_EVENT_ENUM else "unknownFutureValue" for e in events],
            "detail": activity_detail,
        },
    }


def seed(ctx: SeedContext) -> dict[str, list[dict[str, Any]]]:
    """The seed generator of riskyUsers, which also fills riskDetections and history."""
    state = build(ctx.key, ctx.signins, ctx.users, ctx.end)
    # Detection numbers up to here are taken: a detection added later numbers after them.
    ctx.reserve(len(state.detections) + len(state.risky_users))
    return {"riskDetections": state.detections, "riskyUsers": state.risky_users,
            "history": state.history}


def user_for(tenant: TenantView, partial: dict[str, Any]) -> dict[str, Any]:
    """Directory fields for a new record: the user named by userId/id, else a directory
    user who is not a risky user yet (so a new risky user never overwrites one)."""
    wanted = str(partial.get("userId") or partial.get("id") or "").lower()
    users = tenant.users
    user = next((u for u in users if u.id == wanted), None)
    if user is None:
        start = tenant.peek_counter() % len(users)
        ordered = users[start:] + users[:start]
        risky = tenant.store("riskyUsers")
        user = next((u for u in ordered if risky.latest(u.id) is None), None)
    if user is None:
        new_id = seeds.guid_for(tenant.key, tenant.counter(), 404)
        return {"id": new_id, "userDisplayName": "New User",
                "userPrincipalName": f"user.{new_id[:8]}@{tenant.domain}"}
    return {"id": user.id, "userDisplayName": user.display_name,
            "userPrincipalName": user.upn}


def build(key: int, src: SignInSource, users: list[User], end: int) -> RiskState:
    state = RiskState(admin_id=directory.admin_id(key))
    detections: list[dict[str, Any]] = []
    for j in range(src.linked):
        signin = src.build(src.slot_index(j))
        detections.append(_detection_from_signin(key, j, signin, end))
    pool = src.pool
    user_level = max(24, src.linked // 8)
    for k in range(user_level):
        user = pool[k % len(pool)] if k < FORCE else pool[seeds.h(key, k, 321) % len(pool)]
        detections.append(_user_detection(key, src.linked + k, k, user, src, end))

    by_user: dict[str, list[dict[str, Any]]] = {}
    for det in detections:
        by_user.setdefault(det["userId"], []).append(det)
    users_by_id = {u.id: u for u in users}
    taken: set[str] = set()
    extra = src.linked + user_level
    for n, (user_id, dets) in enumerate(sorted(by_user.items(), key=lambda kv: kv[0])):
        user = users_by_id[user_id]
        fate_state, fate_detail = (FATES[n] if n < len(FATES) else
                                   WEIGHTED_FATES[seeds.h(key, n, 340) % len(WEIGHTED_FATES)])
        dets.sort(key=lambda d: (d["detectedDateTime"], d["id"]))
        last = max(d["lastUpdatedDateTime"] for d in dets)
        fate_at = min(last + 10 * MINUTE + seeds.h(key, n, 341) % (6 * HOUR), end - MINUTE)
        fate_at = max(fate_at, last)
        record = {
            "id": user.id,
            "isDeleted": n % 17 == 13,
            "isProcessing": n % 23 == 9,
            "isGuest": user.is_guest,
            "riskLastUpdatedDateTime": last,
            "riskLevel": "none",
            "riskState": "none",
            "riskDetail": "none",
            "userDisplayName": user.display_name,
            "userPrincipalName": user.upn,
        }
        items: list[dict[str, Any]] = []
        running = 0
        for det in dets:
            running = max(running, LEVEL_RANK.get(det["riskLevel"], 0))
            level = next((k for k, r in LEVEL_RANK.items() if r == running), "low")
            items.append(history_item(
                record, history_id(user.id, det["detectedDateTime"], taken),
                det["detectedDateTime"], "atRisk", level, "none", [det["riskEventType"]], None,
                None))
        pending = [d for d in dets if d["riskState"] == "atRisk"]
        if fate_state == "atRisk":
            if pending:
                record["riskState"] = "atRisk"
                top = max(LEVEL_RANK.get(d["riskLevel"], 1) for d in pending)
                record["riskLevel"] = next(k for k, r in LEVEL_RANK.items() if r == top)
        else:
            if fate_state == "confirmedCompromised":
                det = compromise_detection(key, extra + n, record, fate_at)
                detections.append(det)
            else:
                for det in pending:
                    det["riskState"] = fate_state
                    det["riskDetail"] = fate_detail
                    det["lastUpdatedDateTime"] = fate_at
            record["riskState"] = fate_state
            record["riskDetail"] = fate_detail
            record["riskLevel"] = "high" if fate_state == "confirmedCompromised" else "none"
            record["riskLastUpdatedDateTime"] = fate_at
            if fate_detail in SELF_REMEDIATION:
                by = user.id
            elif fate_detail == "microsoftRevokedSessions":
                by = None
            else:
                by = state.admin_id
            events = ["adminConfirmedUserCompromised"] if fate_state == "confirmedCompromised" \
                else []
            items.append(history_item(
                record, history_id(user.id, fate_at, taken), fate_at, fate_state,
                record["riskLevel"], fate_detail, events, fate_detail, by))
        state.risky_users.append(record)
        state.history.extend(items)
    state.detections = detections
    return state
