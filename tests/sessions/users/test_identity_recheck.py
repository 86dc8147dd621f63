"""A user identity confirmed recently starts without asking it again, while the users' feed is current: never
on an answer older than `IDENTITY_RECHECK_SECONDS`, for a user the feed reported banned or locked, or while
the feed is behind."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from deploy.dev.stack import ServiceProcess
from services.sessions.app import create_app
from services.sessions.interviews import store as interview_store
from services.sessions.interviews.store import NewInterview, Start
from services.sessions.users import known_store as known_user_store
from services.sessions.users.identity_client import FeedItem
from services.sessions.users.known_store import KnownUser
from services.sessions.users.user_feed import USERS_FEED, apply_change
from tests.sessions.conftest import sessions_settings_for
from tests.support.asgi import serve_in_process
from tests.support.clerk import clerk_user
from tests.support.credentials import INTERNAL_TOKEN, ClerkKeyPair, bearer
from tests.support.livekit import verify_livekit_token
from tests.support.metrics import sample
from tests.support.rows import interview_rows, rows
from tests.support.waiting import eventually

RECHECK = 300
FEED_CURRENT = 5


async def feed_is_current(sessions_db: str) -> bool:
    """Whether the app read the users' feed to its end within the last 2 seconds."""
    found = await rows(sessions_db, "SELECT updated_at > now() - interval '2 seconds' AS fresh FROM feed_cursors")
    return bool(found[0]["fresh"])


async def identity_calls(sessions: httpx.AsyncClient) -> float:
    return sample((await sessions.get("/metrics")).text, "sessions_identity_rpc_duration_seconds_count")


async def test_a_user_identity_confirmed_recently_starts_again_without_an_identity_call(
    sessions_db: str,
    identity_service: ServiceProcess,
    clerk_keys: ClerkKeyPair,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="recheck@example.com", first_name="Grace")
    headers = bearer(session_token(user["id"]))
    settings = sessions_settings_for(sessions_db, identity_service.url, clerk_keys, identity_recheck_seconds=RECHECK)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        assert await eventually(lambda: feed_is_current(sessions_db))
        before = await identity_calls(sessions)
        first = await sessions.post("/api/livekit/connection-details", headers=headers)
        after_first = await identity_calls(sessions)
        again = await sessions.post("/api/livekit/connection-details", headers=headers)
        token = await sessions.post("/api/livekit/token", headers=headers, json={})
        after_again = await identity_calls(sessions)

    assert (first.status_code, again.status_code, token.status_code) == (200, 200, 201)
    assert after_first == before + 1
    assert after_again == after_first  # identity was not asked again
    assert again.json()["participantName"] == first.json()["participantName"] == "Grace"
    assert len({row["user_id"] for row in await interview_rows(sessions_db)}) == 1


@pytest.fixture
async def conn(sessions_db: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a sessions database no app follows the feed for: the test sets the feed's state."""
    connection = await asyncpg.connect(sessions_db)
    yield connection
    await connection.close()


def new_interview(clerk_id: str) -> NewInterview:
    interview_id = uuid.uuid4()
    return NewInterview(
        id=interview_id,
        clerk_id=clerk_id,
        room_name=f"interview-{interview_id}",
        agent_name=None,
        token_expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )


async def start(conn: asyncpg.Connection, clerk_id: str, user: KnownUser | None = None) -> Start:
    return await interview_store.start_within_cap(
        conn, new_interview(clerk_id), 100, user, reuse_seconds=RECHECK, feed_current_seconds=FEED_CURRENT
    )


async def feed_read(conn: asyncpg.Connection, seconds_ago: int) -> None:
    await conn.execute(
        "UPDATE feed_cursors SET updated_at = now() - make_interval(secs => $2) WHERE feed = $1",
        USERS_FEED.name,
        seconds_ago,
    )


async def test_without_a_recent_answer_or_with_the_feed_behind_a_start_must_ask_identity(
    conn: asyncpg.Connection,
):
    answer = KnownUser(uuid.uuid4(), "Ada", answered_now=True)
    await feed_read(conn, 0)

    assert (await start(conn, "user_never_seen")).outcome == "unconfirmed"
    first = await start(conn, "user_recheck", answer)
    assert (first.outcome, first.display_name) == ("started", "Ada")
    await conn.execute("UPDATE interviews SET status = 'active'")  # joined: the next start makes another
    second = await start(conn, "user_recheck")  # on identity's answer, remembered
    assert (second.outcome, second.display_name) == ("started", "Ada")

    await feed_read(conn, FEED_CURRENT + 1)
    assert (await start(conn, "user_recheck")).outcome == "unconfirmed"

    await feed_read(conn, 0)
    await conn.execute("UPDATE known_users SET banned = true WHERE clerk_id = 'user_recheck'")
    assert (await start(conn, "user_recheck")).outcome == "unconfirmed"

    await conn.execute(
        "UPDATE known_users SET banned = false, confirmed_at = now() - make_interval(secs => $1)", RECHECK
    )
    assert (await start(conn, "user_recheck")).outcome == "unconfirmed"
    assert await conn.fetchval("SELECT count(*) FROM interviews WHERE clerk_id = 'user_recheck'") == 2


async def test_only_an_answer_identity_gave_just_now_is_remembered(conn: asyncpg.Connection):
    await feed_read(conn, 0)
    await start(conn, "user_remembered", KnownUser(uuid.uuid4(), "Ada", answered_now=True))
    await conn.execute("UPDATE known_users SET confirmed_at = now() - interval '1 hour'")
    stale = await known_user_store.recent_answer(conn, "user_remembered", 86_400)
    assert stale is not None

    await conn.execute("UPDATE interviews SET status = 'active'")  # joined: the next start makes another
    assert (await start(conn, "user_remembered", stale)).outcome == "started"  # what stale-if-error does

    confirmed_at = await conn.fetchval("SELECT confirmed_at FROM known_users WHERE clerk_id = 'user_remembered'")
    assert datetime.now(UTC) - confirmed_at > timedelta(minutes=59)  # a stale answer is not made fresh


async def test_a_start_racing_the_user_s_erasure_waits_for_it_and_leaves_no_row(
    conn: asyncpg.Connection, sessions_db: str
):
    await feed_read(conn, 0)
    await start(conn, "user_erased", KnownUser(uuid.uuid4(), "Ada", answered_now=True))
    eraser = await asyncpg.connect(sessions_db)
    try:
        deleted = FeedItem(cursor="1", clerk_id="user_erased", change="deleted", at=datetime.now(UTC))
        async with eraser.transaction():
            await apply_change(eraser, deleted)
            racing = asyncio.create_task(start(conn, "user_erased"))  # on identity's answer of a moment ago

            async def start_waits() -> bool:
                waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                return bool(await eraser.fetchval(waiting))

            assert await eventually(start_waits)
    finally:
        await eraser.close()

    assert (await racing).outcome == "deleted"  # refused: the erasure it waited for recorded the deletion
    assert await conn.fetchval("SELECT count(*) FROM interviews WHERE clerk_id = 'user_erased'") == 0


async def test_a_start_on_identity_s_answer_from_just_before_the_deletion_is_refused_after_the_erasure(
    conn: asyncpg.Connection,
):
    answered_before = KnownUser(uuid.uuid4(), "Ada", answered_now=True)  # the deletion then reached identity
    deleted = FeedItem(cursor="1", clerk_id="user_deletedMeanwhile", change="deleted", at=datetime.now(UTC))
    async with conn.transaction():
        await apply_change(conn, deleted)  # never started here: nothing to erase, the id is recorded

    assert (await start(conn, "user_deletedMeanwhile", answered_before)).outcome == "deleted"
    assert await conn.fetchval("SELECT count(*) FROM interviews WHERE clerk_id = 'user_deletedMeanwhile'") == 0
    assert await conn.fetchval("SELECT count(*) FROM known_users WHERE clerk_id = 'user_deletedMeanwhile'") == 0


async def test_a_profile_left_pending_by_a_clerk_outage_is_completed_by_a_later_start(
    sessions_db: str,
    identity_service: ServiceProcess,
    clerk_keys: ClerkKeyPair,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="pending.first@example.com", first_name="Katherine")
    settings = sessions_settings_for(sessions_db, identity_service.url, clerk_keys, identity_recheck_seconds=RECHECK)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        await clerk.put("/_standin/faults", json={"fail_status": 503})
        during = await sessions.post("/api/livekit/token", json={}, headers=bearer(session_token(user["id"])))
        await clerk.put("/_standin/faults", json={})  # Clerk is back

        async def feed_current() -> bool:  # so the next start could skip identity on a remembered answer
            found = await rows(
                sessions_db, "SELECT updated_at > now() - interval '2 seconds' AS fresh FROM feed_cursors"
            )
            return bool(found[0]["fresh"])

        assert await eventually(feed_current)
        later = await sessions.post("/api/livekit/token", json={}, headers=bearer(session_token(user["id"])))

        async def completed() -> bool:
            async with httpx.AsyncClient(base_url=identity_service.url) as identity:
                found = await identity.get(f"/internal/users/{user['id']}", headers=bearer(INTERNAL_TOKEN))
            return bool(found.json()["user"]["profile_status"] == "complete")

        assert await eventually(completed, within=5)
        named = await sessions.post("/api/livekit/token", json={}, headers=bearer(session_token(user["id"])))

    assert (during.status_code, later.status_code, named.status_code) == (201, 201, 201)
    assert verify_livekit_token(during.json()["participant_token"]).name == "Candidate"  # Clerk was down
    assert verify_livekit_token(named.json()["participant_token"]).name == "Katherine"
