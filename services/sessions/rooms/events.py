"""LiveKit's webhooks applied to interviews: the candidate joining activates one, only the candidate's final
departure (or the room finishing) ends it.

LiveKit disconnects an older connection when the same identity joins again (a token refresh, a reconnect, a
second tab) and reports that `participant_left` with `DUPLICATE_IDENTITY`, before or after the new
`participant_joined`: that leave ends nothing, nor does a late leave of an older participant `sid`. Agents and
anyone else come and go freely. A repeated event `id` changes nothing. A candidate the users' feed reported
banned, locked or deleted, joining with a token minted before that, is removed from the room (a deleted
user's room is unknown by then, their rows erased; a room of an unknown user, another deployment's sharing
the LiveKit project, is left alone).
"""

from datetime import UTC, datetime

from livekit.api import ParticipantInfo, WebhookEvent
from livekit.protocol.models import DisconnectReason

from libs.common.clerk_ids import is_clerk_user_id
from services.sessions.metrics import INTERVIEWS_ACTIVATED, INTERVIEWS_ENDED, LIVEKIT_WEBHOOKS, RECORDINGS
from services.sessions.recordings import store as recording_store
from services.sessions.recordings.events import EGRESS_EVENTS, apply_egress_event
from services.sessions.rooms import event_store as room_event_store
from services.sessions.rooms import removal_store as room_removal_store
from services.sessions.rooms.names import is_interview_room
from services.sessions.runtime import Runtime


def _is_candidate(participant: ParticipantInfo) -> bool:
    return participant.kind != ParticipantInfo.Kind.AGENT and is_clerk_user_id(participant.identity)


async def _joined(runtime: Runtime, event: WebhookEvent, at: datetime) -> str:
    """The join recorded and, in its transaction, the recording queued if the candidate consented to one (egress
    starts from that queue: the webhook never waits for LiveKit)."""
    participant = event.participant
    async with runtime.database.transaction() as conn:
        applied = await room_event_store.record_join(
            conn,
            event.id,
            event.room.name,
            identity=participant.identity,
            sid=participant.sid,
            at=at,
            joined_ms=participant.joined_at_ms or participant.joined_at * 1000,
        )
        consenting = applied.outcome == "applied" and not applied.refused and runtime.settings.recording_enabled
        if consenting and await recording_store.request_on_join(conn, event.room.name, participant.identity):
            RECORDINGS.labels("requested").inc()
    if applied.before in ("created", "expired"):
        INTERVIEWS_ACTIVATED.inc()
    if not (applied.outcome in ("applied", "unknown_room") and applied.refused):
        return applied.outcome
    # a user who may not start interviews joined with a token minted before: removed within about a second (the
    # room removals' queue), and LiveKit then reports the departure
    async with runtime.database.connection() as conn:
        await room_removal_store.queue_room_removal(conn, event.room.name, participant.identity)
    return "refused"


async def _apply(runtime: Runtime, event: WebhookEvent) -> str:
    database = runtime.database
    if event.event in EGRESS_EVENTS:
        async with database.transaction() as conn:
            return await apply_egress_event(conn, event)
    if not is_interview_room(event.room.name):
        return "unknown_room"
    at = datetime.fromtimestamp(event.created_at, tz=UTC) if event.created_at else datetime.now(UTC)
    participant = event.participant
    if event.event == "participant_joined" and _is_candidate(participant):
        return await _joined(runtime, event, at)
    identity: str | None
    sid: str | None
    if event.event == "participant_left" and _is_candidate(participant):
        if participant.disconnect_reason == DisconnectReason.DUPLICATE_IDENTITY:
            return "rejoined"
        identity, sid = participant.identity, participant.sid
    elif event.event == "room_finished":
        identity = sid = None
    else:
        return "ignored"  # room_started, track events, agents and other participants
    # The interview ended, and in the same transaction its recording (if one runs) is to be stopped: nothing after
    # the candidate's final departure is theirs to record.
    async with database.transaction() as conn:
        applied = await room_event_store.record_end(conn, event.id, event.room.name, at, identity=identity, sid=sid)
        if applied.outcome == "applied":
            await recording_store.stop_with_interview(conn, event.room.name)
    if applied.outcome == "applied":
        INTERVIEWS_ENDED.inc()
    return applied.outcome


async def apply_livekit_event(runtime: Runtime, event: WebhookEvent) -> str:
    """Apply one verified event; its outcome: applied, refused (a banned, locked or deleted candidate joined
    and was removed), duplicate, stale, rejoined, ignored or unknown_room; for an egress event, erased too (a file
    that landed after its recording was erased, queued for deletion)."""
    outcome = await _apply(runtime, event)
    LIVEKIT_WEBHOOKS.labels(event.event or "unknown", outcome).inc()
    return outcome
