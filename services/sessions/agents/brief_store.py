"""SQL for the agent's brief: an interview with the template version it pinned, as its agent reads it."""

import uuid

import asyncpg
import msgspec


class BriefTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """The template version an organization's interview pinned, as its agent reads it."""

    id: uuid.UUID
    version: int
    title: str
    instructions: str
    questions: list[str]
    rubric: msgspec.Raw | None
    max_minutes: int | None


class BriefRow(msgspec.Struct, frozen=True, kw_only=True):
    room_name: str
    status: str
    candidate_name: str | None
    template: BriefTemplate | None


async def brief(conn: asyncpg.Connection, interview_id: uuid.UUID) -> BriefRow | None:
    """The interview with the template version it pinned (None for one started without an invite)."""
    row = await conn.fetchrow(
        """SELECT i.room_name, i.status, i.candidate_name, v.template, v.version, v.title, v.instructions,
                  v.questions, v.rubric, v.max_minutes
           FROM interviews i
           LEFT JOIN template_versions v ON v.template = i.template_id AND v.version = i.template_version
           WHERE i.id = $1""",
        interview_id,
    )
    if row is None:
        return None
    template = None
    if row["template"] is not None:
        template = BriefTemplate(
            id=row["template"],
            version=row["version"],
            title=row["title"],
            instructions=row["instructions"],
            questions=row["questions"],
            rubric=msgspec.Raw(row["rubric"].encode()) if row["rubric"] is not None else None,
            max_minutes=row["max_minutes"],
        )
    return BriefRow(
        room_name=row["room_name"], status=row["status"], candidate_name=row["candidate_name"], template=template
    )
