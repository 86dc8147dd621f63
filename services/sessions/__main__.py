"""`python -m services.sessions migrate | serve --host H --port P | reconcile`."""

import asyncio
import sys

import msgspec

from libs.common.cli import Command, run_service
from libs.common.db import Database, DatabaseUnavailable
from libs.common.livekit_api import LiveKitServer, LiveKitUnavailable
from services.sessions.rooms.reconciler import reconcile_once
from services.sessions.rooms.room_service import LiveKitRooms
from services.sessions.settings import SessionsSettings, load_sessions_settings


async def _reconcile(settings: SessionsSettings) -> int:
    database = Database(settings.database_url, max_size=2)
    await database.open()
    try:
        async with LiveKitServer(
            settings.room_service_url, settings.livekit_api_key, settings.livekit_api_secret
        ) as server:
            report = await reconcile_once(
                database, LiveKitRooms(server), settings.max_interview_seconds, settings.agent_report_grace_seconds
            )
    except (LiveKitUnavailable, DatabaseUnavailable) as error:
        print(f"reconcile stopped: {error}; run it again (every change it made is kept)", file=sys.stderr)
        return 1
    finally:
        await database.close()
    print(msgspec.json.encode(report).decode())
    return 0


RECONCILE = Command(
    help="one interview reconciler pass against LiveKit's RoomService (for a CronJob when the loop is off)",
    run=lambda settings, _: asyncio.run(_reconcile(settings)),
)

if __name__ == "__main__":
    run_service(
        name="sessions",
        piccolo_app="sessions",
        piccolo_conf="services.sessions.piccolo_conf",
        load_settings=load_sessions_settings,
        app_factory="services.sessions.app:app_from_environment",
        commands={"reconcile": RECONCILE},
    )
