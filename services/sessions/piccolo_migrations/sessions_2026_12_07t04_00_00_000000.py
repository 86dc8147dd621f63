from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from services.sessions.piccolo_migrations.sessions_2026_12_06t11_00_00_000000 import REDEEM as PREVIOUS_REDEEM

ID = "2026-12-07T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "redeeming an invite: ASCII case folding only, under the organization's lock, the template held"

# What a review of organizations found in `redeem_invite`, mended in place (same arguments, same columns back, so
# replicas of the previous release keep calling it):
# - An invite's email was compared with `lower()`, which under a UTF-8 ctype maps the Kelvin sign (U+212A) to `k`:
#   an invite for kim@example.com opened for \u212aim@example.com. `ascii_casefold` folds A-Z alone, the one
#   place addresses are compared.
# - A redemption did not take the organization's lock: one coming back to its interview while the organization
#   was being erased got a fresh token for an interview erased a moment later. It now takes the lock shared, as
#   template writes do, before any invite row (the erasure takes the lock alone, then deletes the invites: this
#   order cannot deadlock), and refuses as an unknown code once the organization is erased.
# - A first use read the template without a lock: archiving it could answer 204 and a redemption that had read
#   it just before then committed a new interview for it. The template's row is now held shared: the archive
#   (an UPDATE) waits for the redemption, or the redemption waits for the archive and reads it archived (410).
CASEFOLD = """
CREATE FUNCTION ascii_casefold(p_text text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(p_text, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
$$
"""
_UNLOCKED = """    SELECT i.* INTO v_invite FROM invites i WHERE i.code_hash = p_code_hash;
    IF FOUND AND v_invite.redeemed_at IS NULL THEN
        SELECT i.* INTO v_invite FROM invites i WHERE i.id = v_invite.id FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
"""
_UNDER_THE_ORGANIZATION_S_LOCK = """    SELECT i.* INTO v_invite FROM invites i WHERE i.code_hash = p_code_hash;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unknown', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('org:' || v_invite.org_id, 0));
    IF EXISTS (SELECT 1 FROM erased_organizations e WHERE e.org_id = v_invite.org_id) THEN
        RETURN QUERY SELECT 'unknown', NULL::uuid, NULL::text, NULL::text, NULL::uuid, NULL::integer, NULL::text;
        RETURN;
    END IF;
    IF v_invite.redeemed_at IS NULL THEN
        SELECT i.* INTO v_invite FROM invites i WHERE i.id = v_invite.id FOR UPDATE;
    END IF;
"""
_TEMPLATE_READ = """    SELECT t.id, t.latest_version, t.archived_at INTO v_template FROM interview_templates t WHERE t.id = v_invite.template;
"""
_TEMPLATE_HELD = """    SELECT t.id, t.latest_version, t.archived_at INTO v_template FROM interview_templates t WHERE t.id = v_invite.template
    FOR SHARE;
"""
_LOWER = "lower(v_invite.email) IS DISTINCT FROM lower(p_email)"
_ASCII = "ascii_casefold(v_invite.email) IS DISTINCT FROM ascii_casefold(p_email)"
assert _UNLOCKED in PREVIOUS_REDEEM and _TEMPLATE_READ in PREVIOUS_REDEEM and _LOWER in PREVIOUS_REDEEM
REDEEM = (
    PREVIOUS_REDEEM.replace(_UNLOCKED, _UNDER_THE_ORGANIZATION_S_LOCK)
    .replace(_TEMPLATE_READ, _TEMPLATE_HELD)
    .replace(_LOWER, _ASCII)
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        await engine_finder().run_ddl(CASEFOLD)
        await engine_finder().run_ddl(REDEEM)

    async def backwards_ddl() -> None:
        await engine_finder().run_ddl(PREVIOUS_REDEEM)
        await engine_finder().run_ddl("DROP FUNCTION ascii_casefold(text)")

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)
    return manager
