"""Disconnecting users who may no longer be in a room (deleted, banned or locked), through RoomService.

Removals are queued in `room_removals` by the transaction that records why (the users' feed, or a LiveKit
webhook reporting such a user's join), so none is lost with a process, and none holds a database transaction
open while LiveKit answers. Every replica runs the queue about once a second: it claims the removals that are
due (each claim puts the row off, so no other replica tries it meanwhile), asks LiveKit for all of them at
once, and deletes each one LiveKit took (a participant or room already gone counts as taken). A failed one is
retried with a growing delay, logged once per user and room (on its first failure) and counted each time, until
`MAX_INTERVIEW_SECONDS` after it was queued: no interview room lasts longer.
"""

import asyncio
import logging

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from libs.common.livekit_api import LiveKitUnavailable
from services.sessions.metrics import ROOM_REMOVALS
from services.sessions.rooms import removal_store as store
from services.sessions.rooms.room_service import LiveKitRooms

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 50
CLAIM_SECONDS = 30.0  # longer than a RoomService call may take (LiveKitRooms' timeout)
MAX_RETRY_SECONDS = 30.0


def retry_delay(attempts: int) -> float:
    """Seconds before another try, after `attempts` failed ones: 1, 2, 4, ... up to 30."""
    return float(min(MAX_RETRY_SECONDS, 2 ** min(attempts, 5)))


async def _remove(rooms: LiveKitRooms, removal: store.RoomRemoval) -> bool:
    try:
        await rooms.remove_participant(removal.room_name, removal.clerk_id)
    except LiveKitUnavailable as error:
        ROOM_REMOVALS.labels("failed").inc()
        if removal.attempts == 0:
            logger.warning(
                "could not remove %s from room %s (%s); retrying until LiveKit takes it",
                removal.clerk_id,
                removal.room_name,
                error,
            )
        return False
    ROOM_REMOVALS.labels("removed").inc()
    if removal.attempts:
        logger.info(
            "removed %s from room %s after %d failed tries", removal.clerk_id, removal.room_name, removal.attempts
        )
    return True


async def remove_due(database: Database, rooms: LiveKitRooms, give_up_seconds: int) -> int:
    """One round: try every due removal at once; how many were claimed."""
    async with database.connection() as conn:
        due = await store.claim_room_removals(conn, BATCH, CLAIM_SECONDS)
    if not due:
        return 0
    taken = await asyncio.gather(*(_remove(rooms, removal) for removal in due))
    async with database.connection() as conn:
        for removal, done in zip(due, taken, strict=True):
            if done:
                await store.room_removal_done(conn, removal)
            elif await store.give_up_room_removal(conn, removal, give_up_seconds):
                ROOM_REMOVALS.labels("given_up").inc()
                logger.warning(
                    "gave up removing %s from room %s: LiveKit has not taken it in %d s",
                    removal.clerk_id,
                    removal.room_name,
                    give_up_seconds,
                )
            else:
                await store.room_removal_failed(conn, removal, retry_delay(removal.attempts))
    return len(due)


def removals_task(database: Database, rooms: LiveKitRooms, give_up_seconds: int) -> Periodic:
    """For the app's life: a round about once a second, at once again after a full batch."""

    async def removals_round() -> float | None:
        return 0 if await remove_due(database, rooms, give_up_seconds) >= BATCH else None

    return Periodic(
        name="room_removals", run_round=removals_round, every_seconds=POLL_SECONDS, outages=(DatabaseUnavailable,)
    )
