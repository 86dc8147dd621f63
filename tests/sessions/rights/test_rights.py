"""The candidate's rights and a human who decides: deleting one interview (a tombstone for the recruiters, nothing
else), the organization's retention, the access log (admins list it, the candidate sees roles), decisions made by a
person who reviewed, never overwriting the AI's report, and the export of everything held about a candidate."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from libs.common.db import Database
from services.sessions.rights.retention import retention_round
from tests.support.credentials import bearer
from tests.support.livekit import agent_write_token, report_join
from tests.support.organizations import Org, candidate, create_invite, create_template, new_org, redeem
from tests.support.rows import rows

Token = Callable[..., str]
SEGMENT = {"seq": 0, "speaker": "candidate", "text": "I built a queue.", "started_at_ms": 0, "ended_at_ms": 9}
REPORT = {"version": 1, "summary": "Solid.", "data": {"depth": 4}, "model": "gpt-x", "prompt_version": "p7"}


@pytest.fixture
async def org(clerk: httpx.AsyncClient, session_token: Token) -> Org:
    return await new_org(clerk, session_token)


async def reported_interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, **template: Any
) -> tuple[str, str, str, dict[str, str]]:
    """A candidate's interview of `org`, joined, with a transcript and the agent's report: (id, room, clerk id,
    the candidate's headers)."""
    created = await create_template(sessions, org, **template)
    invite = await create_invite(sessions, org, created["id"])
    clerk_id, headers = await candidate(clerk, session_token)
    room = (await redeem(sessions, invite["code"], headers)).json()["roomName"]
    await report_join(sessions, room, clerk_id)
    [item] = (await sessions.get("/api/interviews", headers=headers)).json()["items"]
    agent = bearer(agent_write_token(room))
    await sessions.post(f"/agent/interviews/{item['id']}/transcript", json={"segments": [SEGMENT]}, headers=agent)
    assert (await sessions.put(f"/agent/interviews/{item['id']}/report", json=REPORT, headers=agent)).is_success
    return item["id"], room, clerk_id, headers


async def test_a_candidate_deletes_their_interview_and_recruiters_keep_only_a_tombstone(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    interview_id, room, _, headers = await reported_interview(sessions, clerk, org, session_token)
    await sessions.get(f"/api/org/interviews/{interview_id}/transcript", headers=org.headers())
    decided = await sessions.post(
        f"/api/org/interviews/{interview_id}/decisions",
        json={"decision": "hold", "reason": "Later."},
        headers=org.headers(),
    )
    _, stranger = await candidate(clerk, session_token)

    foreign = await sessions.delete(f"/api/interviews/{interview_id}", headers=stranger)
    deleted = await sessions.delete(f"/api/interviews/{interview_id}", headers=headers)
    again = await sessions.delete(f"/api/interviews/{interview_id}", headers=headers)
    own = await sessions.get(f"/api/interviews/{interview_id}", headers=headers)
    listed = (await sessions.get("/api/org/interviews", headers=org.headers())).json()["items"]
    detail = await sessions.get(f"/api/org/interviews/{interview_id}", headers=org.headers())
    agent = await sessions.put(
        f"/agent/interviews/{interview_id}/report",
        json={**REPORT, "version": 2},
        headers=bearer(agent_write_token(room)),
    )

    assert decided.status_code == 201, decided.text
    assert (foreign.status_code, deleted.status_code, again.status_code, own.status_code) == (404, 204, 204, 404)
    [tombstone] = listed
    assert set(tombstone) == {"kind", "id", "status", "deleted_by", "deleted_at"}
    assert (tombstone["id"], tombstone["status"], tombstone["deleted_by"]) == (interview_id, "deleted", "candidate")
    assert detail.json() == tombstone
    assert agent.status_code == 404
    for table in ("interviews", "transcript_segments", "interview_reports", "decisions", "consents"):
        assert await rows(sessions_db, f"SELECT 1 FROM {table}") == [], table  # noqa: S608 (our own table names)
    assert len(await rows(sessions_db, "SELECT 1 FROM access_records")) == 1  # the deployer's log stays
    [invite] = await rows(sessions_db, "SELECT redeemed_by, interview_id FROM invites")
    assert (invite["redeemed_by"], invite["interview_id"]) == (None, None)


async def test_admins_set_the_retention_and_the_task_erases_what_is_past_it(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    other = await new_org(clerk, session_token)
    kept, _, _, _ = await reported_interview(sessions, clerk, other, session_token)
    past, _, _, _ = await reported_interview(sessions, clerk, org, session_token)
    recent, _, _, _ = await reported_interview(sessions, clerk, org, session_token)
    plain_user = (await candidate(clerk, session_token))[1]
    plain = (await sessions.post("/api/livekit/connection-details", headers=plain_user)).json()["roomName"]

    unset = await sessions.get("/api/org/settings", headers=org.headers("org:recruiter"))
    as_recruiter = await sessions.put(
        "/api/org/settings", json={"retention_days": 1}, headers=org.headers("org:recruiter")
    )
    too_long = await sessions.put("/api/org/settings", json={"retention_days": 3651}, headers=org.headers())
    as_admin = await sessions.put("/api/org/settings", json={"retention_days": 30}, headers=org.headers())
    await rows(
        sessions_db,
        """UPDATE interviews SET status = 'ended', ended_at = now() - make_interval(days => 31)
           WHERE id = ANY($1::uuid[]) OR room_name = $2""",
        [uuid.UUID(kept), uuid.UUID(past)],
        plain,
    )
    database = Database(sessions_db, max_size=2)
    await database.open()
    try:
        await retention_round(database, plain_days=30, access_log_days=183)
    finally:
        await database.close()
    left = {str(row["id"]) for row in await rows(sessions_db, "SELECT id FROM interviews")}

    assert unset.json()["retention_days"] is None
    assert (as_recruiter.status_code, too_long.status_code) == (403, 422)
    assert (as_admin.status_code, as_admin.json()["retention_days"]) == (200, 30)
    assert left == {kept, recent}  # the other organization set nothing: kept; the plain one was past 30 days
    tombstones = await rows(sessions_db, "SELECT id, deleted_by FROM interview_tombstones")
    assert [(str(t["id"]), t["deleted_by"]) for t in tombstones] == [(past, "retention")]


async def test_every_read_is_logged_for_admins_and_shown_to_the_candidate_by_role(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    interview_id, _, _, headers = await reported_interview(sessions, clerk, org, session_token)
    other = await new_org(clerk, session_token)

    await sessions.get(f"/api/org/interviews/{interview_id}", headers=org.headers("org:recruiter"))
    await sessions.get(f"/api/org/interviews/{interview_id}/transcript", headers=org.headers())
    log = await sessions.get("/api/org/access-log", headers=org.headers())
    filtered = await sessions.get(
        "/api/org/access-log", params={"actor": org.recruiter_id, "limit": 1}, headers=org.headers()
    )
    refused = await sessions.get("/api/org/access-log", headers=org.headers("org:recruiter"))
    elsewhere = await sessions.get("/api/org/access-log", headers=other.headers())
    seen = (await sessions.get(f"/api/interviews/{interview_id}", headers=headers)).json()["read_by"]

    assert [(r["what"], r["role"], r["interview_id"]) for r in log.json()["items"]] == [
        ("transcript", "admin", interview_id),
        ("detail", "recruiter", interview_id),
    ]
    assert len(filtered.json()["items"]) == 1
    assert filtered.json()["next_cursor"] is not None
    assert refused.status_code == 403
    assert elsewhere.json()["items"] == []
    assert [(r["role"], r["what"]) for r in seen] == [("admin", "transcript"), ("recruiter", "detail")]
    assert all(set(r) == {"role", "what", "at"} for r in seen)  # never who, by id, name or email


async def test_a_person_decides_only_after_reviewing_and_never_over_the_ai_s_report(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    interview_id, _, _, _ = await reported_interview(sessions, clerk, org, session_token)
    url = f"/api/org/interviews/{interview_id}/decisions"
    advance = {"decision": "advance", "reason": "Clear, deep answers."}

    before_any_read = await sessions.post(url, json=advance, headers=org.headers())
    await sessions.get(f"/api/org/interviews/{interview_id}", headers=org.headers())
    after_the_detail = await sessions.post(url, json=advance, headers=org.headers())
    await sessions.get(f"/api/org/interviews/{interview_id}/transcript", headers=org.headers())
    first = await sessions.post(url, json=advance, headers=org.headers())
    second = await sessions.post(url, json={"decision": "hold", "reason": "Team changed."}, headers=org.headers())
    bounds = [
        await sessions.post(url, json={"decision": "advance", "reason": ""}, headers=org.headers()),
        await sessions.post(url, json={"decision": "advance", "reason": "é" * 1025}, headers=org.headers()),
        await sessions.post(url, json={"decision": "maybe", "reason": "x"}, headers=org.headers()),
    ]
    detail = (await sessions.get(f"/api/org/interviews/{interview_id}", headers=org.headers())).json()

    assert (before_any_read.status_code, before_any_read.json()["type"]) == (409, "urn:problem:review-first")
    assert after_the_detail.status_code == 409  # reading the detail is not reviewing
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["by"] == org.recruiter_id
    assert [b.status_code for b in bounds] == [422, 422, 422]
    assert [(d["decision"], d["reason"]) for d in detail["decisions"]] == [
        ("hold", "Team changed."),
        ("advance", "Clear, deep answers."),
    ]
    report = detail["report"]
    assert (report["author"], report["model"], report["prompt_version"], report["summary"]) == (
        "ai",
        "gpt-x",
        "p7",
        "Solid.",
    )


async def test_the_export_holds_everything_about_the_caller_and_only_what_they_may_read(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    interview_id, _, clerk_id, headers = await reported_interview(sessions, clerk, org, session_token)
    await sessions.get(f"/api/org/interviews/{interview_id}/transcript", headers=org.headers())
    plain = (await sessions.post("/api/livekit/connection-details", headers=headers)).json()["roomName"]

    exported = await sessions.get("/api/me/export", headers=headers)

    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith("attachment")
    assert exported.headers["content-type"].startswith("application/json")
    document = json.loads(exported.content)
    assert document["clerk_id"] == clerk_id
    by_id = {item["interview"]["id"]: item for item in document["interviews"]}
    assert set(by_id) == {interview_id} | {
        i["interview"]["id"] for i in document["interviews"] if i["interview"]["room_name"] == plain
    }
    theirs = by_id[interview_id]
    assert theirs["transcript"] == [SEGMENT]
    assert theirs["report"] is None  # the template does not share it with the candidate
    assert [c["scope"] for c in theirs["consents"]] == ["ai_evaluation"]
    assert [(r["role"], r["what"]) for r in theirs["read_by"]] == [("admin", "transcript")]
    assert len(document["interviews"]) == 2
