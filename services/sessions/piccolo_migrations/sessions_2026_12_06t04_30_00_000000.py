from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigSerial, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

from services.sessions.piccolo_migrations.sessions_2026_11_25t10_33_00_000000 import START as PREVIOUS_START

ID = "2026-12-06T04:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "room removals queued beside the erasure; the users' feed read under a lease; unused interviews reused"

# The users' feed is no longer read inside a transaction held across identity's and LiveKit's HTTP calls: one
# replica at a time holds a short lease on the cursor row (renewed each poll, taken over once it runs out), and
# the room removals a deletion, ban or lock asks for are queued in `room_removals` in the transaction that
# records the change, then carried out and retried by whichever replica claims them.
#
# `start_interview` now hands back a user's unused interview (created, never joined) for the same agent, with
# its token's expiry moved on, instead of recording a new one: clients fetch a token on every page load, and
# those loads must neither pile up interviews nor count against the cap. Under the user's start lock, so
# concurrent starts make one interview. It returns the interview's id and room.
# The lease columns and `room_removals` are added by the manager below (after this raw SQL: the manager runs raw
# SQL first); room_removals' unique (room_name, clerk_id) and its index come with 2026-12-06T05:09:38.

SIGNATURE = (
    "uuid, text, text, text, timestamptz, integer, uuid, text, boolean, integer, integer"  # start_interview(...)
)

START = """
CREATE FUNCTION start_interview(
    p_id uuid, p_clerk_id text, p_room_name text, p_agent_name text, p_token_expires_at timestamptz,
    p_cap integer, p_user_id uuid, p_display_name text, p_answered boolean,
    p_reuse_seconds integer, p_feed_current_seconds integer
) RETURNS TABLE (outcome text, user_name text, interview_id uuid, room_name text) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_user_id uuid := p_user_id;
    v_name text := p_display_name;
    v_unused record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_clerk_id, 0));
    IF EXISTS (SELECT 1 FROM erased_users e WHERE e.clerk_id = p_clerk_id) THEN
        RETURN QUERY SELECT 'deleted', NULL::text, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    IF v_user_id IS NULL THEN
        SELECT r.user_id, r.display_name INTO v_user_id, v_name
        FROM recent_answer(p_clerk_id, p_reuse_seconds, p_feed_current_seconds) r;
        IF v_user_id IS NULL THEN
            RETURN QUERY SELECT 'unconfirmed', NULL::text, NULL::uuid, NULL::text;
            RETURN;
        END IF;
    ELSIF p_answered THEN
        INSERT INTO known_users AS k (clerk_id, user_id, display_name, confirmed_at)
        VALUES (p_clerk_id, p_user_id, p_display_name, now())
        ON CONFLICT (clerk_id) DO UPDATE
        SET user_id = EXCLUDED.user_id, display_name = EXCLUDED.display_name, confirmed_at = now(),
            banned = false, locked = false
        WHERE k.confirmed_at < now() - interval '1 minute'
           OR k.display_name <> EXCLUDED.display_name OR k.banned OR k.locked;
    END IF;
    UPDATE interviews i SET token_expires_at = GREATEST(i.token_expires_at, p_token_expires_at)
    WHERE i.id = (SELECT u.id FROM interviews u
                  WHERE u.clerk_id = p_clerk_id AND u.status = 'created'
                    AND u.agent_name IS NOT DISTINCT FROM p_agent_name
                  ORDER BY u.created_at DESC LIMIT 1)
    RETURNING i.id, i.room_name INTO v_unused;
    IF FOUND THEN
        RETURN QUERY SELECT 'reused', v_name, v_unused.id, v_unused.room_name::text;
        RETURN;
    END IF;
    IF (SELECT count(*) FROM interviews i
        WHERE i.clerk_id = p_clerk_id
          AND (i.status = 'active' OR (i.status = 'created' AND i.token_expires_at > now()))) >= p_cap THEN
        RETURN QUERY SELECT 'at_cap', v_name, NULL::uuid, NULL::text;
        RETURN;
    END IF;
    INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, agent_name, status,
                            token_expires_at)
    VALUES (p_id, v_user_id, p_clerk_id, p_room_name, p_clerk_id, p_agent_name, 'created', p_token_expires_at);
    RETURN QUERY SELECT 'started', v_name, p_id, p_room_name;
END
$$
"""

async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        for ddl in (f"DROP FUNCTION start_interview({SIGNATURE})", START):
            await engine_finder().run_ddl(ddl)

    async def backwards_ddl() -> None:
        for ddl in (f"DROP FUNCTION start_interview({SIGNATURE})", PREVIOUS_START):
            await engine_finder().run_ddl(ddl)

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)

    manager.add_table(
        class_name="RoomRemovals",
        tablename="room_removals",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="RoomRemovals",
        tablename="room_removals",
        column_name="id",
        db_column_name="id",
        column_class_name="BigSerial",
        column_class=BigSerial,
        params={
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
        table_class_name="RoomRemovals",
        tablename="room_removals",
        column_name="room_name",
        db_column_name="room_name",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 128,
            "default": "",
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

    manager.add_column(
        table_class_name="RoomRemovals",
        tablename="room_removals",
        column_name="clerk_id",
        db_column_name="clerk_id",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
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

    manager.add_column(
        table_class_name="RoomRemovals",
        tablename="room_removals",
        column_name="queued_at",
        db_column_name="queued_at",
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

    manager.add_column(
        table_class_name="RoomRemovals",
        tablename="room_removals",
        column_name="attempts",
        db_column_name="attempts",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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

    manager.add_column(
        table_class_name="RoomRemovals",
        tablename="room_removals",
        column_name="next_attempt_at",
        db_column_name="next_attempt_at",
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

    manager.add_column(
        table_class_name="FeedCursors",
        tablename="feed_cursors",
        column_name="leased_by",
        db_column_name="leased_by",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
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

    manager.add_column(
        table_class_name="FeedCursors",
        tablename="feed_cursors",
        column_name="leased_until",
        db_column_name="leased_until",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
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
