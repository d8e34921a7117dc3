"""Every collection of the resource table is served end to end: listed with the full app,
refused to an app without roles, and present in the control API's ground truth."""

from __future__ import annotations

import pytest

from emulator.resources import COLLECTIONS
from tests.emulator.support import Client


def path_of(client: Client, name: str) -> str:
    spec = COLLECTIONS[name]
    if spec.service == "auditLogs":
        return f"/v1.0/auditLogs/{spec.segment}"
    if spec.parent is None:
        return f"/v1.0/identityProtection/{spec.segment}"
    owner = client.truth(spec.parent)[0]["id"]
    parent = COLLECTIONS[spec.parent]
    return f"/v1.0/identityProtection/{parent.segment}/{owner}/{spec.segment}"


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
def test_each_collection_is_served_and_guarded(client: Client, name: str) -> None:
    path = path_of(client, name)
    listed = client.get(path, query={"$top": 3})
    assert listed.status_code == 200, listed.text
    assert 0 < len(listed.json()["value"]) <= 3
    truth_ids = {r["id"] for r in client.truth(name, select="id")}
    assert {r["id"] for r in listed.json()["value"]} <= truth_ids
    assert client.get(path, app="none").status_code == 403
    too_many = client.get(path, query={"$top": COLLECTIONS[name].max_top + 1})
    assert too_many.status_code == 400
