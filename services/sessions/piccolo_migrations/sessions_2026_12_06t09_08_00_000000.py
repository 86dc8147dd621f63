from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from services.sessions.piccolo_migrations.sessions_2026_12_06t04_30_00_000000 import START as PREVIOUS_START

ID = "2026-12-06T09:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "organizations: one version per number, the lists' orders, the organizations' feed, redeeming an invite"

# Rolling deploys: sessions replicas of the previous release run beside this schema. They only read and write
# columns that existed before (the new interview columns are nullable), and call `start_interview` with the same
# arguments and get the same columns back: it is replaced in place. From this release on it hands back only an
# unused interview started without an invite (one started by an invite comes back through its invite alone), and
# records the name the candidate starts under.
START = """
CREATE OR REPLACE FUNCTION start_interview(
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
                  WHERE u.clerk_id = p_clerk_id AND u.status = 'created' AND u.invite_id IS NULL
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
                            token_expires_at, candidate_name)
    VALUES (p_id, v_user_id, p_clerk_id, p_room_name, p_clerk_id, p_agent_name, 'created', p_token_expires_at,
            v_name);
    RETURN QUERY SELECT 'started', v_name, p_id, p_room_name;
END
$$
"""

# Redeeming an invite, in one statement under the user's start lock (the lock `start_interview` and the users'
# feed take), with the invite's row locked: of simultaneous first redemptions one binds the invite and the others
# find it bound to someone else. The user identity answered about (p_user_id, p_display_name, p_email, all
# given: a redemption asks identity, for the email) is remembered as a start remembers it.
# Outcomes: started (bound now; the interview pins the template's current version), reused / rejoined (the
# candidate it is bound to gets their interview back, an expired one revived with the new token, until it ends),
# and the refusals, nothing written: deleted, unknown, other_user, ended, revoked, expired, archived,
# email_mismatch, at_cap.
REDEEM = """
CREATE FUNCTION redeem_invite(
    p_code_hash bytea, p_id uuid, p_clerk_id text, p_room_name text, p_token_expires_at timestamptz,
    p_cap integer, p_user_id uuid, p_display_name text, p_email text, p_answered boolean, p_default_agent text
) RETURNS TABLE (outcome text, interview_id uuid, room_name text, agent_name text, template_id uuid,
                 template_version integer, user_name text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_invite record;
    v_template record;
    v_version record;
    v_held record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_clerk_id, 0));
    IF EXISTS (SELECT 1 FROM erased_users e WHERE e.clerk_id = p_clerk_id) THEN
        RETURN QUERY SELECT 'deleted', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    SELECT i.* INTO v_invite FROM invites i WHERE i.code_hash = p_code_hash FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    IF v_invite.redeemed_at IS NOT NULL THEN
        IF v_invite.redeemed_by IS DISTINCT FROM p_clerk_id THEN
            RETURN QUERY SELECT 'other_user', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer,
                                NULL::text;
            RETURN;
        END IF;
        SELECT i.id, i.status, i.room_name, i.agent_name, i.template_id, i.template_version INTO v_held
        FROM interviews i WHERE i.id = v_invite.interview_id FOR UPDATE;
        IF NOT FOUND OR v_held.status = 'ended' THEN
            RETURN QUERY SELECT 'ended', v_held.id, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
            RETURN;
        END IF;
        UPDATE interviews i
        SET token_expires_at = GREATEST(i.token_expires_at, p_token_expires_at),
            status = CASE WHEN i.status = 'expired' THEN 'created' ELSE i.status END
        WHERE i.id = v_held.id;
        RETURN QUERY SELECT CASE WHEN v_held.status = 'active' THEN 'rejoined' ELSE 'reused' END, v_held.id,
                            v_held.room_name::text, v_held.agent_name::text, v_held.template_id,
                            v_held.template_version, p_display_name;
        RETURN;
    END IF;
    IF v_invite.revoked_at IS NOT NULL THEN
        RETURN QUERY SELECT 'revoked', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    IF v_invite.expires_at <= now() THEN
        RETURN QUERY SELECT 'expired', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    SELECT t.id, t.latest_version, t.archived_at INTO v_template FROM interview_templates t WHERE t.id = v_invite.template;
    IF v_template.archived_at IS NOT NULL THEN
        RETURN QUERY SELECT 'archived', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    IF v_invite.email IS NOT NULL AND lower(v_invite.email) IS DISTINCT FROM lower(p_email) THEN
        RETURN QUERY SELECT 'email_mismatch', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer,
                            NULL::text;
        RETURN;
    END IF;
    IF p_answered THEN
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
        RETURN QUERY SELECT 'at_cap', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    SELECT v.version, v.agent_name, v.max_minutes INTO v_version
    FROM template_versions v WHERE v.template = v_template.id AND v.version = v_template.latest_version;
    INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, agent_name, status,
                            token_expires_at, candidate_name, org_id, template_id, template_version, invite_id,
                            candidate_email, max_seconds)
    VALUES (p_id, p_user_id, p_clerk_id, p_room_name, p_clerk_id, COALESCE(v_version.agent_name::text, p_default_agent),
            'created', p_token_expires_at, p_display_name, v_invite.org_id, v_template.id, v_version.version,
            v_invite.id, p_email, v_version.max_minutes * 60);
    UPDATE invites SET redeemed_at = now(), redeemed_by = p_clerk_id, interview_id = p_id WHERE id = v_invite.id;
    RETURN QUERY SELECT 'started', p_id, p_room_name, COALESCE(v_version.agent_name::text, p_default_agent),
                        v_template.id, v_version.version, p_display_name;
END
$$
"""

FORWARDS = (
    "ALTER TABLE template_versions ADD CONSTRAINT template_versions_template_version_key UNIQUE (template, version)",
    "CREATE INDEX interview_templates_by_org ON interview_templates (org_id, created_at DESC, id DESC)",
    "CREATE INDEX invites_by_org ON invites (org_id, created_at DESC, id DESC)",
    "CREATE INDEX invites_by_template ON invites (template)",
    "CREATE INDEX invites_by_candidate ON invites (redeemed_by) WHERE redeemed_by IS NOT NULL",
    """CREATE INDEX interviews_by_org ON interviews (org_id, created_at DESC, id DESC)
       WHERE org_id IS NOT NULL""",
    "INSERT INTO feed_cursors (feed, cursor) VALUES ('identity-organizations', '') ON CONFLICT DO NOTHING",
    START,
    REDEEM,
)
BACKWARDS = (
    "DROP FUNCTION redeem_invite(bytea, uuid, text, text, timestamptz, integer, uuid, text, text, boolean, text)",
    PREVIOUS_START.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1),
    "DELETE FROM feed_cursors WHERE feed = 'identity-organizations'",
    "DROP INDEX interviews_by_org",
    "DROP INDEX invites_by_candidate",
    "DROP INDEX invites_by_template",
    "DROP INDEX invites_by_org",
    "DROP INDEX interview_templates_by_org",
    "ALTER TABLE template_versions DROP CONSTRAINT template_versions_template_version_key",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        for ddl in FORWARDS:
            await engine_finder().run_ddl(ddl)

    async def backwards_ddl() -> None:
        for ddl in BACKWARDS:
            await engine_finder().run_ddl(ddl)

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)
    return manager
