from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-25T10:32:21:102458"
VERSION = "1.38.0"
DESCRIPTION = "erased users, so that a start racing a deletion is refused"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="sessions", description=DESCRIPTION
    )

    manager.add_table(
        class_name="ErasedUsers",
        tablename="erased_users",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="ErasedUsers",
        tablename="erased_users",
        column_name="clerk_id",
        db_column_name="clerk_id",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ErasedUsers",
        tablename="erased_users",
        column_name="erased_at",
        db_column_name="erased_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
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
