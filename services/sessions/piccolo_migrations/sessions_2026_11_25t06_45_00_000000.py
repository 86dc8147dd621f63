from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T06:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a start within the open-interviews cap in one round trip"

# One statement from the service, so a start costs one round trip, not four (BEGIN, lock, insert, COMMIT).
# The user's starts queue on an advisory lock held to the end of the caller's statement, and every statement of
# a VOLATILE function takes a fresh snapshot, so the count sees the rows of starts that went before: concurrent
# starts cannot pass the cap together. Open: joined and not ended, or not joined yet with a token still valid (a
# stale `created` one is as good as expired, even before the reconciler marks it).
FUNCTION = """
CREATE OR REPLACE FUNCTION start_interview_within_cap(
    p_id uuid, p_user_id uuid, p_clerk_id text, p_room_name text, p_agent_name text,
    p_token_expires_at timestamptz, p_display_name text, p_cap integer
) RETURNS SETOF interviews LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_clerk_id, 0));
    -- identity has just confirmed the user: what a start may fall back on while identity is down
    INSERT INTO known_users (clerk_id, user_id, display_name, confirmed_at)
    VALUES (p_clerk_id, p_user_id, p_display_name, now())
    ON CONFLICT (clerk_id) DO UPDATE
    SET user_id = EXCLUDED.user_id, display_name = EXCLUDED.display_name, confirmed_at = now(),
        banned = false, locked = false
    WHERE known_users.confirmed_at < now() - interval '1 minute'
       OR known_users.display_name <> EXCLUDED.display_name OR known_users.banned OR known_users.locked;
    IF (SELECT count(*) FROM interviews
        WHERE clerk_id = p_clerk_id
          AND (status = 'active' OR (status = 'created' AND token_expires_at > now()))) >= p_cap THEN
        RETURN;
    END IF;
    RETURN QUERY
        INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, agent_name, status,
                                token_expires_at)
        VALUES (p_id, p_user_id, p_clerk_id, p_room_name, p_clerk_id, p_agent_name, 'created', p_token_expires_at)
        RETURNING *;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def add_the_function() -> None:
        await engine_finder().run_ddl(FUNCTION)

    manager.add_raw(add_the_function)
    return manager
