"""The workload-identity seed family: risky service principals, their history and their
detections, generated together because they must agree; plus the record builders the three
service-principal modules share for actions and the control API.

Shapes follow the v1.0 riskyServicePrincipal, riskyServicePrincipalHistoryItem and
servicePrincipalRiskDetection resource pages. Few records (tens), so they are materialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator import catalog, seeds, timefmt
from emulator.collections._user_risk import additional_info, detection_id, history_id
from emulator.spec import SeedContext, TenantView

HOUR = 3600 * timefmt.TICKS_PER_SECOND
MINUTE = 60 * timefmt.TICKS_PER_SECOND

APP_NAMES = (
    "Contoso Payroll Sync", "Backup Agent", "CI Deploy (prod)", "Marketing Mailer",
    "HR Connector", "Finance Reports", "Legacy FTP Bridge", "Teams Bot — Café", "Graph Reader",
    "SIEM Forwarder", "Søknad Portal", "データ連携", "Ops Automation", "Partner API",
)
SERVICE_PRINCIPAL_TYPES = ("Application", "Application", "Application", "ManagedIdentity",
                           "Legacy", "SocialIdp")
# riskServicePrincipalActivity.riskEventTypes, as the resource page lists them.
SP_RISK_EVENTS = (
    "investigationsThreatIntelligence", "suspiciousSignins", "leakedCredentials",
    "anomalousServicePrincipalActivity", "maliciousApplication", "suspiciousApplication",
)
# (riskState, riskDetail) a risky service principal ends in; cycled for coverage first.
FATES = (
    ("atRisk", "none"),
    ("dismissed", "adminDismissedAllRiskForServicePrincipal"),
    ("confirmedCompromised", "adminConfirmedServicePrincipalCompromised"),
    ("atRisk", "none"),
    ("remediated", "none"),
    ("atRisk", "hidden"),
)
LEVELS = ("low", "medium", "high")


@dataclass
class WorkloadState:
    principals: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    detections: list[dict[str, Any]] = field(default_factory=list)


def principal_base(sp_id: str, app_id: str, name: str, at: int) -> dict[str, Any]:
    """A risky service principal at risk (used for seeds and for control-API records)."""
    return {
        "id": sp_id, "appId": app_id, "displayName": name, "isEnabled": True,
        "isProcessing": False, "riskDetail": "none", "riskLastUpdatedDateTime": at,
        "riskLevel": "medium", "riskState": "atRisk", "servicePrincipalType": "Application",
    }


def added_principal(key: int, n: int, at: int, sp_id: str = "") -> dict[str, Any]:
    """The control API's new risky service principal number `n` (`sp_id`, else a generated
    id), at risk from `at`."""
    return principal_base(sp_id or seeds.guid_for(key, n, 620), seeds.guid_for(key, n, 621),
                          f"Added App {n}", at)


def risky_owner(tenant: TenantView, partial: dict[str, Any]) -> dict[str, Any] | None:
    """The risky service principal a control-API record names by servicePrincipalId, if any."""
    owner_id = str(partial.get("servicePrincipalId") or "")
    holder = tenant.store("riskyServicePrincipals").latest(owner_id) if owner_id else None
    return holder[1] if holder else None


def history_item(principal: dict[str, Any], item_id: str, at: int, events: list[str],
                 initiated_by: str | None) -> dict[str, Any]:
    """A history item: the principal's state at `at` plus the activity that caused it."""
    return {
        **principal,
        "id": item_id,
        "riskLastUpdatedDateTime": at,
        "activity": {"detail": principal["riskDetail"], "riskEventTypes": events},
        "initiatedBy": initiated_by,
        "servicePrincipalId": principal["id"],
    }


def detection(key: int, n: int, principal: dict[str, Any], event: str, at: int,
              level: str, timing: str = "offline") -> dict[str, Any]:
    """A servicePrincipalRiskDetection for `principal`, detected at `at`."""
    v = seeds.h(key, n, 610)
    city = catalog.CITIES[v % len(catalog.CITIES)]
    activity_at = at - HOUR - (v >> 8) % (6 * HOUR)
    signin_linked = event == "suspiciousSignins"
    return {
        "id": detection_id(seeds.mix(key ^ 0x5350), n),  # own key: never a user detection's id
        "activity": "servicePrincipal",
        "activityDateTime": activity_at,
        "additionalInfo": additional_info([("alertUrl", None)] if event == "leakedCredentials"
                                          else [("riskReasons", [event])]),
        "appId": principal["appId"],
        "correlationId": seeds.guid_for(key, n, 611) if signin_linked else None,
        "detectedDateTime": at,
        "detectionTimingType": timing,
        "ipAddress": f"{city[6]}{(v >> 16) % 254 + 1}.{(v >> 24) % 254 + 1}",
        "keyIds": [seeds.guid_for(key, n, 612)] if event == "leakedCredentials" else [],
        "lastUpdatedDateTime": at,
        "location": {"city": city[0], "state": city[1], "countryOrRegion": city[2],
                     "geoCoordinates": None},
        "requestId": seeds.guid_for(key, n, 613) if signin_linked else None,
        "riskDetail": "none",
        "riskEventType": event,
        "riskLevel": level,
        "riskState": "atRisk",
        "servicePrincipalDisplayName": principal["displayName"],
        "servicePrincipalId": principal["id"],
        "source": "IdentityProtection",
        "tokenIssuerType": "AzureAD",
    }


def seed(ctx: SeedContext) -> dict[str, list[dict[str, Any]]]:
    """The seed generator of riskyServicePrincipals, which also fills servicePrincipalHistory
    and servicePrincipalRiskDetections: a few per 400 sign-ins, at least 12, at most 200."""
    count = min(max(ctx.signin_count // 400, 12), 200)
    state = build(ctx.key, count, ctx.end, ctx.admin_id)
    return {"riskyServicePrincipals": state.principals,
            "servicePrincipalHistory": state.history,
            "servicePrincipalRiskDetections": state.detections}


def build(key: int, count: int, end: int, admin_id: str) -> WorkloadState:
    """`count` risky service principals with 1-3 detections each, all in the 30 days before
    `end`; each principal's history holds one item per detection and one for its fate."""
    state = WorkloadState()
    taken: set[str] = set()
    n_detection = 0
    for i in range(count):
        v = seeds.h(key, i, 600)
        sp_id = seeds.guid_for(key, i, 601)
        name = APP_NAMES[i % len(APP_NAMES)] + ("" if i < len(APP_NAMES)
                                                 else f" {i // len(APP_NAMES) + 1}")
        first = end - 29 * 24 * HOUR + (v >> 8) % (25 * 24 * HOUR)
        principal = principal_base(sp_id, seeds.guid_for(key, i, 602), name, first)
        principal["servicePrincipalType"] = SERVICE_PRINCIPAL_TYPES[
            (v >> 40) % len(SERVICE_PRINCIPAL_TYPES)]
        principal["isEnabled"] = i % 7 != 5
        principal["isProcessing"] = i % 11 == 4
        items: list[dict[str, Any]] = []
        at, rank = first, 0
        for k in range(1 + (v >> 48) % 3):
            event = SP_RISK_EVENTS[(i + k) % len(SP_RISK_EVENTS)]
            level = LEVELS[(v >> (20 + 2 * k)) % 3]
            rank = max(rank, LEVELS.index(level))
            det = detection(key, n_detection, principal, event, at, level)
            n_detection += 1
            state.detections.append(det)
            principal.update(riskLevel=LEVELS[rank], riskLastUpdatedDateTime=at)
            items.append(history_item(principal, history_id(sp_id, at, taken), at, [event],
                                      None))
            at = min(at + HOUR + (v >> (30 + k)) % (48 * HOUR), end - 2 * MINUTE)
        fate_state, fate_detail = (FATES[i] if i < len(FATES)
                                   else FATES[(v >> 56) % len(FATES)])
        if fate_state != "atRisk" or fate_detail != "none":
            at = max(at, principal["riskLastUpdatedDateTime"])
            level = {"confirmedCompromised": "high", "atRisk": "hidden"}.get(fate_state, "none")
            principal.update(riskState=fate_state, riskDetail=fate_detail, riskLevel=level,
                             riskLastUpdatedDateTime=at)
            for det in state.detections:
                if det["servicePrincipalId"] == sp_id and fate_state != "atRisk":
                    det.update(riskState=fate_state, riskDetail=fate_detail,
                               lastUpdatedDateTime=at)
            events = (["adminConfirmedServicePrincipalCompromised"]
                      if fate_state == "confirmedCompromised" else [])
            by = admin_id if fate_state in ("dismissed", "confirmedCompromised") else None
            items.append(history_item(principal, history_id(sp_id, at, taken), at, events, by))
        state.principals.append(principal)
        state.history.extend(items)
    return state
