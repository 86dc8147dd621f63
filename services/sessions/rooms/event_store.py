"""SQL for LiveKit's webhooks: each statement records the event id and applies it, or does nothing for a repeat."""

from datetime import datetime

import asyncpg
import msgspec

_EVENT = """WITH fresh AS (
                INSERT INTO livekit_webhook_events (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id),
            target AS (
                SELECT id, status, participant_sid FROM interviews
                WHERE room_name = $2 AND ($3::text IS NULL OR participant_identity = $3) FOR UPDATE),
            changed AS ({change})
            SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM fresh) THEN 'duplicate'
                        WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'unknown_room'
                        WHEN NOT EXISTS (SELECT 1 FROM changed) THEN 'stale'
                        ELSE 'applied' END AS outcome,
                   (SELECT before FROM changed) AS before"""

_JOINED = (
    _EVENT.format(
        change="""UPDATE interviews i
              SET status = CASE WHEN i.status = 'ended' THEN 'ended' ELSE 'active' END,
                  started_at = LEAST(COALESCE(i.started_at, $5), $5),
                  participant_sid = CASE WHEN i.participant_joined_ms > $6 THEN i.participant_sid ELSE $4 END,
                  participant_joined_ms = GREATEST(i.participant_joined_ms, $6)
              FROM target, fresh WHERE i.id = target.id
              RETURNING target.status AS before"""
    )
    + """,
                   EXISTS (SELECT 1 FROM known_users WHERE clerk_id = $3 AND (banned OR locked))
                   OR EXISTS (SELECT 1 FROM erased_users WHERE clerk_id = $3) AS refused"""
)

_ENDED = _EVENT.format(
    change="""UPDATE interviews i SET status = 'ended', ended_at = COALESCE(i.ended_at, $5)
              FROM target, fresh
              WHERE i.id = target.id AND target.status <> 'ended'
                AND ($4::text IS NULL OR target.participant_sid IS NULL OR target.participant_sid = $4)
              RETURNING target.status AS before"""
)


class Applied(msgspec.Struct, frozen=True):
    """What a webhook did: `outcome` (applied | duplicate | unknown_room | stale), the status before, and for
    a join whether the users' feed has reported the candidate banned, locked or deleted (`refused`)."""

    outcome: str
    before: str | None
    refused: bool = False


async def record_join(
    conn: asyncpg.Connection, event_id: str, room: str, *, identity: str, sid: str, at: datetime, joined_ms: int
) -> Applied:
    """The candidate joined: active (an ended interview stays ended), and `sid` becomes its current participant
    unless a later join is already recorded."""
    row = await conn.fetchrow(_JOINED, event_id, room, identity, sid, at, joined_ms)
    assert row is not None
    return Applied(row["outcome"], row["before"], row["refused"])


async def record_end(
    conn: asyncpg.Connection, event_id: str, room: str, at: datetime, *, identity: str | None, sid: str | None
) -> Applied:
    """Ended: by the room finishing (`identity` None), or by the candidate's current participant `sid`
    leaving (a leave of an older sid is `stale`)."""
    row = await conn.fetchrow(_ENDED, event_id, room, identity, sid, at)
    assert row is not None
    return Applied(row["outcome"], row["before"])
