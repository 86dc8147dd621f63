"""Users across services, with real processes: two sessions replicas follow identity's users' feed; a deletion
erases every sessions row naming the user (their interviews' transcripts and reports too) and removes them from
their room, a ban removes them and refuses their starts (what they said stays), and with identity down a recently
confirmed user still starts while a new one gets 503."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.clerk import clerk_user, deliver
from tests.support.credentials import bearer
from tests.support.livekit import LiveKitStandin, agent_write_token
from tests.support.metrics import sample
from tests.support.rows import rows
from tests.support.stack import Stack
from tests.support.waiting import eventually

WITHIN = 5.0  # seconds from identity applying a change to sessions having applied it


async def start(stack: Stack, token: str, replica: int = 0) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.sessions_replicas[replica].url, timeout=10) as http:
        return await http.post("/api/livekit/connection-details", headers=bearer(token))


async def joined_user(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, token: Callable[..., str], email: str
) -> tuple[str, str]:
    """A user who started two interviews (joined the first, so the second start made another) and is talking in
    the second one's room: (clerk id, room)."""
    user = await clerk_user(clerk, email=email)
    first = await start(stack, token(user["id"]), replica=1)
    await livekit.join(first.json()["participantToken"])
    details = (await start(stack, token(user["id"]))).json()
    assert details["roomName"] != first.json()["roomName"]
    await livekit.join(details["participantToken"])
    return user["id"], details["roomName"]


async def rows_naming(stack: Stack, clerk_id: str) -> int:
    found = await rows(
        stack.database_urls["sessions"],
        """SELECT (SELECT count(*) FROM interviews WHERE clerk_id = $1 OR participant_identity = $1)
                + (SELECT count(*) FROM known_users WHERE clerk_id = $1) AS naming""",
        clerk_id,
    )
    return int(found[0]["naming"])


async def agent_reports(stack: Stack, room: str) -> None:
    """The agent of `room` sends two transcript segments and its report, as an agent worker does."""
    found = await rows(stack.database_urls["sessions"], "SELECT id FROM interviews WHERE room_name = $1", room)
    interview_id = found[0]["id"]
    agent = bearer(agent_write_token(room))
    segments = [
        {"seq": seq, "speaker": "agent", "text": f"question {seq}", "started_at_ms": seq, "ended_at_ms": seq + 1}
        for seq in range(2)
    ]
    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=10) as http:
        sent = await http.post(
            f"/agent/interviews/{interview_id}/transcript", json={"segments": segments}, headers=agent
        )
        put = await http.put(
            f"/agent/interviews/{interview_id}/report", json={"version": 1, "summary": "ok", "data": {}}, headers=agent
        )
    assert (sent.status_code, put.status_code) == (200, 200)


async def reported_rows(stack: Stack, room: str | None = None) -> int:
    """Transcript segments and reports stored for `room`'s interview, or for any interview still stored."""
    found = await rows(
        stack.database_urls["sessions"],
        """SELECT (SELECT count(*) FROM transcript_segments s JOIN interviews i ON i.id = s.interview
                   WHERE $1::text IS NULL OR i.room_name = $1)
                + (SELECT count(*) FROM interview_reports r JOIN interviews i ON i.id = r.interview
                   WHERE $1::text IS NULL OR i.room_name = $1)
                + (SELECT count(*) FROM transcript_segments WHERE interview NOT IN (SELECT id FROM interviews))
                AS n""",
        room,
    )
    return int(found[0]["n"])


async def in_room(livekit: LiveKitStandin, room: str, clerk_id: str) -> bool:
    participants = (await livekit.rooms()).get(room, {}).get("participants", [])
    return any(participant["identity"] == clerk_id for participant in participants)


async def banned_here(stack: Stack, clerk_id: str) -> bool:
    """Whether the users' feed has brought the user's ban to sessions (identity's answer flagged)."""
    found = await rows(stack.database_urls["sessions"], "SELECT banned FROM known_users WHERE clerk_id = $1", clerk_id)
    return [row["banned"] for row in found] == [True]


async def feed_total(stack: Stack, change: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        pages = [(await http.get(f"{replica.url}/metrics")).text for replica in stack.sessions_replicas]
    return sum(sample(page, "sessions_user_feed_changes_total", change=change) for page in pages)


async def to_identity(stack: Stack, svix_secret: str, event: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=stack.identity.url, timeout=10) as identity:
        assert (await deliver(identity, svix_secret, event)).status_code == 200


async def test_a_deletion_erases_the_user_everywhere_in_sessions_and_removes_them_from_their_room(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    clerk_id, room = await joined_user(stack, clerk, livekit, session_token, "deleted.everywhere@example.com")
    await agent_reports(stack, room)
    assert await rows_naming(stack, clerk_id) == 3  # two interviews and identity's last answer
    assert await reported_rows(stack) > 0
    applied_before = await feed_total(stack, "deleted")

    deleted = (await clerk.delete(f"/_standin/users/{clerk_id}", params={"deliver": "false"})).json()["event"]
    await to_identity(stack, svix_secret, deleted)

    async def erased() -> bool:
        return await rows_naming(stack, clerk_id) == 0 and not await in_room(livekit, room, clerk_id)

    assert await eventually(erased, within=WITHIN)
    assert await reported_rows(stack, room) == 0  # the transcript and report went with the interview
    assert await rows(
        stack.database_urls["sessions"], "SELECT clerk_id FROM erased_users WHERE clerk_id = $1", clerk_id
    )
    assert {"room": room, "identity": clerk_id} in [
        {key: call[key] for key in ("room", "identity")} for call in await livekit.calls("RemoveParticipant")
    ]
    assert await feed_total(stack, "deleted") == applied_before + 1  # two replicas, applied once
    refused = await start(stack, session_token(clerk_id), replica=1)  # identity's earlier answer is gone too
    assert refused.status_code == 403
    assert await rows_naming(stack, clerk_id) == 0


async def test_a_ban_removes_the_user_from_their_room_and_refuses_their_starts(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    clerk_id, room = await joined_user(stack, clerk, livekit, session_token, "banned.midway@example.com")
    await agent_reports(stack, room)

    banned = await clerk.patch(f"/_standin/users/{clerk_id}", json={"banned": True, "deliver": False})
    await to_identity(stack, svix_secret, banned.json()["event"])

    async def removed_and_flagged() -> bool:  # a start may reuse identity's answer until the ban reaches sessions
        return not await in_room(livekit, room, clerk_id) and await banned_here(stack, clerk_id)

    assert await eventually(removed_and_flagged, within=WITHIN)
    refused = await start(stack, session_token(clerk_id), replica=1)
    assert refused.status_code == 403
    assert "is banned in Clerk" in refused.json()["detail"]

    async def ended() -> bool:  # LiveKit reported the removal: the candidate's final departure
        found = await rows(stack.database_urls["sessions"], "SELECT status FROM interviews WHERE room_name = $1", room)
        return found[0]["status"] == "ended"

    assert await eventually(ended, within=WITHIN)
    assert await reported_rows(stack, room) == 3  # a banned user's interviews, and what was said, stay


async def test_a_banned_user_joining_with_a_token_from_before_the_ban_is_removed_from_the_room(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    user = await clerk_user(clerk, email="banned.holding.a.token@example.com")
    details = (await start(stack, session_token(user["id"]))).json()
    banned = await clerk.patch(f"/_standin/users/{user['id']}", json={"banned": True, "deliver": False})
    await to_identity(stack, svix_secret, banned.json()["event"])

    async def flagged() -> bool:
        return await banned_here(stack, user["id"])

    assert await eventually(flagged, within=WITHIN)
    joined = await livekit.join(details["participantToken"])  # LiveKit still takes a token it signed before
    assert joined["room"] == details["roomName"]

    async def removed_and_ended() -> bool:
        found = await rows(
            stack.database_urls["sessions"], "SELECT status FROM interviews WHERE room_name = $1", details["roomName"]
        )
        return not await in_room(livekit, details["roomName"], user["id"]) and found[0]["status"] == "ended"

    assert await eventually(removed_and_ended, within=WITHIN)


async def test_a_deleted_user_joining_with_a_token_from_before_the_deletion_is_removed_from_the_room(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    user = await clerk_user(clerk, email="deleted.holding.a.token@example.com")
    details = (await start(stack, session_token(user["id"]))).json()
    deleted = (await clerk.delete(f"/_standin/users/{user['id']}", params={"deliver": "false"})).json()["event"]
    await to_identity(stack, svix_secret, deleted)

    async def erased() -> bool:
        return await rows_naming(stack, user["id"]) == 0

    assert await eventually(erased, within=WITHIN)
    await livekit.join(details["participantToken"])  # a room sessions no longer knows

    async def removed() -> bool:
        return not await in_room(livekit, details["roomName"], user["id"])

    assert await eventually(removed, within=WITHIN)
    assert await rows_naming(stack, user["id"]) == 0


async def test_a_user_banned_before_we_ever_saw_them_is_refused_and_leaves_no_row(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="banned.at.first.sight@example.com")
    await clerk.patch(f"/_standin/users/{user['id']}", json={"banned": True, "deliver": False})

    refused = await start(stack, session_token(user["id"]), replica=1)

    assert refused.status_code == 403
    assert "is banned in Clerk" in refused.json()["detail"]
    assert await rows_naming(stack, user["id"]) == 0


async def test_identity_killed_a_known_user_starts_and_a_new_one_gets_503(
    own_stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    known = await clerk_user(clerk, email="known.before@example.com")
    new = await clerk_user(clerk, email="first.time@example.com")
    assert (await start(own_stack, session_token(known["id"]))).status_code == 200

    own_stack.identity.kill(9)

    assert (await start(own_stack, session_token(known["id"]))).status_code == 200
    refused = await start(own_stack, session_token(new["id"]))
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) > 0
    assert await rows_naming(own_stack, new["id"]) == 0


async def test_a_slow_livekit_holds_back_no_erasure_and_every_room_removal_is_done_when_it_answers(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    slow_user = await clerk_user(clerk, email="three.rooms@example.com")
    rooms = []
    for _ in range(3):
        details = (await start(stack, session_token(slow_user["id"]))).json()
        await livekit.join(details["participantToken"])  # joined: the next start makes another room
        rooms.append(details["roomName"])
    next_user, next_room = await joined_user(stack, clerk, livekit, session_token, "deleted.right.after@example.com")
    await livekit.set_slow(4.0)  # RoomService answers each call after 4 s
    try:
        for clerk_id in (slow_user["id"], next_user):
            deleted = (await clerk.delete(f"/_standin/users/{clerk_id}", params={"deliver": "false"})).json()["event"]
            await to_identity(stack, svix_secret, deleted)
        applied = asyncio.get_running_loop().time()

        async def both_erased() -> bool:
            return await rows_naming(stack, slow_user["id"]) == 0 and await rows_naming(stack, next_user) == 0

        assert await eventually(both_erased, within=WITHIN)
        erased_after = asyncio.get_running_loop().time() - applied
    finally:
        await livekit.set_slow(0)

    async def removed_from_every_room() -> bool:
        return not any(
            [
                *[await in_room(livekit, room, slow_user["id"]) for room in rooms],
                await in_room(livekit, next_room, next_user),
            ]
        )

    assert await eventually(removed_from_every_room, within=30)
    print(f"\nLiveKit answering after 4 s: both users erased {erased_after:.2f} s after identity applied the deletions")
    assert erased_after < WITHIN
    removals = [(call["room"], call["identity"]) for call in await livekit.calls("RemoveParticipant")]
    assert {(room, slow_user["id"]) for room in rooms} | {(next_room, next_user)} <= set(removals)

    async def nothing_queued() -> bool:
        found = await rows(stack.database_urls["sessions"], "SELECT count(*) AS queued FROM room_removals")
        return int(found[0]["queued"]) == 0

    assert await eventually(nothing_queued, within=10)


async def test_a_removal_livekit_never_takes_is_given_up_once_no_interview_room_could_still_exist(
    stack: Stack, clerk: httpx.AsyncClient, livekit: LiveKitStandin, session_token: Callable[..., str], svix_secret: str
):
    clerk_id, room = await joined_user(stack, clerk, livekit, session_token, "never.removed@example.com")
    await livekit.set_unavailable(True)
    try:
        banned = await clerk.patch(f"/_standin/users/{clerk_id}", json={"banned": True, "deliver": False})
        await to_identity(stack, svix_secret, banned.json()["event"])
        sessions_db = stack.database_urls["sessions"]

        async def queued() -> bool:
            return bool(await rows(sessions_db, "SELECT 1 FROM room_removals WHERE clerk_id = $1", clerk_id))

        assert await eventually(queued, within=WITHIN)
        await rows(  # queued longer ago than MAX_INTERVIEW_SECONDS, due now
            sessions_db,
            """UPDATE room_removals SET queued_at = now() - interval '1 day', next_attempt_at = now()
               WHERE clerk_id = $1""",
            clerk_id,
        )

        async def given_up() -> bool:
            return not await queued()

        assert await eventually(given_up, within=10)
    finally:
        await livekit.set_unavailable(False)
    assert await in_room(livekit, room, clerk_id)  # LiveKit never took it
