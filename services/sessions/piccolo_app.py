"""The Piccolo app of the sessions service: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from services.sessions.tables import (
    AccessRecords,
    Consents,
    Decisions,
    ErasedOrganizations,
    ErasedUsers,
    FeedCursors,
    InterviewReports,
    Interviews,
    InterviewTemplates,
    InterviewTombstones,
    Invites,
    KnownUsers,
    LiveKitWebhookEvents,
    OrganizationSettings,
    Recordings,
    RoomRemovals,
    StorageDeletions,
    TemplateVersions,
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
        InterviewTemplates,
        TemplateVersions,
        Invites,
        ErasedOrganizations,
        Consents,
        Recordings,
        StorageDeletions,
        InterviewTombstones,
        Decisions,
        AccessRecords,
        OrganizationSettings,
    ],
)
