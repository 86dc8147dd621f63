"""Identity may publish kinds of change (or items) this release cannot apply: the feed reader skips them (told
once a process), applies the rest and moves on, never stalling on a page it cannot use. Identity here is a later
release of it, as a rolling deploy brings: a loopback HTTP server answering the feed's wire format."""

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from libs.common.db import Database
from services.sessions.users.feeds import follow_once
from services.sessions.users.identity_client import IdentityClient
from services.sessions.users.user_feed import USERS_FEED
from tests.support.credentials import INTERNAL_TOKEN
from tests.support.rows import rows

NOW = datetime.now(UTC).isoformat()
LATER_RELEASE_PAGE = {
    "items": [
        {"cursor": "7.1", "change": "renamed", "clerk_id": "user_renamed", "user_id": None, "at": NOW},
        {"cursor": "7.2", "change": "deleted", "user_id": None, "at": NOW},
        {"cursor": "7.3", "change": "renamed", "clerk_id": "user_again", "at": NOW},
        {"cursor": "7.4", "change": "banned", "clerk_id": "user_banned", "user_id": None, "at": NOW},
    ],
    "next_cursor": "7.4",
}


@pytest.fixture
async def later_identity(unused_tcp_port: int) -> AsyncIterator[str]:
    async def changes(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {INTERNAL_TOKEN}"
        return web.json_response(
            LATER_RELEASE_PAGE
            if request.query.get("after") == ""
            else {"items": [], "next_cursor": request.query["after"]}
        )

    app = web.Application()
    app.router.add_get("/internal/users/changes", changes)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        yield f"http://127.0.0.1:{unused_tcp_port}"
    finally:
        await runner.cleanup()


async def test_kinds_and_items_this_release_cannot_apply_are_skipped_once_told_and_the_rest_applied(
    later_identity: str, sessions_db: str, caplog: pytest.LogCaptureFixture
):
    await rows(
        sessions_db,
        "INSERT INTO known_users (clerk_id, user_id, display_name) VALUES ('user_banned', gen_random_uuid(), 'B')",
    )
    database = Database(sessions_db, max_size=2)
    await database.open()
    try:
        async with IdentityClient(later_identity, INTERNAL_TOKEN, timeout=2) as identity:
            with caplog.at_level(logging.WARNING, logger="services.sessions.users.feeds"):
                applied = await follow_once(USERS_FEED, database, identity, "replica-1")
                again = await follow_once(USERS_FEED, database, identity, "replica-1")
    finally:
        await database.close()

    assert (applied, again) == (4, 0)
    [cursor] = await rows(sessions_db, "SELECT cursor FROM feed_cursors WHERE feed = 'identity-users'")
    assert cursor["cursor"] == "7.4"
    [flagged] = await rows(sessions_db, "SELECT banned FROM known_users WHERE clerk_id = 'user_banned'")
    assert flagged["banned"] is True
    told = [record.getMessage() for record in caplog.records]
    assert len(told) == 2  # once for the unknown kind, once for the item naming nobody
    assert any("'renamed'" in line for line in told)
