"""Organizations hire with it: recruiters write templates and invite candidates by link, a candidate redeems the
link into an interview pinned to the template's version, the agent reads its brief, recruiters review."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from deploy.dev.standins.clerk.session_tokens import ActiveOrganization
from tests.support.credentials import bearer
from tests.support.livekit import agent_write_token, verify_livekit_token
from tests.support.metrics import sample
from tests.support.organizations import (
    TEMPLATE,
    Org,
    candidate,
    create_invite,
    create_template,
    new_org,
    redeem,
    sha256,
)
from tests.support.rows import rows

Token = Callable[..., str]


@pytest.fixture
async def org(clerk: httpx.AsyncClient, session_token: Token) -> Org:
    return await new_org(clerk, session_token)


async def test_templates_are_written_once_and_versioned_never_changed(sessions: httpx.AsyncClient, org: Org):
    created = await create_template(sessions, org)
    changed = {**TEMPLATE, "title": "Backend engineer, second round", "questions": ["Design a feed."]}
    updated = await sessions.put(f"/api/org/templates/{created['id']}", json=changed, headers=org.headers())
    latest = await sessions.get(f"/api/org/templates/{created['id']}", headers=org.headers())
    first = await sessions.get(f"/api/org/templates/{created['id']}", params={"version": 1}, headers=org.headers())
    listed = await sessions.get("/api/org/templates", headers=org.headers())

    assert (created["version"], created["title"], created["rubric"]) == (1, TEMPLATE["title"], TEMPLATE["rubric"])
    assert created["created_at"].endswith("Z")
    assert updated.status_code == 200
    assert (updated.json()["version"], latest.json()["version"], latest.json()["questions"]) == (
        2,
        2,
        ["Design a feed."],
    )
    assert (first.json()["version"], first.json()["title"]) == (1, TEMPLATE["title"])
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]


async def test_an_archived_template_is_listed_only_when_asked_for_and_takes_no_invite_or_version(
    sessions: httpx.AsyncClient, org: Org
):
    template = await create_template(sessions, org)

    archived = await sessions.delete(f"/api/org/templates/{template['id']}", headers=org.headers())
    again = await sessions.delete(f"/api/org/templates/{template['id']}", headers=org.headers())
    listed = await sessions.get("/api/org/templates", headers=org.headers())
    with_archived = await sessions.get("/api/org/templates", params={"archived": "true"}, headers=org.headers())
    invite = await sessions.post(f"/api/org/templates/{template['id']}/invites", json={}, headers=org.headers())
    version = await sessions.put(f"/api/org/templates/{template['id']}", json=TEMPLATE, headers=org.headers())

    assert (archived.status_code, again.status_code) == (204, 204)
    assert listed.json()["items"] == []
    assert [item["archived_at"] is not None for item in with_archived.json()["items"]] == [True]
    assert (invite.status_code, version.status_code) == (409, 409)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"instructions": "é" * 8193}, "instructions"),
        ({"questions": ["q"] * 51}, "questions"),
        ({"questions": ["é" * 1025]}, "questions[0]"),
        ({"rubric": {"blob": "r" * 16_384}}, "rubric"),
        ({"agent_name": "someone-else"}, "agent_name"),
        ({"max_minutes": 61}, "max_minutes"),
        ({"max_minutes": 0}, "max_minutes"),
        ({"title": "a\x00b"}, "title"),
    ],
    ids=repr,
)
async def test_template_bounds_are_422_naming_the_field_and_store_nothing(
    sessions: httpx.AsyncClient, org: Org, sessions_db: str, fields: dict[str, Any], named: str
):
    response = await sessions.post("/api/org/templates", json={**TEMPLATE, **fields}, headers=org.headers())

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert named in response.json()["detail"]
    assert await rows(sessions_db, "SELECT id FROM interview_templates") == []


@pytest.mark.parametrize(
    ("organization", "claims_version", "status", "problem"),
    [
        (None, 2, 403, "no-active-organization"),
        ("org:member", 2, 403, "not-a-recruiter"),
        ("org:recruiter", 2, 201, None),
        ("org:admin", 1, 201, None),
        ("org:member", 1, 403, "not-a-recruiter"),
    ],
)
async def test_only_recruiters_of_the_active_organization_write_templates(
    sessions: httpx.AsyncClient,
    org: Org,
    session_token: Token,
    organization: str | None,
    claims_version: int,
    status: int,
    problem: str | None,
):
    if organization is None:
        headers = bearer(session_token(org.recruiter_id))
    else:
        headers = org.headers(organization, claims_version=claims_version)

    response = await sessions.post("/api/org/templates", json=TEMPLATE, headers=headers)

    assert response.status_code == status, response.text
    if problem:
        assert response.json()["type"] == f"urn:problem:{problem}"


@pytest.mark.parametrize(
    "claims",
    [
        {"o": "org_abc"},
        {"o": {"id": 5, "rol": "admin"}},
        {"o": {"id": "org_abc", "rol": ["admin"]}},
        {"o": {"id": "not an org id", "rol": "admin"}},
        {"org_id": {"id": "org_abc"}},
        {"org_id": "org_abc", "org_role": 7},
    ],
    ids=repr,
)
async def test_a_malformed_organization_claim_is_401(
    sessions: httpx.AsyncClient, org: Org, session_token: Token, claims: dict[str, Any]
):
    token = session_token(org.recruiter_id, extra_claims=claims)

    response = await sessions.post("/api/org/templates", json=TEMPLATE, headers=bearer(token))

    assert response.status_code == 401


async def test_another_organization_s_templates_invites_and_interviews_are_404(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Token
):
    mine, theirs = await new_org(clerk, session_token), await new_org(clerk, session_token)
    template = await create_template(sessions, theirs)
    invite = await create_invite(sessions, theirs, template["id"])
    _, candidate_headers = await candidate(clerk, session_token)
    interview_id = verify_interview_id(await redeem(sessions, invite["code"], candidate_headers))

    attempts = [
        await sessions.get(f"/api/org/templates/{template['id']}", headers=mine.headers()),
        await sessions.put(f"/api/org/templates/{template['id']}", json=TEMPLATE, headers=mine.headers()),
        await sessions.delete(f"/api/org/templates/{template['id']}", headers=mine.headers()),
        await sessions.post(f"/api/org/templates/{template['id']}/invites", json={}, headers=mine.headers()),
        await sessions.delete(f"/api/org/invites/{invite['id']}", headers=mine.headers()),
        await sessions.get(f"/api/org/interviews/{interview_id}", headers=mine.headers()),
        await sessions.get(f"/api/org/interviews/{interview_id}/transcript", headers=mine.headers()),
    ]
    lists = [
        await sessions.get(path, headers=mine.headers())
        for path in ("/api/org/templates", "/api/org/invites", "/api/org/interviews")
    ]

    assert [response.status_code for response in attempts] == [404] * len(attempts)
    assert [response.json()["items"] for response in lists] == [[], [], []]
    untouched = await sessions.get(f"/api/org/templates/{template['id']}", headers=theirs.headers())
    assert (untouched.json()["version"], untouched.json()["archived_at"]) == (1, None)


def verify_interview_id(response: httpx.Response) -> str:
    """The interview a connection-details answer started, from its token's dispatch metadata."""
    assert response.status_code == 200, response.text
    claims = verify_livekit_token(response.json()["participantToken"])
    metadata = json.loads(claims.room_config.agents[0].metadata)
    return str(metadata["interview_id"])


async def test_an_invite_s_code_is_shown_once_and_only_its_hash_is_kept(
    sessions: httpx.AsyncClient, org: Org, sessions_db: str
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"], email="Ada@Example.com", expires_in_seconds=3600)
    listed = await sessions.get("/api/org/invites", params={"state": "pending"}, headers=org.headers())

    assert len(invite["code"]) >= 22  # at least 128 random bits, URL-safe
    assert invite["url"] == f"http://localhost:3000/invite/{invite['code']}"
    assert (invite["template_id"], invite["email"]) == (template["id"], "Ada@Example.com")
    stored = await rows(sessions_db, "SELECT * FROM invites")
    assert [row["code_hash"] for row in stored] == [sha256(invite["code"])]
    assert invite["code"] not in repr(stored)
    assert [item["id"] for item in listed.json()["items"]] == [invite["id"]]
    assert "code" not in listed.text


async def test_redeeming_starts_the_interview_of_the_template_s_current_version_and_gives_it_back_after(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org, agent_name="coach")
    await sessions.put(
        f"/api/org/templates/{template['id']}",
        json={**TEMPLATE, "agent_name": "coach", "max_minutes": 20},
        headers=org.headers(),
    )
    invite = await create_invite(sessions, org, template["id"])
    candidate_id, headers = await candidate(clerk, session_token, email="carl@example.com")

    first = await redeem(sessions, invite["code"], headers)
    again = await redeem(sessions, invite["code"], {**headers, "Content-Type": "application/json"})
    await sessions.put(f"/api/org/templates/{template['id']}", json=TEMPLATE, headers=org.headers())  # version 3
    still = await redeem(sessions, invite["code"], headers)

    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    claims = verify_livekit_token(first.json()["participantToken"])
    [dispatch] = claims.room_config.agents
    metadata = json.loads(dispatch.metadata)
    assert dispatch.agent_name == "coach"
    assert metadata == {
        "interview_id": metadata["interview_id"],
        "clerk_id": candidate_id,
        "metadata": None,
        "template": {"id": template["id"], "version": 2},
    }
    assert again.json()["roomName"] == still.json()["roomName"] == first.json()["roomName"]
    [row] = await rows(sessions_db, "SELECT * FROM interviews")
    assert (row["org_id"], str(row["template_id"]), row["template_version"]) == (org.id, template["id"], 2)
    assert (row["max_seconds"], row["candidate_email"], row["candidate_name"]) == (1200, "carl@example.com", "Carl")
    listed = await sessions.get("/api/org/invites", params={"state": "used"}, headers=org.headers())
    assert [(item["id"], item["interview_id"]) for item in listed.json()["items"]] == [(invite["id"], str(row["id"]))]


async def test_coming_back_to_an_invite_soon_after_gets_the_same_token_and_writes_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)
    versions = """SELECT (SELECT xmin::text || '/' || xmax::text FROM invites) AS invite,
                         (SELECT xmin::text || '/' || xmax::text FROM interviews) AS interview"""  # writes, row locks

    first = await redeem(sessions, invite["code"], headers)
    written = await rows(sessions_db, versions)
    again = await redeem(sessions, invite["code"], headers)

    assert again.json()["participantToken"] == first.json()["participantToken"]
    assert await rows(sessions_db, versions) == written  # neither row written nor locked
    await rows(sessions_db, "UPDATE interviews SET status = 'expired', token_expires_at = now()")
    revived = await redeem(sessions, invite["code"], headers)  # an expired one is revived, as before
    assert revived.json()["roomName"] == first.json()["roomName"]
    [row] = await rows(
        sessions_db, "SELECT status, token_expires_at > now() + interval '10 minutes' AS ahead FROM interviews"
    )
    assert row == {"status": "created", "ahead": True}


async def test_every_refusal_of_a_redemption_creates_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org)
    archived_template = await create_template(sessions, org)
    used = await create_invite(sessions, org, template["id"])
    revoked = await create_invite(sessions, org, template["id"])
    expired = await create_invite(sessions, org, template["id"], expires_in_seconds=60)
    of_archived = await create_invite(sessions, org, archived_template["id"])
    for_ada = await create_invite(sessions, org, template["id"], email="ada@example.com")
    await rows(
        sessions_db,
        "UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = $1",
        uuid.UUID(expired["id"]),
    )
    assert (await sessions.delete(f"/api/org/invites/{revoked['id']}", headers=org.headers())).status_code == 204
    assert (
        await sessions.delete(f"/api/org/templates/{archived_template['id']}", headers=org.headers())
    ).status_code == 204
    _, first_headers = await candidate(clerk, session_token)
    assert (await redeem(sessions, used["code"], first_headers)).status_code == 200
    before = await rows(sessions_db, "SELECT id FROM interviews")
    _, headers = await candidate(clerk, session_token, email="not-ada@example.com")

    refusals = {
        "unknown": await redeem(sessions, "no-such-code-0123456789", headers),
        "used by another": await redeem(sessions, used["code"], headers),
        "revoked": await redeem(sessions, revoked["code"], headers),
        "expired": await redeem(sessions, expired["code"], headers),
        "archived": await redeem(sessions, of_archived["code"], headers),
        "another email": await redeem(sessions, for_ada["code"], headers),
    }

    assert {name: (r.status_code, r.json()["type"]) for name, r in refusals.items()} == {
        "unknown": (404, "urn:problem:invite-not-found"),
        "used by another": (403, "urn:problem:invite-for-someone-else"),
        "revoked": (410, "urn:problem:invite-gone"),
        "expired": (410, "urn:problem:invite-gone"),
        "archived": (410, "urn:problem:invite-gone"),
        "another email": (403, "urn:problem:invite-for-someone-else"),
    }
    assert await rows(sessions_db, "SELECT id FROM interviews") == before
    states = await rows(sessions_db, "SELECT id, redeemed_by FROM invites WHERE redeemed_by IS NOT NULL")
    assert [str(row["id"]) for row in states] == [used["id"]]
    revoking_used = await sessions.delete(f"/api/org/invites/{used['id']}", headers=org.headers())
    assert revoking_used.status_code == 409


async def test_an_invite_naming_an_email_opens_for_that_email_whatever_its_case(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"], email="Grace.Hopper@Example.COM")
    _, headers = await candidate(clerk, session_token, email="grace.hopper@example.com")

    assert (await redeem(sessions, invite["code"], headers)).status_code == 200


async def test_an_ended_interview_is_not_given_back_and_a_full_cap_refuses_the_first_use(
    roomy_sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    sessions_db: str,
):
    sessions = roomy_sessions
    org = await new_org(clerk, session_token)
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)
    interview_id = verify_interview_id(await redeem(sessions, invite["code"], headers))
    await rows(
        sessions_db, "UPDATE interviews SET status = 'ended', ended_at = now() WHERE id = $1", uuid.UUID(interview_id)
    )

    ended = await redeem(sessions, invite["code"], headers)

    assert (ended.status_code, ended.json()["type"]) == (409, "urn:problem:interview-ended")


async def test_redeeming_counts_against_the_open_interviews_cap(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    candidate_id, headers = await candidate(clerk, session_token)
    for agent in ("interviewer", "coach", "interviewer"):  # three open interviews of their own: the cap
        body = {"room_config": {"agents": [{"agent_name": agent}]}}
        started = await sessions.post("/api/livekit/connection-details", json=body, headers=headers)
        assert started.status_code == 200
        if agent == "interviewer":  # joined: the next interviewer start is a new interview; the coach's stays unused
            await rows(
                sessions_db,
                "UPDATE interviews SET status = 'active' WHERE clerk_id = $1 AND agent_name = 'interviewer'",
                candidate_id,
            )

    refused = await redeem(sessions, invite["code"], headers)

    assert refused.status_code == 429
    # as a plain start says: when the unused one (the coach's) is recorded to expire, within the token's TTL
    assert 800 < int(refused.headers["retry-after"]) <= 900 + 30
    assert await rows(sessions_db, "SELECT id FROM interviews WHERE invite_id IS NOT NULL") == []
    assert await rows(sessions_db, "SELECT id FROM invites WHERE redeemed_at IS NOT NULL") == []


async def test_a_plain_start_never_hands_back_an_invite_s_interview_nor_the_other_way_round(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)

    plain = await sessions.post("/api/livekit/connection-details", headers=headers)
    invited = await redeem(sessions, invite["code"], headers)
    plain_again = await sessions.post("/api/livekit/connection-details", headers=headers)

    assert plain.json()["roomName"] == plain_again.json()["roomName"] != invited.json()["roomName"]


async def test_the_agent_reads_its_brief_with_the_pinned_version_and_nobody_else_can(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)
    started = await redeem(sessions, invite["code"], headers)
    interview_id, room = verify_interview_id(started), started.json()["roomName"]
    await sessions.put(f"/api/org/templates/{template['id']}", json={**TEMPLATE, "title": "v2"}, headers=org.headers())
    plain = await sessions.post("/api/livekit/connection-details", headers=headers)
    plain_id = verify_interview_id(plain)

    brief = await sessions.get(f"/agent/interviews/{interview_id}", headers=bearer(agent_write_token(room)))
    plain_brief = await sessions.get(
        f"/agent/interviews/{plain_id}", headers=bearer(agent_write_token(plain.json()["roomName"]))
    )
    candidate_token = bearer(started.json()["participantToken"])
    refused = [
        await sessions.get(f"/agent/interviews/{interview_id}", headers=candidate_token),
        await sessions.get(
            f"/agent/interviews/{interview_id}", headers=bearer(agent_write_token(plain.json()["roomName"]))
        ),
        await sessions.get(f"/agent/interviews/{interview_id}", headers=headers),
    ]

    assert brief.status_code == 200, brief.text
    assert brief.json() == {
        "interview_id": interview_id,
        "status": "created",
        "candidate": {"name": "Carl"},
        "template": {
            "id": template["id"],
            "version": 1,
            "title": TEMPLATE["title"],
            "instructions": TEMPLATE["instructions"],
            "questions": TEMPLATE["questions"],
            "rubric": TEMPLATE["rubric"],
            "max_minutes": 30,
        },
        "consent": {"ai_evaluation": True, "recording": False},
    }
    assert plain_brief.json()["template"] is None
    assert [response.status_code for response in refused] == [403, 403, 401]


async def test_recruiters_review_and_the_candidate_sees_the_report_only_when_the_template_shares_it(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    private = await create_template(sessions, org)
    shared = await create_template(sessions, org, share_report_with_candidate=True)
    candidate_id, headers = await candidate(clerk, session_token, email="rev@example.com")
    interviews = {}
    for name, template in (("private", private), ("shared", shared)):
        invite = await create_invite(sessions, org, template["id"])
        started = await redeem(sessions, invite["code"], headers)
        interview_id = verify_interview_id(started)
        agent = bearer(agent_write_token(started.json()["roomName"]))
        segment = {"seq": 0, "speaker": "agent", "text": f"Hi ({name})", "started_at_ms": 0, "ended_at_ms": 5}
        assert (
            await sessions.post(
                f"/agent/interviews/{interview_id}/transcript", json={"segments": [segment]}, headers=agent
            )
        ).status_code == 200
        report = {"version": 1, "summary": f"{name} summary", "data": {"score": 4}}
        assert (
            await sessions.put(f"/agent/interviews/{interview_id}/report", json=report, headers=agent)
        ).status_code == 200
        interviews[name] = interview_id

    listed = await sessions.get("/api/org/interviews", headers=org.headers())
    of_private = await sessions.get("/api/org/interviews", params={"template_id": private["id"]}, headers=org.headers())
    detail = await sessions.get(f"/api/org/interviews/{interviews['private']}", headers=org.headers())
    transcript = await sessions.get(f"/api/org/interviews/{interviews['private']}/transcript", headers=org.headers())
    mine = {
        name: (await sessions.get(f"/api/interviews/{i}", headers=headers)).json() for name, i in interviews.items()
    }
    my_list = (await sessions.get("/api/interviews", headers=headers)).json()["items"]

    assert [item["id"] for item in listed.json()["items"]] == [interviews["shared"], interviews["private"]]
    assert listed.json()["items"][0]["candidate"] == {
        "clerk_id": candidate_id,
        "name": "Carl",
        "email": "rev@example.com",
    }
    assert [item["id"] for item in of_private.json()["items"]] == [interviews["private"]]
    assert (detail.json()["report"]["summary"], detail.json()["transcript_segments"]) == ("private summary", 1)
    assert [item["text"] for item in transcript.json()["items"]] == ["Hi (private)"]
    assert mine["private"]["report"] is None
    assert mine["shared"]["report"]["summary"] == "shared summary"
    assert mine["private"]["transcript_segments"] == 1
    assert {item["id"]: item["has_report"] for item in my_list} == {
        interviews["private"]: False,
        interviews["shared"]: True,
    }
    assert {item["id"]: item["org_id"] for item in my_list} == dict.fromkeys(interviews.values(), org.id)


async def test_invites_are_counted_by_outcome(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    before = (await sessions.get("/metrics")).text
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, first = await candidate(clerk, session_token)
    _, second = await candidate(clerk, session_token)
    await redeem(sessions, invite["code"], first)
    await redeem(sessions, invite["code"], first)
    await redeem(sessions, invite["code"], second)
    await redeem(sessions, "no-such-code", second)

    after = (await sessions.get("/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("sessions_org_templates_total", action="created") == 1
    counted = {o: grew("sessions_invites_total", outcome=o) for o in ("created", "redeemed", "reused", "other_user")}
    assert counted == {"created": 1, "redeemed": 1, "reused": 1, "other_user": 1}
    assert grew("sessions_invites_total", outcome="unknown_code") == 1


async def test_session_tokens_v1_with_an_organization_are_read_too(sessions: httpx.AsyncClient, org: Org):
    template = await create_template(sessions, org)
    v1 = org.headers("org:admin", claims_version=1)

    assert (await sessions.get(f"/api/org/templates/{template['id']}", headers=v1)).status_code == 200


async def test_an_active_organization_is_on_the_access_line_of_every_request(
    sessions: httpx.AsyncClient, org: Org, session_token: Token, caplog: pytest.LogCaptureFixture
):
    active = ActiveOrganization(org.id, "acme", "org:member")
    with caplog.at_level("INFO", logger="access"):
        await sessions.get("/api/interviews", headers=bearer(session_token(org.recruiter_id, organization=active)))

    [line] = [record for record in caplog.records if record.name == "access"]
    assert (line.fields["clerk_id"], line.fields["org_id"]) == (org.recruiter_id, org.id)  # type: ignore[attr-defined]
