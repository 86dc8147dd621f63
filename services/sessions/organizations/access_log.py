"""Who read what (EU AI Act Art. 12 and 26: a deployer keeps the logs of a high-risk system at least six months):
every recruiter's read of an interview's detail, transcript or recording leaves a record in the request that read it;
the organization's admins list them, and the candidate sees by role who read theirs."""

import uuid

import msgspec

from libs.common.db import Database
from libs.common.paging import bigserial, decode_position, encode_keyset, one_page
from services.sessions.organizations import access_store
from services.sessions.organizations.access import Recruiter
from services.sessions.organizations.access_store import AccessRecord


class AccessPage(msgspec.Struct, frozen=True):
    items: list[AccessRecord]
    next_cursor: str | None


async def list_access(
    database: Database,
    admin: Recruiter,
    *,
    interview_id: uuid.UUID | None,
    actor: str | None,
    cursor: str | None,
    limit: int,
) -> AccessPage:
    """The organization's access records, newest first, a page at a time."""
    before = decode_position(cursor, bigserial) if cursor else None
    async with database.connection() as conn:
        rows = await access_store.list_records(
            conn, admin.org_id, interview_id=interview_id, actor=actor, before=before, limit=limit + 1
        )
    items, next_cursor = one_page(rows, limit, lambda last: encode_keyset(last.at, last.id))
    return AccessPage(items=items, next_cursor=next_cursor)
