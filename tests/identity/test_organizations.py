"""Clerk's organization webhooks: applied once, in any order, a deletion a tombstone that nothing brings back and
the one change on the organizations' feed (not the users': a reader of the previous release could not read it)."""

from typing import Any

import httpx
import pytest

from deploy.dev.standins.clerk.payloads import (
    deleted_organization_event,
    make_organization,
    organization_event,
    update_organization,
)
from tests.support.clerk import deliver
from tests.support.rows import rows


async def feed(identity: httpx.AsyncClient, path: str, after: str | None = None) -> dict[str, Any]:
    response = await identity.get(path, params={"after": after} if after else {})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def organization_row(identity_db: str, org_id: str) -> dict[str, Any]:
    [row] = await rows(identity_db, "SELECT * FROM organizations WHERE clerk_org_id = $1", org_id)
    return row


async def test_organizations_converge_to_clerk_s_latest_and_a_deletion_goes_onto_their_own_feed(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    created = make_organization(name="Acme")
    renamed = update_organization(created, name="Acme Corp")
    outcomes = [
        (await deliver(identity, svix_secret, event, svix_id=svix_id)).json()["outcome"]
        for svix_id, event in (
            ("msg_org_renamed", organization_event("organization.updated", renamed)),
            ("msg_org_created", organization_event("organization.created", created)),  # late: older
            ("msg_org_renamed", organization_event("organization.updated", renamed)),  # redelivered
        )
    ]
    before_deletion = await organization_row(identity_db, created["id"])
    deleted = await deliver(identity, svix_secret, deleted_organization_event(created["id"]))
    resurrected = await deliver(
        identity, svix_secret, organization_event("organization.updated", update_organization(renamed))
    )
    after_deletion = await organization_row(identity_db, created["id"])

    assert outcomes == ["applied", "stale", "duplicate"]
    assert (before_deletion["name"], before_deletion["slug"]) == ("Acme Corp", "acme")
    assert (deleted.json()["outcome"], resurrected.json()["outcome"]) == ("applied", "stale")
    assert (after_deletion["deleted_at"] is not None, after_deletion["name"]) == (True, None)
    organizations = await feed(identity, "/internal/organizations/changes")
    assert [(item["change"], item["org_id"]) for item in organizations["items"]] == [
        ("organization_deleted", created["id"])
    ]
    assert set(organizations["items"][0]) == {"cursor", "change", "org_id", "at"}
    assert (await feed(identity, "/internal/users/changes"))["items"] == []
    after = await feed(identity, "/internal/organizations/changes", organizations["next_cursor"])
    assert (after["items"], after["next_cursor"]) == ([], organizations["next_cursor"])


async def test_a_deletion_that_arrives_first_leaves_a_tombstone(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    organization = make_organization(name="Gone before it came")

    first = await deliver(identity, svix_secret, deleted_organization_event(organization["id"]))
    late = await deliver(identity, svix_secret, organization_event("organization.created", organization))

    assert (first.json()["outcome"], late.json()["outcome"]) == ("applied", "stale")
    assert (await organization_row(identity_db, organization["id"]))["deleted_at"] is not None


@pytest.mark.parametrize(
    "data",
    [{"id": "not-an-org", "name": "x", "created_at": 1, "updated_at": 1}, {"id": "org_abc", "name": "x"}],
    ids=repr,
)
async def test_an_organization_event_we_cannot_read_is_400_and_changes_nothing(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str, data: dict[str, Any]
):
    event = {"type": "organization.created", "object": "event", "timestamp": 1, "data": data}

    response = await deliver(identity, svix_secret, event)

    assert response.status_code == 400
    assert await rows(identity_db, "SELECT * FROM organizations") == []


async def test_the_organizations_feed_needs_the_internal_token_and_a_cursor_it_handed_out(identity: httpx.AsyncClient):
    bad_cursor = await identity.get("/internal/organizations/changes", params={"after": "x.y"})
    del identity.headers["Authorization"]
    unauthenticated = await identity.get("/internal/organizations/changes")

    assert (bad_cursor.status_code, unauthenticated.status_code) == (400, 401)
