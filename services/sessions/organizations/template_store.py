"""SQL for interview templates and their versions. Every statement names the organization, so one never reads
or changes another's. Writes take the organization's lock shared (its erasure takes it alone) and write nothing
for an organization already erased."""

import uuid
from datetime import datetime

import asyncpg
import msgspec


class TemplateFields(msgspec.Struct, frozen=True, kw_only=True):
    """One version's content, checked by the domain; `rubric` as encoded JSON (None: no rubric)."""

    title: str
    instructions: str
    questions: list[str]
    rubric: bytes | None
    agent_name: str | None
    max_minutes: int | None
    share_report_with_candidate: bool
    notice: str | None
    recording: bool


class Template(msgspec.Struct, frozen=True, kw_only=True):
    """A template at one of its versions (the latest, unless asked for another; `latest_version` is the one new
    interviews start with)."""

    id: uuid.UUID
    version: int
    latest_version: int
    title: str
    instructions: str
    questions: list[str]
    rubric: msgspec.Raw | None
    agent_name: str | None
    max_minutes: int | None
    share_report_with_candidate: bool
    notice: str | None  # None: the service's default notice is shown
    recording: bool
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


_VERSION_COLUMNS = (
    "title, instructions, questions, rubric, agent_name, max_minutes, share_report_with_candidate, notice, recording"
)
_SELECTED = f"""t.id, v.version, t.latest_version, {", ".join(f"v.{c}" for c in _VERSION_COLUMNS.split(", "))},
               t.created_at, t.updated_at, t.archived_at"""


def _template(row: asyncpg.Record) -> Template:
    values = dict(row)
    if values["rubric"] is not None:
        values["rubric"] = msgspec.Raw(values["rubric"].encode())
    return Template(**values)


def _fields(fields: TemplateFields) -> tuple[object, ...]:
    rubric = fields.rubric.decode() if fields.rubric is not None else None
    return (
        fields.title,
        fields.instructions,
        fields.questions,
        rubric,
        fields.agent_name,
        fields.max_minutes,
        fields.share_report_with_candidate,
        fields.notice,
        fields.recording,
    )


async def hold_organization(conn: asyncpg.Connection, org_id: str) -> None:
    """The organization's lock, shared, to the end of the transaction: its erasure waits for this write, or this
    write comes after it and finds the organization erased."""
    await conn.execute("SELECT pg_advisory_xact_lock_shared(hashtextextended('org:' || $1, 0))", org_id)


_CREATE = f"""
WITH t AS (
    INSERT INTO interview_templates (id, org_id) SELECT $1, $2::text
    WHERE NOT EXISTS (SELECT 1 FROM erased_organizations e WHERE e.org_id = $2::text)
    RETURNING id, latest_version, created_at, updated_at, archived_at),
v AS (
    INSERT INTO template_versions (template, version, {_VERSION_COLUMNS})
    SELECT t.id, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM t
    RETURNING version, {_VERSION_COLUMNS})
SELECT {_SELECTED} FROM t, v
"""


async def create(
    conn: asyncpg.Connection, org_id: str, template_id: uuid.UUID, fields: TemplateFields
) -> Template | None:
    """A new template at version 1; None when the organization was erased. Inside the caller's transaction,
    after `hold_organization`."""
    row = await conn.fetchrow(_CREATE, template_id, org_id, *_fields(fields))
    return None if row is None else _template(row)


_ADD_VERSION = f"""
WITH t AS (
    UPDATE interview_templates SET latest_version = latest_version + 1, updated_at = now()
    WHERE id = $1 AND org_id = $2 AND archived_at IS NULL
    RETURNING id, latest_version, created_at, updated_at, archived_at),
v AS (
    INSERT INTO template_versions (template, version, {_VERSION_COLUMNS})
    SELECT t.id, t.latest_version, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM t
    RETURNING version, {_VERSION_COLUMNS})
SELECT {_SELECTED} FROM t, v
"""


async def add_version(
    conn: asyncpg.Connection, org_id: str, template_id: uuid.UUID, fields: TemplateFields
) -> Template | None:
    """The template's next version, now its latest; None when the organization has no such template that is
    not archived. Versions are never changed, so interviews keep the one they started with."""
    row = await conn.fetchrow(_ADD_VERSION, template_id, org_id, *_fields(fields))
    return None if row is None else _template(row)


async def find(
    conn: asyncpg.Connection, org_id: str, template_id: uuid.UUID, version: int | None = None
) -> Template | None:
    """The organization's template at `version` (its latest when None); None for anyone else's or none."""
    row = await conn.fetchrow(
        f"""SELECT {_SELECTED} FROM interview_templates t
            JOIN template_versions v ON v.template = t.id AND v.version = COALESCE($3, t.latest_version)
            WHERE t.id = $1 AND t.org_id = $2""",
        template_id,
        org_id,
        version,
    )
    return None if row is None else _template(row)


async def list_templates(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    archived: bool,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Template]:
    """The organization's templates at their latest versions, newest first, after the keyset `before`; archived
    ones too when `archived`."""
    rows = await conn.fetch(
        f"""SELECT {_SELECTED} FROM interview_templates t
            JOIN template_versions v ON v.template = t.id AND v.version = t.latest_version
            WHERE t.org_id = $1 AND ($2 OR t.archived_at IS NULL)
              AND ($3::timestamptz IS NULL OR (t.created_at, t.id) < ($3, $4::uuid))
            ORDER BY t.created_at DESC, t.id DESC LIMIT $5""",
        org_id,
        archived,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [_template(row) for row in rows]


async def archive(conn: asyncpg.Connection, org_id: str, template_id: uuid.UUID) -> bool:
    """Archive the template (again: no change); False when the organization has no such template."""
    archived = await conn.fetchval(
        """UPDATE interview_templates SET archived_at = COALESCE(archived_at, now())
           WHERE id = $1 AND org_id = $2 RETURNING true""",
        template_id,
        org_id,
    )
    return bool(archived)


async def is_archived(conn: asyncpg.Connection, org_id: str, template_id: uuid.UUID) -> bool | None:
    """Whether the organization's template is archived; None when it has no such template."""
    archived: bool | None = await conn.fetchval(
        "SELECT archived_at IS NOT NULL FROM interview_templates WHERE id = $1 AND org_id = $2", template_id, org_id
    )
    return archived
