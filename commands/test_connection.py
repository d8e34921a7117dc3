"""Test Connection: acquire a token, then report which commands its application roles allow,
and which optional permissions (declared per resource in the manifest) it holds."""

from __future__ import annotations

from typing import Any

from commands import registry
from executor.plugin import CommandContext
from executor.result import CommandOutput

IMPLIED_ROLES = {"IdentityRiskyUser.ReadWrite.All": ("IdentityRiskyUser.Read.All",),
                 "IdentityRiskyServicePrincipal.ReadWrite.All":
                     ("IdentityRiskyServicePrincipal.Read.All",)}
"""A ReadWrite role also grants the matching Read permission."""


def granted(roles: list[str]) -> set[str]:
    have = set(roles)
    for role in roles:
        have.update(IMPLIED_ROLES.get(role, ()))
    return have


def command_access(manifest: Any, roles: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Commands the roles allow, and for the others the permissions they lack."""
    have = granted(roles)
    allowed: list[str] = []
    missing: dict[str, list[str]] = {}
    for command in manifest.commands:
        needs = {command.display_name: command.permissions.always}
        if command.permissions.by_input:
            needs = {f"{command.display_name} ({value})": perms
                     for value, perms in command.permissions.by_value.items()}
        for name, perms in needs.items():
            lacking = [p for p in perms if p not in have]
            if lacking:
                missing[name] = lacking
            else:
                allowed.append(name)
    return allowed, missing


def optional_access(manifest: Any, roles: list[str]) -> list[dict[str, Any]]:
    """Each resource's optional permissions: what they add, and whether one is granted."""
    have = granted(roles)
    report: list[dict[str, Any]] = []
    for resource in manifest.resources:
        for optional in resource.optional_permissions:
            report.append({"for": optional.purpose, "any_of": list(optional.permissions),
                           "granted": any(p in have for p in optional.permissions)})
    return report


@registry.handler("test-connection")
def run(client: Any, inputs: dict[str, Any], context: CommandContext) -> CommandOutput:
    token = client.token_info()
    roles = sorted(token.roles)
    allowed, missing = command_access(context.manifest, roles)
    optional = optional_access(context.manifest, roles)
    expires = token.expires_at.isoformat() if token.expires_at else None
    return CommandOutput(
        return_data="Successful",
        raw_data={"tenant_id": token.tenant_id, "app_id": token.app_id, "roles": roles,
                  "token_expires_at": expires},
        key_fields={"allowed_commands": allowed, "allowed_count": len(allowed),
                    "missing_count": len(missing)},
        context_data={"tenant_id": token.tenant_id, "roles": roles,
                      "allowed_commands": allowed, "missing_permissions": missing,
                      "optional_permissions": optional})
