"""The Piccolo app of the sessions service: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from services.sessions.tables import (
    ErasedUsers,
    FeedCursors,
    InterviewReports,
    Interviews,
    KnownUsers,
    LiveKitWebhookEvents,
    RoomRemovals,
    TranscriptSegments,
)

APP_CONFIG = AppConfig(
    app_name="sessions",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Interviews,
        LiveKitWebhookEvents,
        KnownUsers,
        FeedCursors,
        ErasedUsers,
        RoomRemovals,
        TranscriptSegments,
        InterviewReports,
    ],
)
