"""SQL for retention: the interviews past it, a batch at a time, and access records past theirs. An interview's end
is its `ended_at`, or for one nobody joined (expired) its token's expiry; its retention is its organization's
`retention_days` as set now, or `INTERVIEW_RETENTION_DAYS` for one outside any organization (an organization
without a setting keeps its interviews)."""

import uuid

import asyncpg

from libs.common.db import rows_affected

_PAST = """
FROM interviews i LEFT JOIN organization_settings s ON s.org_id = i.org_id
WHERE i.status IN ('ended', 'expired')
  AND COALESCE(i.ended_at, i.token_expires_at)
      < now() - make_interval(days => CASE WHEN i.org_id IS NULL THEN $1::int ELSE s.retention_days END)
"""


async def claim_past_retention(conn: asyncpg.Connection, plain_days: int | None, limit: int) -> list[uuid.UUID]:
    """Up to `limit` interviews past their retention, locked (skipping any another transaction holds: a replica's
    run, a webhook), oldest first."""
    rows = await conn.fetch(
        f"SELECT i.id {_PAST} ORDER BY COALESCE(i.ended_at, i.token_expires_at) LIMIT $2 FOR UPDATE OF i SKIP LOCKED",
        plain_days,
        limit,
    )
    return [row["id"] for row in rows]


async def retention_lag_seconds(conn: asyncpg.Connection, plain_days: int | None) -> float:
    """How far past its retention the oldest interview still kept is; 0 when none is."""
    lag = await conn.fetchval(
        f"""SELECT COALESCE(extract(epoch FROM max(now() - COALESCE(i.ended_at, i.token_expires_at)
                   - make_interval(days => CASE WHEN i.org_id IS NULL THEN $1::int ELSE s.retention_days END))), 0)
            {_PAST}""",
        plain_days,
    )
    return float(lag)


async def prune_access_records(conn: asyncpg.Connection, retention_days: int, limit: int) -> int:
    """Delete up to `limit` access records older than `retention_days`, oldest first; how many."""
    deleted = await conn.execute(
        """DELETE FROM access_records WHERE id IN (
               SELECT id FROM access_records WHERE at < now() - make_interval(days => $1)
               ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)""",
        retention_days,
        limit,
    )
    return rows_affected(deleted)
