"""SQL for the feeds this service follows: each one's cursor, leased to one replica at a time."""

import asyncpg


async def lease_feed(conn: asyncpg.Connection, feed: str, holder: str, seconds: float) -> str | None:
    """The feed's cursor, if `holder` holds (or now takes) the feed's lease for `seconds`; None while another
    replica's lease runs."""
    value: str | None = await conn.fetchval(
        """UPDATE feed_cursors SET leased_by = $2, leased_until = now() + make_interval(secs => $3)
           WHERE feed = $1 AND (leased_by IS NULL OR leased_by = $2 OR leased_until < now())
           RETURNING cursor""",
        feed,
        holder,
        seconds,
    )
    return value


async def save_feed_cursor(
    conn: asyncpg.Connection, feed: str, holder: str, *, read_from: str, cursor: str, at_end: bool
) -> bool:
    """Where the next read starts, saved only if `holder` still holds the lease and nobody moved the cursor
    from `read_from` meanwhile (False otherwise: the caller rolls back what it applied). `at_end`: this read
    reached the end of the feed (`updated_at` says when the feed was last current)."""
    saved = await conn.fetchval(
        """UPDATE feed_cursors SET cursor = $4, updated_at = CASE WHEN $5 THEN now() ELSE updated_at END
           WHERE feed = $1 AND leased_by = $2 AND cursor = $3 RETURNING true""",
        feed,
        holder,
        read_from,
        cursor,
        at_end,
    )
    return bool(saved)
