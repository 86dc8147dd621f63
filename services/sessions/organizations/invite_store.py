"""SQL for invites: created for a template of the organization, listed, revoked, and redeemed (the database
function `redeem_invite` of the migrations: one statement under the user's start lock, the organization's lock
shared and, on a first use, the invite's row lock and the template's row shared).
An invite's code is never stored: only its SHA-256, unique, by which it is found."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import asyncpg
import msgspec

InviteState = Literal["pending", "used", "declined", "expired", "revoked"]

# Declined: its candidate refused the AI's evaluation (and has not consented since): recruiters may offer them
# another way.
_STATE = """CASE WHEN i.revoked_at IS NOT NULL THEN 'revoked'
                 WHEN i.redeemed_at IS NOT NULL THEN 'used'
                 WHEN EXISTS (SELECT 1 FROM consents c WHERE c.invite = i.id AND NOT c.given) THEN 'declined'
                 WHEN i.expires_at <= now() THEN 'expired'
                 ELSE 'pending' END"""


class Invite(msgspec.Struct, frozen=True, kw_only=True):
    """An invite as listed (without its code, which is not kept)."""

    id: uuid.UUID
    template_id: uuid.UUID
    email: str | None
    state: InviteState
    expires_at: datetime
    created_at: datetime
    redeemed_at: datetime | None
    interview_id: uuid.UUID | None


_COLUMNS = f"""i.id, i.template AS template_id, i.email, {_STATE} AS state, i.expires_at, i.created_at, i.redeemed_at,
               i.interview_id"""


async def create(
    conn: asyncpg.Connection,
    org_id: str,
    template_id: uuid.UUID,
    *,
    invite_id: uuid.UUID,
    code_hash: bytes,
    email: str | None,
    expires_in_seconds: int,
) -> Invite | None:
    """A pending invite to the organization's template; None when it has no such template that is not archived,
    or the organization was erased. Inside the caller's transaction, after `template_store.hold_organization`."""
    row = await conn.fetchrow(
        f"""WITH i AS (
                INSERT INTO invites (id, org_id, template, code_hash, email, expires_at)
                SELECT $1, t.org_id, t.id, $4, $5, now() + make_interval(secs => $6)
                FROM interview_templates t WHERE t.id = $2 AND t.org_id = $3 AND t.archived_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM erased_organizations e WHERE e.org_id = $3)
                RETURNING *)
            SELECT {_COLUMNS} FROM i""",
        invite_id,
        template_id,
        org_id,
        code_hash,
        email,
        expires_in_seconds,
    )
    return None if row is None else Invite(**dict(row))


async def list_invites(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    template_id: uuid.UUID | None,
    state: InviteState | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Invite]:
    """The organization's invites, newest first, after the keyset `before`; of one template, in one state."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM invites i
            WHERE i.org_id = $1 AND ($2::uuid IS NULL OR i.template = $2)
              AND ($3::text IS NULL OR {_STATE} = $3)
              AND ($4::timestamptz IS NULL OR (i.created_at, i.id) < ($4, $5::uuid))
            ORDER BY i.created_at DESC, i.id DESC LIMIT $6""",
        org_id,
        template_id,
        state,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [Invite(**dict(row)) for row in rows]


async def revoke(conn: asyncpg.Connection, org_id: str, invite_id: uuid.UUID) -> InviteState | None:
    """Revoke the invite unless it was used; the state it is in now (None: no such invite in the organization)."""
    state: InviteState | None = await conn.fetchval(
        f"""WITH revoked AS (
                UPDATE invites SET revoked_at = now()
                WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL AND redeemed_at IS NULL RETURNING id)
            SELECT CASE WHEN EXISTS (SELECT 1 FROM revoked) THEN 'revoked' ELSE {_STATE} END
            FROM invites i WHERE i.id = $1 AND i.org_id = $2""",
        invite_id,
        org_id,
    )
    return state


class NoticedTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """The template version a candidate is asked to consent to: its latest."""

    title: str
    version: int
    notice: str | None  # None: the service's default notice
    recording: bool
    max_minutes: int | None


class InviteLookup(msgspec.Struct, frozen=True, kw_only=True):
    """What a redemption (or its preview) looks at before asking identity anything: whose it is, whether it still
    opens, and what the candidate would consent to."""

    org_id: str
    redeemed_by: str | None
    used: bool
    closed: str | None  # revoked, expired, archived (its template); None: it opens
    names_email: bool
    template: NoticedTemplate


async def look_up(conn: asyncpg.Connection, code_hash: bytes) -> InviteLookup | None:
    row = await conn.fetchrow(
        """SELECT i.org_id, i.redeemed_by, i.redeemed_at IS NOT NULL AS used,
                  CASE WHEN i.revoked_at IS NOT NULL THEN 'revoked' WHEN i.expires_at <= now() THEN 'expired'
                       WHEN t.archived_at IS NOT NULL THEN 'archived' END AS closed,
                  i.email IS NOT NULL AS names_email,
                  v.title, v.version, v.notice, v.recording, v.max_minutes
           FROM invites i JOIN interview_templates t ON t.id = i.template
           JOIN template_versions v ON v.template = t.id AND v.version = t.latest_version
           WHERE i.code_hash = $1""",
        code_hash,
    )
    if row is None:
        return None
    template = NoticedTemplate(
        title=row["title"],
        version=row["version"],
        notice=row["notice"],
        recording=row["recording"],
        max_minutes=row["max_minutes"],
    )
    return InviteLookup(
        org_id=row["org_id"],
        redeemed_by=row["redeemed_by"],
        used=row["used"],
        closed=row["closed"],
        names_email=row["names_email"],
        template=template,
    )


async def opens_for_email(conn: asyncpg.Connection, code_hash: bytes, email: str | None) -> bool:
    """Whether the invite's email is `email` (the caller's verified primary email), ASCII case aside, as
    `redeem_invite` compares them (`ascii_casefold`)."""
    matches = await conn.fetchval(
        "SELECT ascii_casefold(email) = ascii_casefold($2) FROM invites WHERE code_hash = $1", code_hash, email
    )
    return bool(matches)


class GivenConsent(msgspec.Struct, frozen=True, kw_only=True):
    """What the candidate answered to the notice of `template_version`: the AI's evaluation (needed), and the
    recording (only asked when that version records; false: the interview runs unrecorded)."""

    template_version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    ai_evaluation: bool
    recording: bool = False


class NewRedemption(msgspec.Struct, frozen=True, kw_only=True):
    interview_id: uuid.UUID
    clerk_id: str
    room_name: str
    token_expires_at: datetime
    cap: int
    default_agent: str | None
    consent: GivenConsent | None


class Redemption(msgspec.Struct, frozen=True):
    """What `redeem_invite` did: `outcome` (started, reused, rejoined, or a refusal: deleted, unknown, other_user,
    ended, revoked, expired, archived, email_mismatch, consent_required, declined, at_cap) and the interview it
    handed out (for the two consent refusals, the template's latest version)."""

    outcome: str
    interview_id: uuid.UUID | None
    room_name: str | None
    agent_name: str | None
    template_id: uuid.UUID | None
    template_version: int | None
    user_name: str | None


async def redeem(
    conn: asyncpg.Connection,
    code_hash: bytes,
    new: NewRedemption,
    *,
    user_id: uuid.UUID,
    display_name: str,
    email: str | None,
    answered_now: bool,
) -> Redemption:
    row = await conn.fetchrow(
        """SELECT outcome, interview_id, room_name, agent_name, template_id, template_version, user_name
           FROM redeem_invite($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        code_hash,
        new.interview_id,
        new.clerk_id,
        new.room_name,
        new.token_expires_at,
        new.cap,
        user_id,
        display_name,
        email,
        answered_now,
        new.default_agent,
        new.consent.template_version if new.consent else None,
        new.consent.ai_evaluation if new.consent else None,
        new.consent.recording if new.consent else None,
    )
    assert row is not None
    return Redemption(*row)
