from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from services.sessions.piccolo_migrations.sessions_2026_12_06t09_08_00_000000 import REDEEM as FIRST_REDEEM
from services.sessions.piccolo_migrations.sessions_2026_12_06t09_08_00_000000 import START as PREVIOUS_START

ID = "2026-12-06T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a repeated start, or an invite's repeated use, writes nothing while the recorded expiry covers the token"

# A start handing back the user's unused interview moved its `token_expires_at` on every call: a row version, and
# a WAL flush at commit, for each page load. It is now moved only when the new token outlives it; sessions
# records expiries rounded up to a thirtieth of the token's life (`ParticipantTokens.expiry`), so the starts of
# one such window write nothing. Same arguments, same columns back: replaced in place, and replicas of the
# previous release (which record unrounded expiries) keep working, writing as often as before.
_EVERY_TIME = """    UPDATE interviews i SET token_expires_at = GREATEST(i.token_expires_at, p_token_expires_at)
    WHERE i.id = (SELECT u.id FROM interviews u
                  WHERE u.clerk_id = p_clerk_id AND u.status = 'created' AND u.invite_id IS NULL
                    AND u.agent_name IS NOT DISTINCT FROM p_agent_name
                  ORDER BY u.created_at DESC LIMIT 1)
    RETURNING i.id, i.room_name INTO v_unused;
    IF FOUND THEN
"""
_WHEN_LATER = """    SELECT u.id, u.room_name, u.token_expires_at INTO v_unused FROM interviews u
    WHERE u.clerk_id = p_clerk_id AND u.status = 'created' AND u.invite_id IS NULL
      AND u.agent_name IS NOT DISTINCT FROM p_agent_name
    ORDER BY u.created_at DESC LIMIT 1;
    IF FOUND THEN
        IF v_unused.token_expires_at < p_token_expires_at THEN
            UPDATE interviews i SET token_expires_at = p_token_expires_at WHERE i.id = v_unused.id;
        END IF;
"""
assert _EVERY_TIME in PREVIOUS_START
START = PREVIOUS_START.replace(_EVERY_TIME, _WHEN_LATER)

# The same for `redeem_invite`: the candidate an invite is bound to, coming back to it (every page load of
# the invite's link), locked the invite's and the interview's rows and moved the expiry each time, all writes.
# Now only a first use locks the invite (read again under the lock: a simultaneous first use may have bound it
# meanwhile, and the invite is then someone else's or this candidate's, as before), and a return writes only
# to move the expiry past the new token's or to revive an expired interview. A return reads the interview
# without locking it, under the candidate's start lock: what the reconciler or a LiveKit webhook does to it
# meanwhile is as if it happened just after, as it could have then.
PREVIOUS_REDEEM = FIRST_REDEEM.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
_LOCKED_EACH_TIME = """    SELECT i.* INTO v_invite FROM invites i WHERE i.code_hash = p_code_hash FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
"""
_LOCKED_FOR_A_FIRST_USE = """    SELECT i.* INTO v_invite FROM invites i WHERE i.code_hash = p_code_hash;
    IF FOUND AND v_invite.redeemed_at IS NULL THEN
        SELECT i.* INTO v_invite FROM invites i WHERE i.id = v_invite.id FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
"""
_RETURN_WRITTEN = """        SELECT i.id, i.status, i.room_name, i.agent_name, i.template_id, i.template_version INTO v_held
        FROM interviews i WHERE i.id = v_invite.interview_id FOR UPDATE;
        IF NOT FOUND OR v_held.status = 'ended' THEN
            RETURN QUERY SELECT 'ended', v_held.id, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
            RETURN;
        END IF;
        UPDATE interviews i
        SET token_expires_at = GREATEST(i.token_expires_at, p_token_expires_at),
            status = CASE WHEN i.status = 'expired' THEN 'created' ELSE i.status END
        WHERE i.id = v_held.id;
"""
_RETURN_READ = """        SELECT i.id, i.status, i.room_name, i.agent_name, i.template_id, i.template_version, i.token_expires_at
        INTO v_held FROM interviews i WHERE i.id = v_invite.interview_id;
        IF NOT FOUND OR v_held.status = 'ended' THEN
            RETURN QUERY SELECT 'ended', v_held.id, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
            RETURN;
        END IF;
        IF v_held.status = 'expired' OR v_held.token_expires_at < p_token_expires_at THEN
            UPDATE interviews i
            SET token_expires_at = GREATEST(i.token_expires_at, p_token_expires_at),
                status = CASE WHEN i.status = 'expired' THEN 'created' ELSE i.status END
            WHERE i.id = v_held.id;
        END IF;
"""
assert _LOCKED_EACH_TIME in PREVIOUS_REDEEM and _RETURN_WRITTEN in PREVIOUS_REDEEM
REDEEM = PREVIOUS_REDEEM.replace(_LOCKED_EACH_TIME, _LOCKED_FOR_A_FIRST_USE).replace(_RETURN_WRITTEN, _RETURN_READ)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        await engine_finder().run_ddl(START)
        await engine_finder().run_ddl(REDEEM)

    async def backwards_ddl() -> None:
        await engine_finder().run_ddl(PREVIOUS_REDEEM)
        await engine_finder().run_ddl(PREVIOUS_START)

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)
    return manager
