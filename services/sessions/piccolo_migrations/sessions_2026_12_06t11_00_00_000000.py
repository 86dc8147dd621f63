from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from services.sessions.piccolo_migrations.sessions_2026_12_06t09_08_00_000000 import START as PREVIOUS_START

ID = "2026-12-06T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a repeated start writes nothing while its interview's recorded expiry already covers the new token"

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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        await engine_finder().run_ddl(START)

    async def backwards_ddl() -> None:
        await engine_finder().run_ddl(PREVIOUS_START)

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)
    return manager
