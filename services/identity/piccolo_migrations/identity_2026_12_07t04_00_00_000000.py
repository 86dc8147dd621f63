from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "users: whether Clerk verified the primary email"

# Rolling deploys: a nullable column without a default is a catalogue change only (no table rewrite), and
# identity replicas of the previous release neither read nor write it. A row it writes meanwhile keeps what the
# column said, so an email-bound invite trusts an email only once Clerk's own data (a webhook, the backfill or
# the Backend API, written by this release) said it is verified; every row starts as "Clerk has not said".


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Users",
        tablename="users",
        column_name="email_verified",
        db_column_name="email_verified",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
