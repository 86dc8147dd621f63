from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a start reuses identity's recent answer while the users' feed is current"

# `recent_answer`: identity's answer about a user of the last p_within_seconds, unless the users' feed has since
# reported them banned or locked (deleted users' rows are erased); with p_feed_current_seconds, only while the
# feed was read to its end that recently, so that bans and deletions have reached this table.
#
# One statement from the service for a start, as before, now also for a user identity confirmed recently:
# - p_user_id NULL: nobody asked identity. The user starts on its recent answer (p_reuse_seconds, the feed
#   current within p_feed_current_seconds); without one: 'unconfirmed', nothing written.
# - p_user_id given: identity answered just now (p_answered) or, while it is unreachable, within
#   IDENTITY_STALE_IF_ERROR_SECONDS. Only an answer given just now is remembered (at most once a minute).
# Then the cap: the user's starts queue on an advisory lock held to the end of the caller's statement, and
# every statement of a VOLATILE function takes a fresh snapshot, so the count sees the rows of starts that went
# before and concurrent starts cannot pass the cap together. Open: joined and not ended, or not joined yet with
# a token still valid. The outcome is 'started', 'at_cap' or 'unconfirmed', with the name the user starts under.
LOOKUP = """
CREATE OR REPLACE FUNCTION recent_answer(p_clerk_id text, p_within_seconds integer, p_feed_current_seconds integer)
RETURNS TABLE (user_id uuid, display_name text) LANGUAGE sql STABLE AS $$
    SELECT k.user_id, k.display_name FROM known_users k
    WHERE k.clerk_id = p_clerk_id AND NOT k.banned AND NOT k.locked
      AND k.confirmed_at > now() - make_interval(secs => p_within_seconds)
      AND (p_feed_current_seconds IS NULL
           OR EXISTS (SELECT 1 FROM feed_cursors f
                      WHERE f.feed = 'identity-users'
                        AND f.updated_at > now() - make_interval(secs => p_feed_current_seconds)))
$$
"""

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

OLD_FUNCTION = "DROP FUNCTION IF EXISTS start_interview_within_cap(uuid, uuid, text, text, text, timestamptz, text, integer)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def replace_the_function() -> None:
        for ddl in (OLD_FUNCTION, LOOKUP, START):
            await engine_finder().run_ddl(ddl)

    manager.add_raw(replace_the_function)
    return manager
