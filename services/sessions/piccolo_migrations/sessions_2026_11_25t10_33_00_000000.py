from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T10:33:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a start of a user the users' feed reported deleted is refused"

# The start statement of 2026-11-25T08:30, refusing ('deleted') a user in `erased_users` once it holds the
# user's start lock. The users' feed takes that lock to erase a deleted user and record them there, so a start
# that asked identity just before the deletion, and writes after the erasure, no longer leaves a row behind.
START = """
CREATE OR REPLACE FUNCTION start_interview(
    p_id uuid, p_clerk_id text, p_room_name text, p_agent_name text, p_token_expires_at timestamptz,
    p_cap integer, p_user_id uuid, p_display_name text, p_answered boolean,
    p_reuse_seconds integer, p_feed_current_seconds integer
) RETURNS TABLE (outcome text, user_name text) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_user_id uuid := p_user_id;
    v_name text := p_display_name;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_clerk_id, 0));
    IF EXISTS (SELECT 1 FROM erased_users e WHERE e.clerk_id = p_clerk_id) THEN
        RETURN QUERY SELECT 'deleted', NULL::text;
        RETURN;
    END IF;
    IF v_user_id IS NULL THEN
        SELECT r.user_id, r.display_name INTO v_user_id, v_name
        FROM recent_answer(p_clerk_id, p_reuse_seconds, p_feed_current_seconds) r;
        IF v_user_id IS NULL THEN
            RETURN QUERY SELECT 'unconfirmed', NULL::text;
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
    IF (SELECT count(*) FROM interviews i
        WHERE i.clerk_id = p_clerk_id
          AND (i.status = 'active' OR (i.status = 'created' AND i.token_expires_at > now()))) >= p_cap THEN
        RETURN QUERY SELECT 'at_cap', v_name;
        RETURN;
    END IF;
    INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, agent_name, status,
                            token_expires_at)
    VALUES (p_id, v_user_id, p_clerk_id, p_room_name, p_clerk_id, p_agent_name, 'created', p_token_expires_at);
    RETURN QUERY SELECT 'started', v_name;
END
$$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def refuse_erased_users() -> None:
        await engine_finder().run_ddl(START)

    manager.add_raw(refuse_erased_users)
    return manager
