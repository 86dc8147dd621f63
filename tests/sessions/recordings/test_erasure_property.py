"""No interleaving of a join, egress webhooks (in any order), uploads, a withdrawal and the candidate's deletion
leaves an object in the bucket for an erased interview, or records a candidate who did not consent."""

from collections.abc import Callable

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from livekit.protocol.egress import EgressStatus

from tests.support.hostile import HOSTILE
from tests.support.livekit import egress_webhook, livekit_webhook, send_webhook
from tests.support.organizations import candidate, create_invite, create_template, new_org, redeem
from tests.support.rows import rows
from tests.support.storage import ObjectStore
from tests.support.waiting import eventually

Token = Callable[..., str]
STEPS = ("started", "finished", "withdrawn", "deleted")


@settings(HOSTILE, max_examples=20)
@given(
    consenting=st.booleans(),
    sequence=st.lists(st.sampled_from(STEPS), min_size=1, max_size=6),
)
async def test_no_interleaving_keeps_an_erased_or_unconsented_recording(
    recording_sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    sessions_db: str,
    object_store: ObjectStore,
    recordings_bucket: str,
    consenting: bool,
    sequence: list[str],
):
    sessions = recording_sessions
    org = await new_org(clerk, session_token)
    template = await create_template(sessions, org, recording=True)
    invite = await create_invite(sessions, org, template["id"])
    clerk_id, headers = await candidate(clerk, session_token)
    room = (await redeem(sessions, invite["code"], headers, recording=consenting)).json()["roomName"]
    await send_webhook(sessions, *livekit_webhook("participant_joined", room, identity=clerk_id))
    [interview] = await rows(sessions_db, "SELECT id FROM interviews WHERE room_name = $1", room)
    interview_id = interview["id"]
    queued = await rows(sessions_db, "SELECT object_key FROM recordings WHERE interview_id = $1", interview_id)
    key = queued[0]["object_key"] if queued else f"recordings/{interview_id}/never.ogg"
    prefix = f"recordings/{interview_id}/"
    egress = f"EG_{interview_id.hex[:12]}"
    erased = False

    for step in sequence:
        if step == "started":
            await send_webhook(sessions, *egress_webhook("egress_started", egress, room, EgressStatus.EGRESS_ACTIVE))
        elif step == "finished" and queued:  # an egress exists only for a recording asked for: it uploads, then says so
            object_store.put(recordings_bucket, key, b"OggS take")
            ended = egress_webhook("egress_ended", egress, room, EgressStatus.EGRESS_COMPLETE, key=key, size=9)
            await send_webhook(sessions, *ended)
        elif step == "withdrawn":
            answer = await sessions.delete(f"/api/interviews/{interview_id}/consent/recording", headers=headers)
            erased = erased or answer.status_code == 204
        elif step == "deleted":
            erased = erased or (await sessions.delete(f"/api/interviews/{interview_id}", headers=headers)).is_success

    async def nothing_left() -> bool:
        return object_store.versions(recordings_bucket, prefix) == []

    if not consenting:
        assert queued == []
        assert await nothing_left()
    if erased:
        assert await eventually(nothing_left, within=15), object_store.versions(recordings_bucket, prefix)
        heard = await sessions.get(f"/api/interviews/{interview_id}/recording", headers=headers)
        assert heard.status_code == 404
    elif consenting and "finished" in sequence:
        heard = await sessions.get(f"/api/interviews/{interview_id}/recording", headers=headers)
        assert heard.status_code == 200, heard.text
