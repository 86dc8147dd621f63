"""Recordings only with consent, played back through short-lived links, erased everywhere: a consenting
candidate's join queues one recording (a refusing one's none), LiveKit's egress webhooks move it forward only,
playback follows, and a withdrawal (or anything erasing the interview) deletes every version of its objects, a file
landing after the erasure included, through storage outages."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from livekit.protocol.egress import EgressStatus

from libs.common.db import Database
from services.sessions.recordings import store as recording_store
from services.sessions.recordings.deletions import delete_due
from services.sessions.recordings.storage import Bucket, RecordingStorage
from tests.support.livekit import egress_webhook, livekit_webhook, send_webhook
from tests.support.organizations import Org, candidate, create_invite, create_template, new_org, redeem
from tests.support.rows import rows
from tests.support.storage import ObjectStore
from tests.support.waiting import eventually

Token = Callable[..., str]


@pytest.fixture
async def org(clerk: httpx.AsyncClient, session_token: Token) -> Org:
    return await new_org(clerk, session_token)


async def joined_interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, *, recording: bool
) -> tuple[str, str, dict[str, str]]:
    """A candidate who redeemed an invite to a recorded template (consenting to the recording as `recording`
    says) and joined its room: (interview id, room, the candidate's headers)."""
    template = await create_template(sessions, org, recording=True)
    invite = await create_invite(sessions, org, template["id"])
    clerk_id, headers = await candidate(clerk, session_token)
    room = (await redeem(sessions, invite["code"], headers, recording=recording)).json()["roomName"]
    joined = await send_webhook(sessions, *livekit_webhook("participant_joined", room, identity=clerk_id))
    assert joined.json()["outcome"] == "applied"
    [row] = [
        r for r in (await sessions.get("/api/interviews", headers=headers)).json()["items"] if r["room_name"] == room
    ]
    return row["id"], room, headers


async def recordings_of(database_url: str) -> list[dict[str, object]]:
    return await rows(database_url, "SELECT interview_id, status, egress_id, object_key FROM recordings")


async def test_a_consenting_candidate_s_join_queues_one_recording_and_a_refusing_one_s_none(
    recording_sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    org: Org,
    session_token: Token,
    sessions_db: str,
):
    consenting, room, _ = await joined_interview(recording_sessions, clerk, org, session_token, recording=True)
    refusing, _, _ = await joined_interview(recording_sessions, clerk, org, session_token, recording=False)
    [row] = await rows(sessions_db, "SELECT clerk_id FROM interviews WHERE id = $1", uuid.UUID(consenting))
    rejoined = await send_webhook(
        recording_sessions, *livekit_webhook("participant_joined", room, identity=row["clerk_id"], sid="PA_again")
    )

    assert rejoined.json()["outcome"] == "applied"
    [recording] = await recordings_of(sessions_db)
    assert (str(recording["interview_id"]), recording["status"]) == (consenting, "requested")
    key = str(recording["object_key"])
    assert key.startswith(f"recordings/{consenting}/")
    assert key.endswith(".ogg")
    assert refusing not in key
    consents = await rows(sessions_db, "SELECT scope, given FROM consents WHERE scope = 'recording' ORDER BY id")
    assert [(c["scope"], c["given"]) for c in consents] == [("recording", True), ("recording", False)]


async def test_egress_webhooks_move_a_recording_forward_only_and_playback_follows(
    recording_sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    org: Org,
    session_token: Token,
    sessions_db: str,
    object_store: ObjectStore,
    recordings_bucket: str,
):
    interview_id, room, headers = await joined_interview(recording_sessions, clerk, org, session_token, recording=True)
    [queued] = await recordings_of(sessions_db)
    key = str(queued["object_key"])
    egress = "EG_test1"

    started = await send_webhook(
        recording_sessions, *egress_webhook("egress_started", egress, room, EgressStatus.EGRESS_ACTIVE)
    )
    while_recording = await recording_sessions.get(f"/api/interviews/{interview_id}/recording", headers=headers)
    object_store.put(recordings_bucket, key, b"OggS the interview")
    ended = egress_webhook("egress_ended", egress, room, EgressStatus.EGRESS_COMPLETE, key=key, size=18, seconds=42.5)
    finished = await send_webhook(recording_sessions, *ended)
    repeated = await send_webhook(recording_sessions, *ended)
    late = await send_webhook(
        recording_sessions, *egress_webhook("egress_updated", egress, room, EgressStatus.EGRESS_ACTIVE)
    )
    before = datetime.now(UTC)
    candidate_link = await recording_sessions.get(f"/api/interviews/{interview_id}/recording", headers=headers)
    recruiter_link = await recording_sessions.get(
        f"/api/org/interviews/{interview_id}/recording", headers=org.headers()
    )

    assert [r.json()["outcome"] for r in (started, finished, repeated, late)] == [
        "applied",
        "applied",
        "duplicate",
        "stale",
    ]
    assert (while_recording.status_code, while_recording.json()["type"]) == (409, "urn:problem:still-recording")
    [recording] = await recordings_of(sessions_db)
    assert (recording["status"], recording["egress_id"]) == ("complete", egress)
    for link in (candidate_link, recruiter_link):
        assert link.status_code == 200, link.text
        assert link.headers["cache-control"] == "no-store"
        body = link.json()
        assert (body["content_type"], body["duration_ms"], body["size"]) == ("audio/ogg", 42_500, 18)
        expires_at = datetime.fromisoformat(body["expires_at"])
        assert 250 <= (expires_at - before).total_seconds() <= 310  # RECORDING_URL_SECONDS, default 300
        async with httpx.AsyncClient() as http:
            heard = await http.get(body["url"])
        assert (heard.status_code, heard.content) == (200, b"OggS the interview")


async def test_withdrawing_the_recording_erases_every_version_and_a_file_landing_later_too(
    recording_sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    org: Org,
    session_token: Token,
    sessions_db: str,
    object_store: ObjectStore,
    recordings_bucket: str,
):
    interview_id, room, headers = await joined_interview(recording_sessions, clerk, org, session_token, recording=True)
    [queued] = await recordings_of(sessions_db)
    key, prefix = str(queued["object_key"]), f"recordings/{interview_id}/"
    await send_webhook(
        recording_sessions, *egress_webhook("egress_started", "EG_test2", room, EgressStatus.EGRESS_ACTIVE)
    )
    object_store.put(recordings_bucket, key, b"first take")
    object_store.put(recordings_bucket, key, b"second take")  # a version behind the first

    withdrawn = await recording_sessions.delete(f"/api/interviews/{interview_id}/consent/recording", headers=headers)
    again = await recording_sessions.delete(f"/api/interviews/{interview_id}/consent/recording", headers=headers)
    [erased] = await rows(sessions_db, "SELECT status, stop_pending FROM recordings")

    assert (withdrawn.status_code, again.status_code) == (204, 204)
    assert (erased["status"], erased["stop_pending"]) == ("erased", True)  # the running egress is to be stopped
    assert await eventually(lambda: _empty(object_store, recordings_bucket, prefix))
    object_store.put(recordings_bucket, key, b"uploaded as the egress stopped")
    landed = await send_webhook(
        recording_sessions,
        *egress_webhook("egress_ended", "EG_test2", room, EgressStatus.EGRESS_COMPLETE, key=key, size=30),
    )
    assert landed.json()["outcome"] == "erased"
    assert await eventually(lambda: _empty(object_store, recordings_bucket, prefix))
    gone = await recording_sessions.get(f"/api/interviews/{interview_id}/recording", headers=headers)
    assert (gone.status_code, gone.json()["type"]) == (404, "urn:problem:recording-not-found")
    deletions = await rows(sessions_db, "SELECT reason, deleted_at FROM storage_deletions ORDER BY id")
    assert [d["reason"] for d in deletions] == ["consent_withdrawn", "landed_after_erasure"]
    assert all(d["deleted_at"] is not None for d in deletions)


async def _empty(object_store: ObjectStore, bucket: str, prefix: str) -> bool:
    return object_store.versions(bucket, prefix) == []


async def test_deletions_wait_out_a_storage_outage_and_then_every_version_goes(
    sessions_db: str, object_store: ObjectStore, recordings_bucket: str
):
    interview_id = uuid.uuid4()
    prefix = recording_store.prefix_of(interview_id)
    object_store.put(recordings_bucket, f"{prefix}a.ogg", b"one")
    object_store.put(recordings_bucket, f"{prefix}a.ogg", b"two")
    place = Bucket(endpoint="http://127.0.0.1:9", name=recordings_bucket, region="us-east-1", force_path_style=True)
    credentials = {"access_key": "devstorage", "secret": "devstorage-secret"}
    database = Database(sessions_db, max_size=2)
    await database.open()
    try:
        async with database.transaction() as conn:
            await conn.execute(
                """INSERT INTO recordings (id, interview_id, room_name, object_key, status)
                   VALUES ($1, $2, 'interview-x', $3, 'complete')""",
                uuid.uuid4(),
                interview_id,
                f"{prefix}a.ogg",
            )
            await recording_store.erase_recordings(conn, [interview_id], "user_deleted")
        async with RecordingStorage(place, **credentials, timeout=1) as down:
            claimed_while_down = await delete_due(database, down, first_retry=0.01)
        [failed] = await rows(sessions_db, "SELECT attempts, next_attempt_at, deleted_at FROM storage_deletions")
        up = Bucket(endpoint=object_store.url, name=recordings_bucket, region="us-east-1", force_path_style=True)
        async with RecordingStorage(up, **credentials) as storage:

            async def done() -> bool:
                await delete_due(database, storage, first_retry=0.01)
                return object_store.versions(recordings_bucket, prefix) == []

            assert await eventually(done)
    finally:
        await database.close()

    assert claimed_while_down == 1
    assert (failed["attempts"], failed["deleted_at"]) == (1, None)
    [went] = await rows(sessions_db, "SELECT attempts, deleted_at, deleted_objects FROM storage_deletions")
    assert went["deleted_at"] is not None
    assert went["deleted_objects"] == 2
