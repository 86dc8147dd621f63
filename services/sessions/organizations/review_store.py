"""SQL for recruiters reviewing their organization's interviews: always by `org_id` (one organization never reads
another's), newest first by the index `interviews_by_org`."""

import uuid
from datetime import datetime

import asyncpg
import msgspec


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """Who the interview is with: their Clerk id, and the name and primary email identity knew when they
    redeemed the invite."""

    clerk_id: str
    name: str | None
    email: str | None


class OrgInterview(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    template_id: uuid.UUID | None
    template_version: int | None
    candidate: Candidate
    has_report: bool


_COLUMNS = """i.id, i.status, i.created_at, i.started_at, i.ended_at, i.template_id, i.template_version,
              i.clerk_id, i.candidate_name, i.candidate_email,
              EXISTS (SELECT 1 FROM interview_reports r WHERE r.interview = i.id) AS has_report"""


def _org_interview(row: asyncpg.Record) -> OrgInterview:
    return OrgInterview(
        id=row["id"],
        status=row["status"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        template_id=row["template_id"],
        template_version=row["template_version"],
        candidate=Candidate(clerk_id=row["clerk_id"], name=row["candidate_name"], email=row["candidate_email"]),
        has_report=row["has_report"],
    )


async def list_org_interviews(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    template_id: uuid.UUID | None,
    statuses: tuple[str, ...] | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[OrgInterview]:
    """The organization's interviews, newest first after the keyset `before`; of one template, in `statuses`."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM interviews i
            WHERE i.org_id = $1 AND ($2::uuid IS NULL OR i.template_id = $2)
              AND ($3::text[] IS NULL OR i.status = ANY($3::text[]))
              AND ($4::timestamptz IS NULL OR (i.created_at, i.id) < ($4, $5::uuid))
            ORDER BY i.created_at DESC, i.id DESC LIMIT $6""",
        org_id,
        template_id,
        list(statuses) if statuses else None,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [_org_interview(row) for row in rows]


async def find_org_interview(conn: asyncpg.Connection, org_id: str, interview_id: uuid.UUID) -> OrgInterview | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM interviews i WHERE i.id = $1 AND i.org_id = $2", interview_id, org_id
    )
    return None if row is None else _org_interview(row)
