"""An interview's life as LiveKit's real clients and server live it: the LiveKit stand-in's rooms are joined
with the participant tokens sessions mints, its webhooks are signed as LiveKit signs them, and some are lost.
Two sessions replicas share one database, so the reconciler (every second here) runs twice at once."""

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from deploy.dev.stack import ROOT
from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.livekit import LiveKitStandin, agent_token, verify_livekit_token
from tests.support.metrics import sample
from tests.support.rows import interview_rows, rows
from tests.support.stack import Stack
from tests.support.waiting import eventually

SESSIONS_ENVIRONMENT = {"INTERVIEW_RECONCILE_SECONDS": "1", "MAX_INTERVIEW_SECONDS": "3600"}


class Candidate:
    """A signed-in user of the frontend, against one sessions replica."""

    def __init__(self, stack: Stack, clerk_id: str, token: str) -> None:
        self.stack = stack
        self.clerk_id = clerk_id
        self.headers = bearer(token)

    async def start(self, replica: int = 0) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.stack.sessions_replicas[replica].url, timeout=10) as http:
            response = await http.post("/api/livekit/connection-details", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def rejoin_token(self, room: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.stack.sessions.url, timeout=10) as http:
            return await http.post("/api/livekit/token", json={"room_name": room}, headers=self.headers)


@pytest.fixture
def candidate(stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]) -> Callable[[str], Any]:
    async def make(email: str) -> Candidate:
        user = await clerk_user(clerk, email=email, first_name="Cand")
        return Candidate(stack, user["id"], session_token(user["id"]))

    return make


async def interview(stack: Stack, room: str) -> dict[str, Any]:
    [row] = await interview_rows(stack.database_urls["sessions"], "SELECT * FROM interviews WHERE room_name = $1", room)
    return row


async def status_becomes(stack: Stack, room: str, status: str, within: float = 10.0) -> bool:
    async def reached() -> bool:
        return (await interview(stack, room))["status"] == status

    return await eventually(reached, within)


async def metric_total(stack: Stack, name: str, **labels: str) -> float:
    """`name` summed over the sessions replicas."""
    total = 0.0
    async with httpx.AsyncClient(timeout=5) as http:
        for replica in stack.sessions_replicas:
            total += sample((await http.get(f"{replica.url}/metrics")).text, name, **labels)
    return total


async def test_join_rejoin_with_the_kick_reported_after_then_the_final_leave(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("rejoin.after@example.com")
    details = await person.start()
    room = details["roomName"]

    first = await livekit.join(details["participantToken"])
    assert (await interview(stack, room))["participant_sid"] == first["sid"]
    refreshed = await person.rejoin_token(room)
    second = await livekit.join(refreshed.json()["participant_token"])  # LiveKit kicks the first connection

    assert [event["event"] for event in second["events"]] == ["participant_joined", "participant_left"]
    row = await interview(stack, room)
    assert (row["status"], row["participant_sid"]) == ("active", second["sid"])

    await livekit.leave(room, person.clerk_id)
    row = await interview(stack, room)
    assert row["status"] == "ended"
    assert row["ended_at"] is not None


async def test_rejoin_with_the_kick_reported_before_the_new_join(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("rejoin.before@example.com")
    details = await person.start()
    room = details["roomName"]
    await livekit.join(details["participantToken"])

    second = await livekit.join((await person.rejoin_token(room)).json()["participant_token"], kick_reported_first=True)

    assert [event["event"] for event in second["events"]] == ["participant_left", "participant_joined"]
    row = await interview(stack, room)
    assert (row["status"], row["participant_sid"]) == ("active", second["sid"])


async def test_the_agent_gets_its_dispatch_and_leaving_ends_nothing(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("agent.leaves@example.com")
    details = await person.start()
    room = details["roomName"]
    await livekit.join(details["participantToken"])

    [dispatch] = (await livekit.rooms())[room]["dispatches"]
    row = await interview(stack, room)
    expected = {"interview_id": str(row["id"]), "clerk_id": person.clerk_id, "metadata": None}
    assert (dispatch["agent_name"], json.loads(dispatch["metadata"])) == ("interviewer", expected)
    assert verify_livekit_token(details["participantToken"]).room_config.agents[0].metadata == dispatch["metadata"]
    await livekit.join(agent_token(room))
    await livekit.leave(room, "agent-AJ_interviewer")

    assert (await interview(stack, room))["status"] == "active"


async def test_a_late_leave_of_an_older_connection_ends_nothing(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("late.leave@example.com")
    details = await person.start()
    room = details["roomName"]
    await livekit.join(details["participantToken"])
    dropped = await livekit.leave(room, person.clerk_id, deliver=False)  # the network dropped; its webhook is late
    second = await livekit.join((await person.rejoin_token(room)).json()["participant_token"])

    await livekit.redeliver(dropped["events"][0]["id"])

    row = await interview(stack, room)
    assert (row["status"], row["participant_sid"]) == ("active", second["sid"])


async def test_a_repeated_event_changes_nothing(stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]):
    person = await candidate("repeated@example.com")
    details = await person.start()
    room = details["roomName"]
    joined = await livekit.join(details["participantToken"])
    left = await livekit.leave(room, person.clerk_id)
    duplicates = await metric_total(
        stack, "sessions_livekit_webhooks_total", event="participant_joined", outcome="duplicate"
    )

    [redelivered] = (await livekit.redeliver(joined["events"][-1]["id"]))["events"]

    assert redelivered["status"] == 200
    assert (await interview(stack, room))["status"] == "ended"
    after = await metric_total(
        stack, "sessions_livekit_webhooks_total", event="participant_joined", outcome="duplicate"
    )
    assert after == duplicates + 1
    assert left["events"][0]["status"] == 200


async def test_a_room_gone_without_room_finished_is_ended_by_the_reconciler_once(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("room.gone@example.com")
    details = await person.start()
    room = details["roomName"]
    await livekit.join(details["participantToken"])
    corrections = await metric_total(stack, "sessions_reconciler_corrections_total", kind="room_gone")

    await livekit.close(room, deliver=False)  # every webhook of the room's end is lost

    assert await status_becomes(stack, room, "ended")
    assert await metric_total(stack, "sessions_reconciler_corrections_total", kind="room_gone") == corrections + 1


async def test_never_joined_expires_and_is_listed_only_when_asked(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("never.joined@example.com")
    joined_late = await person.start()  # joined, but the join's webhook was lost
    await livekit.join(joined_late["participantToken"], deliver=False)
    earlier_agent = "UPDATE interviews SET agent_name = 'earlier-agent' WHERE clerk_id = $1"
    await rows(stack.database_urls["sessions"], earlier_agent, person.clerk_id)
    unused = (await person.start())["roomName"]  # (for another agent than the first: not handed back)
    await rows(
        stack.database_urls["sessions"],
        "UPDATE interviews SET token_expires_at = now() - interval '1 second' WHERE clerk_id = $1",
        person.clerk_id,
    )

    assert await status_becomes(stack, unused, "expired")
    assert await status_becomes(stack, joined_late["roomName"], "active")  # its room exists: it was joined
    async with httpx.AsyncClient(base_url=stack.sessions.url) as http:
        listed = (await http.get("/api/interviews", headers=person.headers)).json()["items"]
        expired = (await http.get("/api/interviews?status=expired", headers=person.headers)).json()["items"]
    assert [item["room_name"] for item in listed] == [joined_late["roomName"]]
    assert [item["room_name"] for item in expired] == [unused]
    assert (await person.rejoin_token(unused)).status_code == 409


async def test_the_cap_refuses_a_fourth_start_but_not_a_rejoin(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("at.cap@example.com")
    rooms = []
    for replica in (0, 1, 0):
        details = await person.start(replica)
        await livekit.join(details["participantToken"])  # joined: the next start makes another
        rooms.append(details["roomName"])

    async with httpx.AsyncClient(base_url=stack.sessions_replicas[1].url) as http:
        refused = await http.post("/api/livekit/connection-details", headers=person.headers)
    rejoined = await person.rejoin_token(rooms[0])

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert rejoined.status_code == 201
    held = "SELECT id FROM interviews WHERE clerk_id = $1"
    assert len(await interview_rows(stack.database_urls["sessions"], held, person.clerk_id)) == 3


async def test_an_interview_past_its_maximum_length_has_its_room_deleted_and_ends(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("too.long@example.com")
    details = await person.start()
    room = details["roomName"]
    await livekit.join(details["participantToken"])

    await rows(
        stack.database_urls["sessions"],
        "UPDATE interviews SET started_at = now() - interval '2 hours' WHERE room_name = $1",
        room,
    )

    assert await status_becomes(stack, room, "ended")
    assert room not in await livekit.rooms()
    assert {call["room"] for call in await livekit.calls("DeleteRoom")} >= {room}


async def test_an_interview_past_its_template_s_max_minutes_ends_though_shorter_than_the_service_s_maximum(
    stack: Stack, livekit: LiveKitStandin, candidate: Callable[[str], Any]
):
    person = await candidate("template.minutes@example.com")
    details = await person.start()
    room = details["roomName"]
    await livekit.join(details["participantToken"])
    # An organization's interview pinned to a template of 20 minutes, started 25 minutes ago (MAX_INTERVIEW_SECONDS
    # is an hour): as a redemption records it.
    await rows(
        stack.database_urls["sessions"],
        """UPDATE interviews SET max_seconds = 1200, started_at = now() - interval '25 minutes'
           WHERE room_name = $1""",
        room,
    )

    assert await status_becomes(stack, room, "ended")
    assert room not in await livekit.rooms()


def reconcile_command(stack: Stack) -> subprocess.CompletedProcess[str]:
    """`python -m services.sessions reconcile` with the first replica's environment."""
    command = [sys.executable, "-m", "services.sessions", "reconcile"]
    environment = stack.sessions.environment
    return subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


async def test_livekit_unreachable_is_counted_never_a_crash_and_the_command_says_so(
    stack: Stack, livekit: LiveKitStandin
):
    before = await metric_total(stack, "sessions_reconciler_runs_total", outcome="livekit_unavailable")
    await livekit.set_unavailable(True)

    async def counted() -> bool:
        return await metric_total(stack, "sessions_reconciler_runs_total", outcome="livekit_unavailable") > before

    assert await eventually(counted)
    failed = await asyncio.to_thread(reconcile_command, stack)
    await livekit.set_unavailable(False)
    passed = await asyncio.to_thread(reconcile_command, stack)

    assert all(replica.running() for replica in stack.sessions_replicas)
    assert failed.returncode == 1
    assert "unavailable" in failed.stderr
    assert passed.returncode == 0, passed.stderr
    assert json.loads(passed.stdout.splitlines()[-1]).keys() >= {"checked", "ended_room_gone", "expired"}
