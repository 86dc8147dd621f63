"""Who read what (EU AI Act Art. 12 and 26: a deployer keeps the logs of a high-risk system at least six months):
every recruiter's read of an interview's detail, transcript or recording leaves a record in the request that read it;
the organization's admins list them, and the candidate sees by role who read theirs."""

import base64
import binascii
import uuid
from datetime import datetime

import msgspec

from libs.common.db import Database
from libs.common.errors import InvalidCursor
from libs.common.paging import one_page
from services.sessions.organizations import access_store
from services.sessions.organizations.access import Recruiter
from services.sessions.organizations.access_store import AccessRecord


class AccessPage(msgspec.Struct, frozen=True):
    items: list[AccessRecord]
    next_cursor: str | None


def _cursor(record: AccessRecord) -> str:
    return base64.urlsafe_b64encode(f"{record.at.isoformat()}|{record.id}".encode()).decode().rstrip("=")


def _position(cursor: str) -> tuple[datetime, int]:
    try:
        at, record_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        position = datetime.fromisoformat(at), int(record_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor("The cursor is not one this service returned.") from error
    if position[0].utcoffset() is None or not 0 < position[1] < 2**63:
        raise InvalidCursor("The cursor is not one this service returned.")
    return position


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
    before = _position(cursor) if cursor else None
    async with database.connection() as conn:
        rows = await access_store.list_records(
            conn, admin.org_id, interview_id=interview_id, actor=actor, before=before, limit=limit + 1
        )
    items, next_cursor = one_page(rows, limit, _cursor)
    return AccessPage(items=items, next_cursor=next_cursor)
