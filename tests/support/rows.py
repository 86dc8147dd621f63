"""Direct looks at what the services stored, for assertions about the state a request left behind."""

from datetime import UTC, datetime
from typing import Any

import asyncpg


async def rows(
    database_url: str, sql: str = "SELECT * FROM users ORDER BY clerk_id", *args: Any
) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        return [dict(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def user_row(database_url: str, clerk_id: str) -> dict[str, Any] | None:
    found = await rows(database_url, "SELECT * FROM users WHERE clerk_id = $1", clerk_id)
    return found[0] if found else None


async def interview_rows(database_url: str, sql: str = "SELECT * FROM interviews", *args: Any) -> list[dict[str, Any]]:
    return await rows(database_url, sql, *args)


def millis(value: datetime | None) -> int | None:
    return None if value is None else round(value.astimezone(UTC).timestamp() * 1000)
