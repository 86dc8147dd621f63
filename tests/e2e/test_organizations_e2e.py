"""Organizations across real processes: Clerk deletes an organization, its webhook reaches identity, identity's
organizations' feed reaches both sessions replicas, and every row of that organization is erased within seconds
(templates, invites, interviews, transcripts, reports), its candidate removed from the live room; a deleted
candidate's organization interview goes too, and the organization keeps only that its invite was used."""

from collections.abc import Callable

import httpx

from deploy.dev.standins.clerk.session_tokens import ActiveOrganization
from tests.support.clerk import clerk_user, deliver
from tests.support.credentials import bearer
from tests.support.livekit import LiveKitStandin, agent_write_token
from tests.support.organizations import TEMPLATE, redeem
from tests.support.rows import rows
from tests.support.stack import Stack
from tests.support.waiting import eventually

WITHIN = 5.0


async def of_organization(stack: Stack, org_id: str) -> int:
    """Rows here that belong to the organization, or to an interview of it."""
    found = await rows(
        stack.database_urls["sessions"],
        """SELECT (SELECT count(*) FROM interview_templates WHERE org_id = $1)
                + (SELECT count(*) FROM template_versions v JOIN interview_templates t ON t.id = v.template
                   WHERE t.org_id = $1)
                + (SELECT count(*) FROM invites WHERE org_id = $1)
                + (SELECT count(*) FROM interviews WHERE org_id = $1)
                + (SELECT count(*) FROM transcript_segments WHERE interview NOT IN (SELECT id FROM interviews))
                + (SELECT count(*) FROM interview_reports WHERE interview NOT IN (SELECT id FROM interviews)) AS n""",
        org_id,
    )
    return int(found[0]["n"])


async def hired(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, token: Callable[..., str], name: str
) -> tuple[str, str, str, str]:
    """An organization in Clerk (its webhook delivered to identity) whose recruiter wrote a template and invited a
    candidate, who joined; the agent reported. (org id, recruiter id, candidate id, room)."""
    recruiter = await clerk_user(clerk, email=f"{name}.recruiter@example.com")
    created = await clerk.post(
        "/_standin/organizations",
        json={"name": name, "members": [{"user_id": recruiter["id"], "role": "org:admin"}], "deliver": False},
    )
    organization = created.json()["organization"]
    recruiter_headers = bearer(
        token(recruiter["id"], organization=ActiveOrganization(organization["id"], organization["slug"], "org:admin"))
    )
    person = await clerk_user(clerk, email=f"{name}.candidate@example.com", first_name="Casey")
    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=10) as sessions:
        template = (await sessions.post("/api/org/templates", json=TEMPLATE, headers=recruiter_headers)).json()
        invite = await sessions.post(f"/api/org/templates/{template['id']}/invites", json={}, headers=recruiter_headers)
        details = await redeem(sessions, invite.json()["code"], bearer(token(person["id"])))
        assert details.status_code == 200, details.text
        await livekit.join(details.json()["participantToken"])
        room = details.json()["roomName"]
        [found] = await rows(stack.database_urls["sessions"], "SELECT id FROM interviews WHERE room_name = $1", room)
        agent = bearer(agent_write_token(room))
        segment = {"seq": 0, "speaker": "agent", "text": "Welcome.", "started_at_ms": 0, "ended_at_ms": 9}
        await sessions.post(f"/agent/interviews/{found['id']}/transcript", json={"segments": [segment]}, headers=agent)
        report = {"version": 1, "summary": "fine", "data": {}}
        assert (
            await sessions.put(f"/agent/interviews/{found['id']}/report", json=report, headers=agent)
        ).status_code == 200
    return organization["id"], recruiter["id"], person["id"], room


async def in_room(livekit: LiveKitStandin, room: str, clerk_id: str) -> bool:
    participants = (await livekit.rooms()).get(room, {}).get("participants", [])
    return any(participant["identity"] == clerk_id for participant in participants)


async def test_clerk_deleting_an_organization_erases_all_of_it_in_sessions_within_seconds(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    org_id, recruiter_id, candidate_id, room = await hired(stack, clerk, livekit, session_token, "acme")
    other_org, *_ = await hired(stack, clerk, livekit, session_token, "globex")
    assert await of_organization(stack, org_id) == 4  # its template, the version, the invite, the interview

    deleted = (await clerk.delete(f"/_standin/organizations/{org_id}", params={"deliver": "false"})).json()["event"]
    async with httpx.AsyncClient(base_url=stack.identity.url, timeout=10) as identity:
        assert (await deliver(identity, svix_secret, deleted)).json()["outcome"] == "applied"

    async def erased() -> bool:
        return await of_organization(stack, org_id) == 0 and not await in_room(livekit, room, candidate_id)

    assert await eventually(erased, within=WITHIN)
    assert await of_organization(stack, other_org) == 4  # nobody else's
    async with httpx.AsyncClient(base_url=stack.sessions_replicas[1].url, timeout=10) as sessions:
        stale_recruiter = bearer(
            session_token(recruiter_id, organization=ActiveOrganization(org_id, "acme", "org:admin"))
        )  # a session token from before the deletion: it lives up to a minute
        refused = await sessions.post("/api/org/templates", json=TEMPLATE, headers=stale_recruiter)
        mine = await sessions.get("/api/interviews", headers=bearer(session_token(candidate_id)))
    assert refused.status_code == 403
    assert mine.json()["items"] == []


async def test_a_deleted_candidate_s_organization_interview_goes_and_the_invite_stays_used(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    org_id, _, candidate_id, _ = await hired(stack, clerk, livekit, session_token, "initech")

    deleted = (await clerk.delete(f"/_standin/users/{candidate_id}", params={"deliver": "false"})).json()["event"]
    async with httpx.AsyncClient(base_url=stack.identity.url, timeout=10) as identity:
        await deliver(identity, svix_secret, deleted)

    async def erased() -> bool:
        naming = await rows(
            stack.database_urls["sessions"],
            """SELECT (SELECT count(*) FROM interviews WHERE clerk_id = $1)
                    + (SELECT count(*) FROM invites WHERE redeemed_by = $1) AS n""",
            candidate_id,
        )
        return naming[0]["n"] == 0

    assert await eventually(erased, within=WITHIN)
    [invite] = await rows(stack.database_urls["sessions"], "SELECT * FROM invites WHERE org_id = $1", org_id)
    assert (invite["redeemed_at"] is not None, invite["redeemed_by"], invite["interview_id"]) == (True, None, None)
