"""An interview's outcome: the agent of its room writes the transcript and the report, idempotently and within
bounds; nobody else can; the candidate reads them."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.dev.stack import ServiceProcess
from libs.common.db import Database
from libs.common.livekit_api import LiveKitServer
from services.sessions.app import create_app
from services.sessions.rooms.reconciler import reconcile_once
from services.sessions.rooms.room_service import LiveKitRooms
from tests.sessions.conftest import sessions_settings_for
from tests.support.asgi import serve_in_process
from tests.support.clerk import clerk_user
from tests.support.credentials import ClerkKeyPair, bearer
from tests.support.hostile import HOSTILE
from tests.support.livekit import agent_write_token, verify_livekit_token
from tests.support.metrics import sample
from tests.support.rows import rows
from tests.support.waiting import eventually

REFUSED = "sessions_agent_writes_refused_total"
GRACE = "sessions_interviews_past_report_grace_total"
RUNS = "sessions_reconciler_runs_total"


class Interview:
    """A started interview: its id, room, the candidate's headers and the agent's."""

    def __init__(self, interview_id: str, room: str, candidate: dict[str, str], participant_token: str) -> None:
        self.id = interview_id
        self.room = room
        self.candidate = candidate
        self.participant_token = participant_token
        self.agent = bearer(agent_write_token(room))


async def start_interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, token_for: Callable[..., str]
) -> Interview:
    user = await clerk_user(clerk, email=f"{uuid.uuid4().hex[:8]}@example.com")
    candidate = bearer(token_for(user["id"]))
    started = await sessions.post("/api/livekit/token", json={}, headers=candidate)
    assert started.status_code == 201, started.text
    participant_token = started.json()["participant_token"]
    room = verify_livekit_token(participant_token).video.room  # type: ignore[union-attr]
    listed = (await sessions.get("/api/interviews", headers=candidate)).json()["items"]
    return Interview(listed[0]["id"], room, candidate, participant_token)


@pytest.fixture
async def interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
) -> Interview:
    return await start_interview(sessions, clerk, session_token)


def segment(seq: int, text: str = "", speaker: str = "agent") -> dict[str, Any]:
    return {
        "seq": seq,
        "speaker": speaker,
        "text": text or f"utterance {seq}",
        "started_at_ms": 1000 * seq,
        "ended_at_ms": 1000 * seq + 900,
    }


async def send(sessions: httpx.AsyncClient, interview: Interview, *segments: dict[str, Any]) -> httpx.Response:
    return await sessions.post(
        f"/agent/interviews/{interview.id}/transcript", json={"segments": list(segments)}, headers=interview.agent
    )


async def report(
    sessions: httpx.AsyncClient, interview: Interview, version: int, summary: str = "", data: Any = None
) -> httpx.Response:
    body = {"version": version, "summary": summary or f"summary v{version}", "data": data or {"score": version}}
    return await sessions.put(f"/agent/interviews/{interview.id}/report", json=body, headers=interview.agent)


async def stored(sessions_db: str) -> tuple[int, int]:
    """Transcript segments and reports stored, all interviews together."""
    segments = await rows(sessions_db, "SELECT count(*) AS n FROM transcript_segments")
    reports = await rows(sessions_db, "SELECT count(*) AS n FROM interview_reports")
    return segments[0]["n"], reports[0]["n"]


async def test_the_agent_writes_and_the_candidate_reads(sessions: httpx.AsyncClient, interview: Interview):
    first = await send(
        sessions, interview, segment(0, "Tell me about yourself.", "agent"), segment(1, "I build APIs.", "candidate")
    )
    second = await send(sessions, interview, segment(2, "Why this role?"))
    data = {"scores": {"communication": 4, "depth": [3, 5]}, "flags": None, "note": "ok"}
    reported = await report(sessions, interview, 1, "Clear and concise.", data)

    detail = (await sessions.get(f"/api/interviews/{interview.id}", headers=interview.candidate)).json()
    page = (await sessions.get(f"/api/interviews/{interview.id}/transcript", headers=interview.candidate)).json()
    listed = (await sessions.get("/api/interviews", headers=interview.candidate)).json()["items"]

    assert first.status_code == 200, first.text
    assert first.json() == {"stored": 2, "duplicates": 0}
    assert second.json() == {"stored": 1, "duplicates": 0}
    assert reported.status_code == 200, reported.text
    assert reported.json() == {"version": 1}
    assert detail["transcript_segments"] == 3
    assert {key: detail["report"][key] for key in ("version", "summary", "data")} == {
        "version": 1,
        "summary": "Clear and concise.",
        "data": data,
    }
    assert [item["text"] for item in page["items"]] == ["Tell me about yourself.", "I build APIs.", "Why this role?"]
    assert [item["speaker"] for item in page["items"]] == ["agent", "candidate", "agent"]
    assert page["next_cursor"] is None
    assert [item["has_report"] for item in listed] == [True]


async def test_an_interview_without_a_report_reads_null(sessions: httpx.AsyncClient, interview: Interview):
    detail = (await sessions.get(f"/api/interviews/{interview.id}", headers=interview.candidate)).json()
    listed = (await sessions.get("/api/interviews", headers=interview.candidate)).json()["items"]

    assert (detail["report"], detail["transcript_segments"]) == (None, 0)
    assert listed[0]["has_report"] is False


async def test_the_transcript_pages_in_seq_order_whatever_order_it_arrived_in(
    sessions: httpx.AsyncClient, interview: Interview
):
    for batch in ([5, 1, 9], [0, 3], [2, 4, 6, 7, 8]):
        assert (await send(sessions, interview, *(segment(seq) for seq in batch))).status_code == 200

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (
            await sessions.get(f"/api/interviews/{interview.id}/transcript", params=params, headers=interview.candidate)
        ).json()
        seen += [item["seq"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    bad_cursor = await sessions.get(
        f"/api/interviews/{interview.id}/transcript", params={"cursor": "²"}, headers=interview.candidate
    )

    assert seen == list(range(10))
    assert bad_cursor.status_code == 400


async def test_a_resent_batch_changes_nothing_and_a_conflicting_one_stores_nothing(
    sessions: httpx.AsyncClient, interview: Interview, sessions_db: str
):
    await send(sessions, interview, segment(0), segment(1))

    resent = await send(sessions, interview, segment(0), segment(1))
    partly_new = await send(sessions, interview, segment(1), segment(2))
    conflicting = await send(sessions, interview, segment(3), segment(1, "something else"))

    assert resent.json() == {"stored": 0, "duplicates": 2}
    assert partly_new.json() == {"stored": 1, "duplicates": 1}
    assert conflicting.status_code == 409
    assert conflicting.headers["content-type"].startswith("application/problem+json")
    assert "[1]" in conflicting.json()["detail"]
    texts = await rows(sessions_db, "SELECT seq, text FROM transcript_segments ORDER BY seq")
    assert texts == [
        {"seq": 0, "text": "utterance 0"},
        {"seq": 1, "text": "utterance 1"},
        {"seq": 2, "text": "utterance 2"},
    ]


async def test_the_highest_report_version_wins(sessions: httpx.AsyncClient, interview: Interview):
    answers = [
        (await report(sessions, interview, version, f"v{version}")).json()["version"] for version in (2, 1, 2, 3, 1)
    ]
    detail = (await sessions.get(f"/api/interviews/{interview.id}", headers=interview.candidate)).json()

    assert answers == [2, 2, 2, 3, 3]
    assert (detail["report"]["version"], detail["report"]["summary"]) == (3, "v3")


@pytest.mark.parametrize(
    ("status", "ended_seconds_ago", "answer"),
    [("active", None, 200), ("ended", 60, 200), ("ended", 700, 409), ("expired", None, 409)],
)
async def test_writes_are_taken_while_open_and_for_the_grace_period_after_the_end(
    sessions: httpx.AsyncClient,
    interview: Interview,
    sessions_db: str,
    status: str,
    ended_seconds_ago: int | None,
    answer: int,
):
    await rows(
        sessions_db,
        """UPDATE interviews SET status = $2,
                  ended_at = CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(secs => $3) END
           WHERE id = $1 RETURNING id""",
        uuid.UUID(interview.id),
        status,
        ended_seconds_ago,
    )

    written = await send(sessions, interview, segment(0))
    reported = await report(sessions, interview, 1)

    assert (written.status_code, reported.status_code) == (answer, answer)
    assert await stored(sessions_db) == ((1, 1) if answer == 200 else (0, 0))


async def test_every_wrong_credential_is_refused_with_nothing_written(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    interview: Interview,
    sessions_db: str,
    session_token: Callable[..., str],
):
    other = await start_interview(sessions, clerk, session_token)
    credentials = {
        "none": {},
        "the candidate's own participant token": bearer(interview.participant_token),
        "another room's agent": other.agent,
        "a Clerk session token": interview.candidate,
        "an expired agent token": bearer(agent_write_token(interview.room, ttl_seconds=-600)),
        "another key pair's token": bearer(agent_write_token(interview.room, key="APIother", secret="x" * 40)),
        "another secret's token": bearer(agent_write_token(interview.room, secret="y" * 40)),
        "no roomAdmin": bearer(agent_write_token(interview.room, room_admin=False)),
        "not a token": {"Authorization": "Bearer nonsense"},
    }

    answers = {}
    for name, headers in credentials.items():
        transcript = await sessions.post(
            f"/agent/interviews/{interview.id}/transcript", json={"segments": [segment(0)]}, headers=headers
        )
        put = await sessions.put(
            f"/agent/interviews/{interview.id}/report",
            json={"version": 1, "summary": "s", "data": {}},
            headers=headers,
        )
        answers[name] = (transcript.status_code, put.status_code)
        assert transcript.headers["content-type"].startswith("application/problem+json")

    assert answers == {
        "none": (401, 401),
        "the candidate's own participant token": (403, 403),
        "another room's agent": (403, 403),
        "a Clerk session token": (401, 401),
        "an expired agent token": (401, 401),
        "another key pair's token": (401, 401),
        "another secret's token": (401, 401),
        "no roomAdmin": (403, 403),
        "not a token": (401, 401),
    }
    assert await stored(sessions_db) == (0, 0)


async def test_unknown_interviews_and_other_users_interviews_are_404(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    interview: Interview,
    session_token: Callable[..., str],
):
    unknown = uuid.uuid4()
    written = await sessions.post(
        f"/agent/interviews/{unknown}/transcript", json={"segments": [segment(0)]}, headers=interview.agent
    )
    other = await start_interview(sessions, clerk, session_token)

    assert written.status_code == 404
    for path in (f"/api/interviews/{interview.id}", f"/api/interviews/{interview.id}/transcript"):
        assert (await sessions.get(path, headers=other.candidate)).status_code == 404


@pytest.mark.parametrize(
    ("body", "names", "problem", "reason"),
    [
        ({"segments": [segment(0, "x" * 8193)]}, "text", "unprocessable-entity", None),
        ({"segments": [segment(0, "é" * 4097)]}, "text is over 8192 bytes", "agent-write-too-large", "too_large"),
        ({"segments": [segment(0, "a\x00b")]}, "segments[0].text", "unprocessable-entity", None),
        ({"segments": [segment(seq) for seq in range(201)]}, "segments", "unprocessable-entity", None),
        ({"segments": []}, "segments", "unprocessable-entity", None),
        ({"segments": [segment(0), segment(0)]}, "repeats", "invalid-transcript", "invalid"),
        (
            {"segments": [{**segment(0), "ended_at_ms": 10, "started_at_ms": 20}]},
            "ended_at_ms",
            "invalid-transcript",
            "invalid",
        ),
    ],
    ids=["text over 8192 chars", "text over 8 KiB", "NUL", "201 segments", "none", "seq twice", "ends first"],
)
async def test_transcript_refusals_are_422_with_their_own_reason_and_store_nothing(
    sessions: httpx.AsyncClient,
    interview: Interview,
    sessions_db: str,
    body: dict[str, Any],
    names: str,
    problem: str,
    reason: str | None,
):
    """A bound stated on the wire shape is Litestar's validation failure naming the field (and in the OpenAPI
    document); a rule across fields has its own type; only a size in bytes is "too large"."""
    before = (await sessions.get("/metrics")).text

    response = await sessions.post(f"/agent/interviews/{interview.id}/transcript", json=body, headers=interview.agent)

    after = (await sessions.get("/metrics")).text
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert names in response.json()["detail"]
    assert response.json()["type"] == f"urn:problem:{problem}"
    for counted in ("too_large", "invalid"):
        grew = sample(after, REFUSED, reason=counted) - sample(before, REFUSED, reason=counted)
        assert grew == (1 if counted == reason else 0)
    assert await stored(sessions_db) == (0, 0)


async def test_a_token_that_administers_no_interview_learns_nothing_about_interviews(
    sessions: httpx.AsyncClient, interview: Interview
):
    """The grant is checked before the interview is looked up: the candidate's own token gets the same 403 for
    their interview, another one and one that does not exist."""
    candidate = bearer(interview.participant_token)
    answers = [
        await sessions.post(
            f"/agent/interviews/{target}/transcript", json={"segments": [segment(0)]}, headers=candidate
        )
        for target in (interview.id, uuid.uuid4())
    ]

    assert [(answer.status_code, answer.json()["type"]) for answer in answers] == [
        (403, "urn:problem:agent-not-permitted")
    ] * 2


@pytest.mark.parametrize(
    ("summary", "data", "names"),
    [
        ("s" * 16_385, {}, "summary"),
        ("ok", {"blob": "d" * 65_536}, "data"),
        ("ok", json.loads("[" * 65 + "]" * 65), "data nests"),
    ],
)
async def test_report_bounds_are_422_naming_the_field_and_store_nothing(
    sessions: httpx.AsyncClient, interview: Interview, sessions_db: str, summary: str, data: Any, names: str
):
    body = {"version": 1, "summary": summary, "data": data}
    response = await sessions.put(f"/agent/interviews/{interview.id}/report", json=body, headers=interview.agent)

    assert response.status_code == 422
    assert names in response.json()["detail"]
    assert await stored(sessions_db) == (0, 0)


async def test_an_interview_holds_at_most_5000_segments(
    sessions: httpx.AsyncClient, interview: Interview, sessions_db: str
):
    for start in range(0, 5000, 200):
        batch = await send(sessions, interview, *(segment(seq) for seq in range(start, start + 200)))
        assert batch.status_code == 200

    over = await send(sessions, interview, segment(5000), segment(5001))
    resent = await send(sessions, interview, segment(4999))

    assert over.status_code == 422
    assert "5000" in over.json()["detail"]
    assert resent.json() == {"stored": 0, "duplicates": 1}
    assert (await stored(sessions_db))[0] == 5000


segments_of_any_batch = st.lists(
    st.builds(
        segment,
        st.integers(min_value=0, max_value=30),
        st.sampled_from(["", "Hello.", "¿Qué tal? 🙂", '"quoted" \\ text', "line\nbreak"]),
        st.sampled_from(["agent", "candidate"]),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda item: item["seq"],
)


@HOSTILE
@given(batches=st.lists(segments_of_any_batch, min_size=1, max_size=5))
async def test_any_sequence_of_batches_keeps_the_first_version_of_each_seq_and_refuses_conflicts_whole(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str], batches: list[list[dict]]
):
    interview = await start_interview(sessions, clerk, session_token)
    expected: dict[int, dict[str, Any]] = {}

    for batch in batches:
        response = await send(sessions, interview, *batch)
        conflicts = [item["seq"] for item in batch if item["seq"] in expected and expected[item["seq"]] != item]
        if conflicts:
            assert response.status_code == 409, response.text
            continue
        new = [item for item in batch if item["seq"] not in expected]
        assert response.json() == {"stored": len(new), "duplicates": len(batch) - len(new)}
        expected |= {item["seq"]: item for item in new}

    page = await sessions.get(
        f"/api/interviews/{interview.id}/transcript", params={"limit": 500}, headers=interview.candidate
    )
    assert page.json()["items"] == [expected[seq] for seq in sorted(expected)]


async def test_ended_interviews_are_counted_once_with_or_without_a_report_when_the_grace_period_is_over(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
    sessions_db: str,
):
    reported = await start_interview(sessions, clerk, session_token)
    silent = await start_interview(sessions, clerk, session_token)
    recent = await start_interview(sessions, clerk, session_token)
    assert (await report(sessions, reported, 1)).status_code == 200
    ended_ago = {reported.id: 700, silent.id: 700, recent.id: 60}
    for interview_id, seconds in ended_ago.items():
        await rows(
            sessions_db,
            "UPDATE interviews SET status = 'ended', ended_at = now() - make_interval(secs => $2) WHERE id = $1",
            uuid.UUID(interview_id),
            seconds,
        )
    database = Database(sessions_db, max_size=2)
    await database.open()
    try:
        async with LiveKitServer("http://127.0.0.1:9", "key", "secret") as server:  # no open interview to ask about
            rooms = LiveKitRooms(server)
            first = await reconcile_once(database, rooms, max_interview_seconds=3600, report_grace_seconds=600)
            second = await reconcile_once(database, rooms, max_interview_seconds=3600, report_grace_seconds=600)
    finally:
        await database.close()

    assert (first.past_grace_with_report, first.past_grace_without_report) == (1, 1)
    assert (second.past_grace_with_report, second.past_grace_without_report) == (0, 0)  # each counted once


async def test_the_housekeeping_goes_on_while_livekit_is_unreachable(
    sessions_db: str, identity_service: ServiceProcess, clerk_keys: ClerkKeyPair
):
    """Counting interviews past their agent's grace period needs the database alone: a LiveKit incident (here
    nothing listens where RoomService should be) stops the rooms' check, not the "without a report" signal."""
    silent, live = uuid.uuid4(), uuid.uuid4()
    for interview_id, status in ((silent, "ended"), (live, "active")):  # the live one makes the pass ask LiveKit
        await rows(
            sessions_db,
            """INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, status,
                                       token_expires_at, started_at, ended_at)
               VALUES ($1, $2, 'user_silent', $3, 'user_silent', $4::text, now(), now(),
                       CASE WHEN $4::text = 'ended' THEN now() - interval '700 seconds' END)""",
            interview_id,
            uuid.uuid4(),
            f"interview-{interview_id}",
            status,
        )
    settings = sessions_settings_for(
        sessions_db,
        identity_service.url,
        clerk_keys,
        interview_reconcile_seconds=1,
        livekit_api_url="http://127.0.0.1:9",
    )
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        before = (await sessions.get("/metrics")).text

        async def counted_while_livekit_is_down() -> bool:
            metrics = (await sessions.get("/metrics")).text
            silent = sample(metrics, GRACE, outcome="without_report") - sample(before, GRACE, outcome="without_report")
            down = sample(metrics, RUNS, outcome="livekit_unavailable") - sample(
                before, RUNS, outcome="livekit_unavailable"
            )
            return silent == 1 and down >= 1

        assert await eventually(counted_while_livekit_is_down, within=15)
    checked = await rows(sessions_db, "SELECT report_checked FROM interviews WHERE id = $1", silent)
    assert checked == [{"report_checked": True}]
