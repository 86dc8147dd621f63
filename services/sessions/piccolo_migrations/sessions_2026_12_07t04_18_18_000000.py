from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from services.sessions.piccolo_migrations.sessions_2026_12_07t04_00_00_000000 import REDEEM as WITHOUT_CONSENT

ID = "2026-12-07T04:18:18:000000"
VERSION = "1.38.0"
DESCRIPTION = "consents: their indexes and checks, consent_now, and redeem_invite with the candidate's consent"

# Rolling deploys: the tables and columns of the previous migration are new (template_versions.recording defaults
# to false, notice to null), so replicas of the previous release read and write as before. They redeem through the
# eleven-argument `redeem_invite`, kept as it is for them (without asking consent) until the release after this one
# drops it; this release calls the fourteen-argument one below, which adds the candidate's consent.
#
# A consent is what its newest row of that scope says (append-only rows; a refusal may be followed by a consent,
# and a given one may be withdrawn): `consent_now`.
CONSENT_NOW = """
CREATE FUNCTION consent_now(p_invite uuid, p_clerk_id text, p_scope text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT c.given AND c.withdrawn_at IS NULL FROM consents c
                     WHERE c.invite = p_invite AND c.clerk_id = p_clerk_id AND c.scope = p_scope
                     ORDER BY c.id DESC LIMIT 1), false)
$$
"""

# A first redemption needs the candidate's consent to the AI's evaluation, for the template version they read
# (`p_consent_version`, the latest): without it, `consent_required` (nothing written) or, when they said no to the
# latest version, `declined` (a refusal recorded, once per version: the recruiters' invite list shows it). With it,
# the interview starts and the consents are recorded with it: the AI's evaluation given, and, when the version
# records, the recording as the candidate chose. Both refusals carry the latest version in `template_version`.
_SIGNATURE = "p_email text, p_answered boolean, p_default_agent text\n)"
_WITH_CONSENT = (
    "p_email text, p_answered boolean, p_default_agent text,\n"
    "    p_consent_version integer, p_ai_evaluation boolean, p_recording boolean\n)"
)
_BEFORE_REMEMBERING = """    IF p_answered THEN
        INSERT INTO known_users AS k (clerk_id, user_id, display_name, confirmed_at)"""
_CONSENT_FIRST = (
    """    SELECT v.version, v.agent_name, v.max_minutes, v.recording INTO v_version
    FROM template_versions v WHERE v.template = v_template.id AND v.version = v_template.latest_version;
    IF p_consent_version IS DISTINCT FROM v_version.version OR p_ai_evaluation IS NOT TRUE THEN
        IF p_consent_version = v_version.version AND p_ai_evaluation IS FALSE THEN
            INSERT INTO consents (invite, clerk_id, scope, template_version, given)
            SELECT v_invite.id, p_clerk_id, 'ai_evaluation', v_version.version, false
            WHERE NOT EXISTS (SELECT 1 FROM (SELECT c.given, c.template_version FROM consents c
                                             WHERE c.invite = v_invite.id AND c.clerk_id = p_clerk_id
                                               AND c.scope = 'ai_evaluation'
                                             ORDER BY c.id DESC LIMIT 1) newest
                              WHERE NOT newest.given AND newest.template_version = v_version.version);
            RETURN QUERY SELECT 'declined', NULL::uuid, NULL::text, NULL::text, v_template.id, v_version.version,
                                NULL::text;
            RETURN;
        END IF;
        RETURN QUERY SELECT 'consent_required', NULL::uuid, NULL::text, NULL::text, v_template.id,
                            v_version.version, NULL::text;
        RETURN;
    END IF;
"""
    + _BEFORE_REMEMBERING
)
_LATEST_READ_LATE = """    SELECT v.version, v.agent_name, v.max_minutes INTO v_version
    FROM template_versions v WHERE v.template = v_template.id AND v.version = v_template.latest_version;
"""
_BOUND = """    UPDATE invites SET redeemed_at = now(), redeemed_by = p_clerk_id, interview_id = p_id WHERE id = v_invite.id;
"""
_BOUND_WITH_CONSENTS = (
    _BOUND
    + """    INSERT INTO consents (invite, clerk_id, scope, template_version, given)
    VALUES (v_invite.id, p_clerk_id, 'ai_evaluation', v_version.version, true);
    IF v_version.recording THEN
        INSERT INTO consents (invite, clerk_id, scope, template_version, given)
        VALUES (v_invite.id, p_clerk_id, 'recording', v_version.version, COALESCE(p_recording, false));
    END IF;
"""
)
for part in (_SIGNATURE, _BEFORE_REMEMBERING, _LATEST_READ_LATE, _BOUND):
    assert WITHOUT_CONSENT.count(part) == 1, part
REDEEM = (
    WITHOUT_CONSENT.replace("CREATE OR REPLACE FUNCTION", "CREATE FUNCTION", 1)
    .replace(_SIGNATURE, _WITH_CONSENT)
    .replace(_LATEST_READ_LATE, "")
    .replace(_BEFORE_REMEMBERING, _CONSENT_FIRST)
    .replace(_BOUND, _BOUND_WITH_CONSENTS)
)

FORWARDS = (
    "CREATE INDEX consents_by_invite ON consents (invite, clerk_id, scope, id)",
    "CREATE INDEX consents_by_candidate ON consents (clerk_id)",
    "ALTER TABLE consents ADD CONSTRAINT consents_scope CHECK (scope IN ('ai_evaluation', 'recording'))",
    """ALTER TABLE recordings ADD CONSTRAINT recordings_status
       CHECK (status IN ('requested', 'active', 'complete', 'failed', 'erased'))""",
    """CREATE INDEX recordings_due ON recordings (next_attempt_at)
       WHERE (status = 'requested' AND egress_id IS NULL) OR stop_pending""",
    """CREATE INDEX recordings_quiet ON recordings (last_event_at)
       WHERE egress_id IS NOT NULL AND egress_ended_at IS NULL""",
    "CREATE INDEX storage_deletions_due ON storage_deletions (next_attempt_at) WHERE deleted_at IS NULL",
    CONSENT_NOW,
    REDEEM,
)
BACKWARDS = (
    """DROP FUNCTION redeem_invite(bytea, uuid, text, text, timestamptz, integer, uuid, text, text, boolean, text,
                                  integer, boolean, boolean)""",
    "DROP FUNCTION consent_now(uuid, text, text)",
    "DROP INDEX storage_deletions_due",
    "DROP INDEX recordings_quiet",
    "DROP INDEX recordings_due",
    "ALTER TABLE recordings DROP CONSTRAINT recordings_status",
    "ALTER TABLE consents DROP CONSTRAINT consents_scope",
    "DROP INDEX consents_by_candidate",
    "DROP INDEX consents_by_invite",
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
