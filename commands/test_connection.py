"""Test Connection: acquire a token, then read one item from each permission family the token's
roles grant (``$top=1`` on the family's collection in the manifest's catalogue), and report per
command whether it is ready.

It fails (the reference's failure indicator, exit 1) when Graph cannot be reached, when a read
answers with an error other than a 403 (5xx after the retries included), when every read is
refused, or when the app holds none of the roles any command needs: a token alone proves only
that the login host works. The job's health check is the same probe (:func:`probe`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from commands import registry
from executor.errors import ApiError, ConfigurationError
from executor.model import ResourceSpec
from executor.plugin import CommandContext
from executor.result import CommandOutput, ErrorEntry

IMPLIED_ROLES = {"IdentityRiskyUser.ReadWrite.All": ("IdentityRiskyUser.Read.All",),
                 "IdentityRiskyServicePrincipal.ReadWrite.All":
                     ("IdentityRiskyServicePrincipal.Read.All",)}
"""A ReadWrite role also grants the matching Read permission."""
READY = "ready"


def granted(roles: Sequence[str]) -> set[str]:
    have = set(roles)
    for role in roles:
        have.update(IMPLIED_ROLES.get(role, ()))
    return have


def command_needs(manifest: Any) -> dict[str, tuple[str, ...]]:
    """Each command (Fetch Event once per event type) and the permissions it needs."""
    needs: dict[str, tuple[str, ...]] = {}
    for command in manifest.commands:
        if command.permissions.by_input:
            for value, perms in command.permissions.by_value.items():
                needs[f"{command.display_name} ({value})"] = tuple(perms)
        else:
            needs[command.display_name] = tuple(command.permissions.always)
    return needs


def command_access(manifest: Any, roles: Sequence[str]
                   ) -> tuple[list[str], dict[str, list[str]]]:
    """Commands the roles allow, and for the others the permissions they lack."""
    have = granted(roles)
    allowed: list[str] = []
    missing: dict[str, list[str]] = {}
    for name, perms in command_needs(manifest).items():
        lacking = [p for p in perms if p not in have]
        if lacking:
            missing[name] = lacking
        else:
            allowed.append(name)
    return allowed, missing


def optional_access(manifest: Any, roles: Sequence[str]) -> list[dict[str, Any]]:
    """Each resource's optional permissions: what they add, and whether one is granted."""
    have = granted(roles)
    report: list[dict[str, Any]] = []
    for resource in manifest.resources:
        for optional in resource.optional_permissions:
            report.append({"for": optional.purpose, "any_of": list(optional.permissions),
                           "granted": any(p in have for p in optional.permissions)})
    return report


def probe_resources(manifest: Any, cloud: str) -> dict[str, ResourceSpec]:
    """One collection per permission family (the first the catalogue lists; no templated path
    such as a user's history, nothing the cloud lacks)."""
    families: dict[str, ResourceSpec] = {}
    for resource in manifest.resources:
        if "{" in resource.path or cloud in resource.unavailable_in_clouds:
            continue
        for permission in resource.permissions:
            families.setdefault(permission, resource)
    return families


@dataclass
class Probe:
    """What Test Connection found: the token, the reads made and each command's readiness."""

    roles: list[str]
    token: Any
    reads: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per permission family: the path read, ``ok`` and, when refused, status and message."""
    readiness: dict[str, str] = field(default_factory=dict)
    allowed: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)
    needed: list[str] = field(default_factory=list)
    """Every permission some command needs (for the admin-consent message)."""

    def ready(self, names: Sequence[str] | None = None) -> list[str]:
        return [n for n, state in self.readiness.items()
                if state == READY and (names is None or n in names)]


def probe(client: Any, manifest: Any) -> Probe:
    """Token, then one ``$top=1`` read per granted permission family.

    Raises :class:`~executor.errors.ConfigurationError` when the app holds none of the roles
    the commands need, and lets the client's error through when Graph cannot be reached or
    answers a read with anything but 403; a 403 marks the family's commands not ready.
    """
    token = client.token_info()
    roles = sorted(token.roles)
    needs = command_needs(manifest)
    result = Probe(roles=roles, token=token)
    result.allowed, result.missing = command_access(manifest, roles)
    result.needed = sorted({p for perms in needs.values() for p in perms})
    have = granted(roles)
    if result.needed and not have & set(result.needed):
        raise ConfigurationError(None, "The application holds none of the permissions the "
                                 "commands need: grant admin consent for "
                                 + ", ".join(result.needed)
                                 + " (application permissions) in Microsoft Entra ID")
    cloud = getattr(client.settings, "cloud", "global")  # the settings' cloud name
    refused: list[ApiError] = []
    for permission, resource in probe_resources(manifest, cloud).items():
        if permission not in have:
            continue
        try:
            client.get(resource.path, {"$top": "1"}, permissions=(permission,))
            result.reads[permission] = {"path": resource.path, "ok": True}
        except ApiError as exc:
            if exc.status_code != 403:
                raise
            refused.append(exc)
            result.reads[permission] = {"path": resource.path, "ok": False,
                                        "status_code": exc.status_code,
                                        "message": exc.message,
                                        "request_id": exc.request_id}
    if result.reads and not any(r["ok"] for r in result.reads.values()):
        raise refused[0]
    for name, perms in needs.items():
        failed = [p for p in granted(perms) if p in result.reads and not result.reads[p]["ok"]]
        if name in result.missing:
            result.readiness[name] = "missing " + ", ".join(result.missing[name])
        elif failed:
            result.readiness[name] = "read refused for " + ", ".join(sorted(failed))
        else:
            result.readiness[name] = READY
    return result


@registry.handler("test-connection")
def run(client: Any, inputs: dict[str, Any], context: CommandContext) -> CommandOutput:
    found = probe(client, context.manifest)
    token = found.token
    optional = optional_access(context.manifest, found.roles)
    expires = token.expires_at.isoformat() if token.expires_at else None
    errors = [ErrorEntry(context.command.failure_indicator, r["status_code"],
                         f"{r['path']}: {r['message']}", r["request_id"])
              for r in found.reads.values() if not r["ok"]]
    return CommandOutput(
        return_data="Partially Successful" if errors else "Successful",
        raw_data={"tenant_id": token.tenant_id, "app_id": token.app_id, "roles": found.roles,
                  "token_expires_at": expires},
        key_fields={"allowed_commands": found.allowed, "allowed_count": len(found.allowed),
                    "missing_count": len(found.missing),
                    "ready_count": len(found.ready())},
        context_data={"tenant_id": token.tenant_id, "roles": found.roles,
                      "allowed_commands": found.allowed, "missing_permissions": found.missing,
                      "optional_permissions": optional, "readiness": found.readiness,
                      "reads": [{"permission": p, **r} for p, r in found.reads.items()]},
        errors=errors, partial=bool(errors))
