"""Whatever the sequence of starts, reads, decisions, deletions and retention runs across two organizations: nothing of
an erased interview is readable by anyone, every recruiter's read is in the access log, and no decision is lost."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.db import Database
from services.sessions.rights.retention import retention_round
from tests.support.credentials import bearer
from tests.support.hostile import HOSTILE
from tests.support.livekit import agent_write_token, report_join
from tests.support.organizations import Org, candidate, create_invite, create_template, new_org, redeem
from tests.support.rows import rows

Token = Callable[..., str]
OPERATIONS = ("start", "detail", "transcript", "decide", "delete", "retention")


@dataclass
class World:
    orgs: list[Org]
    templates: list[str]
    interviews: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)  # (org, id, candidate headers)
    erased: set[str] = field(default_factory=set)
    reads: Counter[tuple[str, str]] = field(default_factory=Counter)  # (interview id, what)
    decisions: Counter[str] = field(default_factory=Counter)


async def start(sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, token: Token, world: World, org: int) -> None:
    invite = await create_invite(sessions, world.orgs[org], world.templates[org])
    clerk_id, headers = await candidate(clerk, token)
    room = (await redeem(sessions, invite["code"], headers)).json()["roomName"]
    await report_join(sessions, room, clerk_id)
    [item] = (await sessions.get("/api/interviews", headers=headers)).json()["items"]
    agent = bearer(agent_write_token(room))
    segment = {"seq": 0, "speaker": "candidate", "text": "secret answer", "started_at_ms": 0, "ended_at_ms": 1}
    await sessions.post(f"/agent/interviews/{item['id']}/transcript", json={"segments": [segment]}, headers=agent)
    await sessions.put(
        f"/agent/interviews/{item['id']}/report", json={"version": 1, "summary": "s", "data": {}}, headers=agent
    )
    world.interviews.append((org, item["id"], headers))


@settings(HOSTILE, max_examples=15)
@given(
    sequence=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 1), st.integers(0, 7)), min_size=1, max_size=10
    )
)
async def test_no_sequence_leaves_an_erased_interview_readable_or_a_read_unlogged_or_a_decision_lost(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    sessions_db: str,
    sequence: list[tuple[str, int, int]],
):
    orgs = [await new_org(clerk, session_token), await new_org(clerk, session_token)]
    world = World(orgs, [(await create_template(sessions, org))["id"] for org in orgs])
    await start(sessions, clerk, session_token, world, 0)

    for operation, actor, target in sequence:
        org = world.orgs[actor]
        owner, interview_id, headers = world.interviews[target % len(world.interviews)]
        base = f"/api/org/interviews/{interview_id}"
        mine = owner == actor and interview_id not in world.erased
        if operation == "start":
            await start(sessions, clerk, session_token, world, actor)
        elif operation in ("detail", "transcript"):
            answer = await sessions.get(base if operation == "detail" else f"{base}/transcript", headers=org.headers())
            assert answer.status_code == (200 if owner == actor and (mine or operation == "detail") else 404)
            if mine:
                world.reads[(interview_id, operation)] += 1
        elif operation == "decide":
            answer = await sessions.post(
                f"{base}/decisions", json={"decision": "hold", "reason": "r"}, headers=org.headers()
            )
            reviewed = world.reads[(interview_id, "transcript")] > 0
            assert answer.status_code == (201 if mine and reviewed else 409 if mine else 404)
            if answer.status_code == 201:
                world.decisions[interview_id] += 1
        elif operation == "delete":
            assert (await sessions.delete(f"/api/interviews/{interview_id}", headers=headers)).status_code == 204
            world.erased.add(interview_id)
        elif operation == "retention" and owner == actor:
            await retention_past(sessions, org, sessions_db, interview_id)
            world.erased.add(interview_id)  # the only interview ended over a day ago

    await check(sessions, world, sessions_db)


async def retention_past(sessions: httpx.AsyncClient, org: Org, sessions_db: str, interview_id: str) -> None:
    """The organization keeps interviews a day; the interview ended two days ago; the retention task runs."""
    await sessions.put("/api/org/settings", json={"retention_days": 1}, headers=org.headers())
    await rows(
        sessions_db,
        "UPDATE interviews SET status = 'ended', ended_at = now() - interval '2 days' WHERE id = $1::uuid",
        interview_id,
    )
    database = Database(sessions_db, max_size=2)
    await database.open()
    try:
        await retention_round(database, plain_days=None, access_log_days=183)
    finally:
        await database.close()


async def check(sessions: httpx.AsyncClient, world: World, sessions_db: str) -> None:
    for owner, interview_id, headers in world.interviews:
        own = await sessions.get(f"/api/interviews/{interview_id}", headers=headers)
        transcript = await sessions.get(
            f"/api/org/interviews/{interview_id}/transcript", headers=world.orgs[owner].headers()
        )
        if interview_id in world.erased:
            assert (own.status_code, transcript.status_code) == (404, 404)
            assert "secret answer" not in (await sessions.get("/api/me/export", headers=headers)).text
        else:
            assert own.status_code == 200
    stored = await rows(
        sessions_db, "SELECT interview_id::text AS id, what, count(*) AS n FROM access_records GROUP BY 1, 2"
    )
    logged = Counter({(row["id"], row["what"]): row["n"] for row in stored if row["what"] != "recording"})
    assert logged >= world.reads  # every read is logged (the final checks read transcripts too)
    for interview_id, made in world.decisions.items():
        kept = await rows(sessions_db, "SELECT count(*) AS n FROM decisions WHERE interview = $1::uuid", interview_id)
        assert kept[0]["n"] == (0 if interview_id in world.erased else made)
    leftover = await rows(
        sessions_db,
        "SELECT interview::text AS id FROM transcript_segments WHERE interview::text = ANY($1::text[])",
        list(world.erased),
    )
    assert leftover == []
