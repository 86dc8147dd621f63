"""Invites: a link a recruiter sends one candidate. Its code (at least 128 random bits, URL-safe) is shown once,
when the invite is made; only its SHA-256 is kept, and a code is found by its hash alone (a wrong code costs the
same as a right one: one hash, one lookup by a unique index)."""

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from libs.common.db import Database
from libs.common.paging import decode_keyset, keyset_page
from services.sessions.errors import InviteNotFound, InviteUsed
from services.sessions.metrics import INVITES
from services.sessions.organizations import invite_store, template_store
from services.sessions.organizations.access import Recruiter
from services.sessions.organizations.invite_store import Invite, InviteState
from services.sessions.organizations.templates import unwritable

CODE_BYTES = 24  # 192 random bits, 32 URL-safe characters
DEFAULT_EXPIRY_SECONDS = 604_800
EMAIL = r"^[^@\s\x00]+@[^@\s\x00]+$"
"""An address as an invite names it: one `@`, no white space, and no NUL (PostgreSQL's text cannot hold it)."""


def code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


class InviteCreate(msgspec.Struct, frozen=True, kw_only=True):
    """`email`: only a user whose primary email this is, as Clerk verified it (ASCII case aside), may redeem it;
    null: anyone who has it."""

    email: Annotated[str, msgspec.Meta(max_length=320, pattern=EMAIL)] | None = None
    expires_in_seconds: Annotated[int, msgspec.Meta(ge=60, le=2_592_000)] = DEFAULT_EXPIRY_SECONDS


class CreatedInvite(msgspec.Struct, frozen=True, kw_only=True):
    """The invite as made: `code` and `url` are shown this once and never again."""

    id: uuid.UUID
    code: str
    url: str
    template_id: uuid.UUID
    email: str | None
    expires_at: datetime


class InvitePage(msgspec.Struct, frozen=True):
    items: list[Invite]
    next_cursor: str | None


async def create_invite(
    database: Database, recruiter: Recruiter, template_id: uuid.UUID, request: InviteCreate, url_template: str
) -> CreatedInvite:
    """A pending invite to the template (404 for another organization's, or one being erased with its
    organization; 409 for an archived one)."""
    code = secrets.token_urlsafe(CODE_BYTES)
    async with database.transaction() as conn:
        await template_store.hold_organization(conn, recruiter.org_id)
        stored = await invite_store.create(
            conn,
            recruiter.org_id,
            template_id,
            invite_id=uuid.uuid4(),
            code_hash=code_hash(code),
            email=request.email,
            expires_in_seconds=request.expires_in_seconds,
        )
        if stored is None:
            raise await unwritable(conn, recruiter, template_id, takes="new invite")
    INVITES.labels("created").inc()
    return CreatedInvite(
        id=stored.id,
        code=code,
        url=url_template.replace("{code}", code),
        template_id=stored.template_id,
        email=stored.email,
        expires_at=stored.expires_at,
    )


async def list_invites(
    database: Database,
    recruiter: Recruiter,
    *,
    template_id: uuid.UUID | None,
    state: InviteState | None,
    cursor: str | None,
    limit: int,
) -> InvitePage:
    """The organization's invites, newest first, a page at a time."""
    before = decode_keyset(cursor) if cursor else None
    async with database.connection() as conn:
        rows = await invite_store.list_invites(
            conn, recruiter.org_id, template_id=template_id, state=state, before=before, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit)
    return InvitePage(items=items, next_cursor=next_cursor)


async def revoke_invite(database: Database, recruiter: Recruiter, invite_id: uuid.UUID) -> None:
    """Revoke a pending (or expired) invite: its link answers 410 from now on. A used one is its candidate's
    (409); revoking again changes nothing."""
    async with database.connection() as conn:
        state = await invite_store.revoke(conn, recruiter.org_id, invite_id)
    if state is None:
        raise InviteNotFound(f"No invite {invite_id} in your organization.")
    if state == "used":
        raise InviteUsed(f"Invite {invite_id} was used: its interview is its candidate's.")
    INVITES.labels("withdrawn").inc()
