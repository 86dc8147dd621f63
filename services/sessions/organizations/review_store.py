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


class OrgInterview(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="interview"):
    """An organization's interview as its recruiters list it; `kind` tells it from a tombstone in one list."""

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


class DeletedInterview(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="tombstone"):
    """What recruiters see of an interview its candidate deleted, or retention erased: nothing of its content."""

    id: uuid.UUID
    status: str = "deleted"
    deleted_by: str  # candidate | retention
    deleted_at: datetime


Listed = OrgInterview | DeletedInterview


async def list_org_interviews(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    template_id: uuid.UUID | None,
    statuses: tuple[str, ...] | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The organization's interviews, newest first after the keyset `before`; of one template, in `statuses` (the
    tombstones of deleted ones among them when `statuses` names `deleted` or none, and no template is asked for).
    Rows as fetched: `listed` makes them items."""
    rows = await conn.fetch(
        f"""SELECT * FROM (
                SELECT {_COLUMNS}, NULL AS deleted_by, NULL::timestamptz AS deleted_at FROM interviews i
                WHERE i.org_id = $1 AND ($2::uuid IS NULL OR i.template_id = $2)
                  AND ($3::text[] IS NULL OR i.status = ANY($3::text[]))
                  AND ($4::timestamptz IS NULL OR (i.created_at, i.id) < ($4, $5::uuid))
                UNION ALL
                SELECT t.id, 'deleted', t.created_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, t.deleted_by,
                       t.deleted_at
                FROM interview_tombstones t
                WHERE t.org_id = $1 AND $2::uuid IS NULL AND ($3::text[] IS NULL OR 'deleted' = ANY($3::text[]))
                  AND ($4::timestamptz IS NULL OR (t.created_at, t.id) < ($4, $5::uuid))
            ) listed ORDER BY created_at DESC, id DESC LIMIT $6""",
        org_id,
        template_id,
        list(statuses) if statuses else None,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return list(rows)


def listed(row: asyncpg.Record) -> Listed:
    if row["deleted_at"] is not None:
        return DeletedInterview(id=row["id"], deleted_by=row["deleted_by"], deleted_at=row["deleted_at"])
    return _org_interview(row)


async def find_tombstone(conn: asyncpg.Connection, org_id: str, interview_id: uuid.UUID) -> DeletedInterview | None:
    row = await conn.fetchrow(
        "SELECT id, deleted_by, deleted_at FROM interview_tombstones WHERE id = $1 AND org_id = $2",
        interview_id,
        org_id,
    )
    return None if row is None else DeletedInterview(**dict(row))


async def find_org_interview(conn: asyncpg.Connection, org_id: str, interview_id: uuid.UUID) -> OrgInterview | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM interviews i WHERE i.id = $1 AND i.org_id = $2", interview_id, org_id
    )
    return None if row is None else _org_interview(row)
