"""Recordings end to end, as LiveKit and a storage service play their parts: two sessions replicas, the LiveKit
stand-in's Egress writing real OGG files into the storage stand-in's versioned bucket, and its signed webhooks. A
consenting candidate's interview is recorded from their join to their departure and heard through a short-lived
link; one who refused is never recorded; an egress outage is waited out; and whatever erases the interview (the
candidate's withdrawal, their account's deletion) leaves nothing in the bucket, a file landing afterwards included."""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from deploy.dev.stack import RECORDINGS_BUCKET
from deploy.dev.standins.clerk.session_tokens import ActiveOrganization
from tests.support.clerk import clerk_user, deliver
from tests.support.credentials import bearer
from tests.support.livekit import LiveKitStandin
from tests.support.organizations import TEMPLATE, redeem
from tests.support.rows import rows
from tests.support.stack import Stack
from tests.support.storage import ObjectStore
from tests.support.waiting import eventually

SESSIONS_ENVIRONMENT = {"EGRESS_RETRY_SECONDS": "0.2", "STORAGE_DELETION_RETRY_SECONDS": "0.2"}
Token = Callable[..., str]


@pytest.fixture
async def sessions(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=10) as client:
        yield client


@pytest.fixture
async def egress_faults_off(livekit: LiveKitStandin) -> AsyncIterator[LiveKitStandin]:
    await livekit.set_egress_faults()
    yield livekit
    await livekit.set_egress_faults()


class Recorded:
    """An organization's recorded interview, redeemed by a candidate who joined its room."""

    def __init__(
        self, stack: Stack, clerk_id: str, headers: dict[str, str], details: dict[str, str], recruiter: dict[str, str]
    ):
        self.stack, self.clerk_id, self.headers, self.recruiter = stack, clerk_id, headers, recruiter
        self.room, self.token = details["roomName"], details["participantToken"]

    async def row(self) -> dict[str, Any] | None:
        found = await rows(
            self.stack.database_urls["sessions"],
            """SELECT i.id AS interview_id, r.status, r.object_key, r.size, r.duration_ms
               FROM interviews i LEFT JOIN recordings r ON r.interview_id = i.id WHERE i.room_name = $1""",
            self.room,
        )
        return found[0] if found else None

    async def status(self) -> str | None:
        row = await self.row()
        return None if row is None else row["status"]


async def recorded_interview(
    stack: Stack, sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, token: Token, *, recording: bool
) -> Recorded:
    recruiter = await clerk_user(clerk, email=f"rec-{uuid.uuid4().hex[:6]}@example.com")
    org_id = f"org_{uuid.uuid4().hex}"
    recruiter_headers = bearer(token(recruiter["id"], organization=ActiveOrganization(org_id, "acme", "org:admin")))
    template = await sessions.post(
        "/api/org/templates", json={**TEMPLATE, "recording": True}, headers=recruiter_headers
    )
    assert template.status_code == 201, template.text
    invite = await sessions.post(
        f"/api/org/templates/{template.json()['id']}/invites", json={}, headers=recruiter_headers
    )
    person = await clerk_user(clerk, email=f"cand-{uuid.uuid4().hex[:6]}@example.com", first_name="Casey")
    headers = bearer(token(person["id"]))
    details = await redeem(sessions, invite.json()["code"], headers, recording=recording)
    assert details.status_code == 200, details.text
    return Recorded(stack, person["id"], headers, details.json(), recruiter_headers)


def bucket_of(stack: Stack) -> ObjectStore:
    return ObjectStore(stack.storage.url)


async def test_a_consenting_candidate_is_recorded_heard_and_erased_with_their_account(
    stack: Stack,
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    svix_secret: str,
    egress_faults_off: LiveKitStandin,
):
    livekit = egress_faults_off
    interview = await recorded_interview(stack, sessions, clerk, session_token, recording=True)
    await livekit.join(interview.token)

    assert await eventually(lambda: _is(interview, "active"), within=15)
    [egress] = await livekit.egresses(interview.room)
    await livekit.leave(interview.room, interview.clerk_id)
    assert await eventually(lambda: _is(interview, "complete"), within=15)
    row = await interview.row()
    assert row is not None
    link = await sessions.get(f"/api/org/interviews/{row['interview_id']}/recording", headers=interview.recruiter)
    async with httpx.AsyncClient() as http:
        heard = await http.get(link.json()["url"])

    assert egress["room_composite"]["audio_only"] is True
    assert egress["room_composite"]["file_outputs"][0]["file_type"] == "OGG"
    assert egress["room_composite"]["file_outputs"][0]["disable_manifest"] is True
    assert str(row["object_key"]).startswith(f"recordings/{row['interview_id']}/")
    assert link.status_code == 200, link.text
    assert heard.status_code == 200
    assert heard.content.startswith(b"OggS")
    assert len(heard.content) == row["size"] == link.json()["size"]
    assert link.json()["duration_ms"] >= 1000

    deleted = (await clerk.delete(f"/_standin/users/{interview.clerk_id}", params={"deliver": "false"})).json()
    async with httpx.AsyncClient(base_url=stack.identity.url, timeout=10) as identity:
        assert (await deliver(identity, svix_secret, deleted["event"])).status_code == 200
    prefix = f"recordings/{row['interview_id']}/"
    assert await eventually(lambda: _emptied(stack, prefix), within=15)
    assert await interview.row() is None  # the interview is gone with the user


async def test_a_candidate_who_refused_the_recording_is_never_recorded(
    stack: Stack,
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    egress_faults_off: LiveKitStandin,
):
    livekit = egress_faults_off
    interview = await recorded_interview(stack, sessions, clerk, session_token, recording=False)
    await livekit.join(interview.token)
    await livekit.leave(interview.room, interview.clerk_id)

    row = await interview.row()
    assert row is not None
    assert row["status"] is None  # no recording row: none was ever asked for
    assert await livekit.egresses(interview.room) == []
    heard = await sessions.get(f"/api/interviews/{row['interview_id']}/recording", headers=interview.headers)
    assert heard.status_code == 404


async def test_an_egress_outage_is_waited_out_and_a_withdrawal_mid_recording_leaves_nothing(
    stack: Stack,
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    egress_faults_off: LiveKitStandin,
):
    livekit = egress_faults_off
    await livekit.set_egress_faults(refuse_starts=True, upload_delay_seconds=0.5)
    interview = await recorded_interview(stack, sessions, clerk, session_token, recording=True)
    joined = await livekit.join(interview.token)

    assert all(event["status"] == 200 for event in joined["events"])  # the join's webhook never waited for LiveKit

    async def retried() -> bool:
        found = await rows(
            stack.database_urls["sessions"], "SELECT attempts FROM recordings WHERE room_name = $1", interview.room
        )
        return bool(found) and found[0]["attempts"] >= 2

    assert await eventually(retried, within=15)
    await livekit.set_egress_faults(upload_delay_seconds=0.5)
    assert await eventually(lambda: _is(interview, "active"), within=15)
    row = await interview.row()
    assert row is not None
    withdrawn = await sessions.delete(
        f"/api/interviews/{row['interview_id']}/consent/recording", headers=interview.headers
    )
    prefix = f"recordings/{row['interview_id']}/"

    async def stopped_and_emptied() -> bool:
        [egress] = await livekit.egresses(interview.room)
        return egress["status"] == "EGRESS_COMPLETE" and await _emptied(stack, prefix)

    assert withdrawn.status_code == 204
    assert await eventually(stopped_and_emptied, within=20)  # the file landed after the erasure, and went too
    assert await interview.status() == "erased"


async def _is(interview: Recorded, status: str) -> bool:
    return await interview.status() == status


async def _emptied(stack: Stack, prefix: str) -> bool:
    return bucket_of(stack).versions(RECORDINGS_BUCKET, prefix) == []
