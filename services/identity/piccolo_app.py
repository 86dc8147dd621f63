"""The Piccolo app of the identity service: its tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from services.identity.tables import OrganizationChanges, Organizations, UserChanges, Users, WebhookEvents

APP_CONFIG = AppConfig(
    app_name="identity",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Users, WebhookEvents, UserChanges, Organizations, OrganizationChanges],
)
