"""Interview templates: what an organization's agent asks and how it judges, written once by a recruiter.
Each write is a new, immutable version (an interview pins the one it started with); archiving stops new invites
and keeps everything else."""

import uuid
from typing import Annotated, Any

import asyncpg
import msgspec

from libs.common.db import NO_NUL, Database
from libs.common.json_bounds import bounded_json
from libs.common.paging import decode_keyset, keyset_page
from services.sessions.errors import InvalidTemplate, NoActiveOrganization, TemplateArchived, TemplateNotFound
from services.sessions.metrics import ORG_TEMPLATES
from services.sessions.organizations import template_store
from services.sessions.organizations.access import Recruiter
from services.sessions.organizations.template_store import Template, TemplateFields
from services.sessions.settings import SessionsSettings

MAX_TITLE_CHARS = 200
MAX_INSTRUCTIONS_BYTES = 16 * 1024
MAX_QUESTIONS = 50
MAX_QUESTION_BYTES = 2 * 1024
MAX_RUBRIC_BYTES = 16 * 1024
MAX_RUBRIC_DEPTH = 64
MAX_NOTICE_BYTES = 8 * 1024


class TemplateWrite(msgspec.Struct, frozen=True, kw_only=True):
    """A template's content. Sizes in KiB are UTF-8 bytes (so the characters stated here are their upper bound),
    `rubric`'s of its encoded JSON; `title` is counted in characters. `agent_name`: one of `LIVEKIT_AGENTS`, or
    null for the default agent. `max_minutes`: at most `MAX_INTERVIEW_SECONDS` / 60. `notice`: what the candidate
    is told the AI looks at and how it is used, before they consent (null: the service's default notice).
    `recording`: the interview is recorded if its candidate consents (only where a bucket is configured)."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TITLE_CHARS, pattern=NO_NUL)]
    instructions: Annotated[str, msgspec.Meta(max_length=MAX_INSTRUCTIONS_BYTES, pattern=NO_NUL)] = ""
    questions: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=MAX_QUESTION_BYTES, pattern=NO_NUL)]],
        msgspec.Meta(max_length=MAX_QUESTIONS),
    ] = []
    rubric: Any = None
    agent_name: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    max_minutes: Annotated[int, msgspec.Meta(ge=1)] | None = None
    share_report_with_candidate: bool = False
    notice: Annotated[str, msgspec.Meta(max_length=MAX_NOTICE_BYTES, pattern=NO_NUL)] | None = None
    recording: bool = False


class TemplatePage(msgspec.Struct, frozen=True):
    items: list[Template]
    next_cursor: str | None


def _checked(write: TemplateWrite, settings: SessionsSettings) -> TemplateFields:
    """The bounds a struct cannot state (UTF-8 bytes, JSON size and depth, the configured agents and length)."""
    if len(write.instructions.encode()) > MAX_INSTRUCTIONS_BYTES:
        raise InvalidTemplate(f"instructions is over {MAX_INSTRUCTIONS_BYTES} bytes (UTF-8).")
    for index, question in enumerate(write.questions):
        if len(question.encode()) > MAX_QUESTION_BYTES:
            raise InvalidTemplate(f"questions[{index}] is over {MAX_QUESTION_BYTES} bytes (UTF-8).")
    rubric = None
    if write.rubric is not None:
        rubric, problem = bounded_json(write.rubric, max_bytes=MAX_RUBRIC_BYTES, max_depth=MAX_RUBRIC_DEPTH)
        if problem:
            raise InvalidTemplate(f"rubric {problem}.")
    if write.agent_name is not None and write.agent_name not in settings.allowed_agents:
        raise InvalidTemplate("agent_name is not an agent this service dispatches (LIVEKIT_AGENTS).")
    if write.notice is not None and len(write.notice.encode()) > MAX_NOTICE_BYTES:
        raise InvalidTemplate(f"notice is over {MAX_NOTICE_BYTES} bytes (UTF-8).")
    if write.recording and not settings.recording_enabled:
        raise InvalidTemplate("recording: this service keeps no recordings (no RECORDINGS_S3_BUCKET is configured).")
    longest = settings.max_interview_seconds // 60
    if write.max_minutes is not None and write.max_minutes > longest:
        raise InvalidTemplate(f"max_minutes is over {longest} (MAX_INTERVIEW_SECONDS).")
    return TemplateFields(
        title=write.title,
        instructions=write.instructions,
        questions=write.questions,
        rubric=rubric,
        agent_name=write.agent_name,
        max_minutes=write.max_minutes,
        share_report_with_candidate=write.share_report_with_candidate,
        notice=write.notice,
        recording=write.recording,
    )


async def create_template(
    database: Database, settings: SessionsSettings, recruiter: Recruiter, write: TemplateWrite
) -> Template:
    """A new template of the recruiter's organization, at version 1."""
    fields = _checked(write, settings)
    async with database.transaction() as conn:
        await template_store.hold_organization(conn, recruiter.org_id)
        stored = await template_store.create(conn, recruiter.org_id, uuid.uuid4(), fields)
    if stored is None:
        raise NoActiveOrganization(f"Organization {recruiter.org_id} was deleted.")
    ORG_TEMPLATES.labels("created").inc()
    return stored


async def update_template(
    database: Database, settings: SessionsSettings, recruiter: Recruiter, template_id: uuid.UUID, write: TemplateWrite
) -> Template:
    """The template's next version; the versions before stay as they were (409 for an archived template)."""
    fields = _checked(write, settings)
    async with database.transaction() as conn:
        await template_store.hold_organization(conn, recruiter.org_id)
        stored = await template_store.add_version(conn, recruiter.org_id, template_id, fields)
        if stored is None:
            raise await unwritable(conn, recruiter, template_id, takes="new version")
    ORG_TEMPLATES.labels("updated").inc()
    return stored


async def unwritable(
    conn: asyncpg.Connection, recruiter: Recruiter, template_id: uuid.UUID, *, takes: str
) -> Exception:
    """Why a write to the template found none to write to: it is archived (409), or not the organization's (404)."""
    if await template_store.is_archived(conn, recruiter.org_id, template_id):
        return TemplateArchived(f"Template {template_id} is archived: it takes no {takes}.")
    return TemplateNotFound(f"No template {template_id} in your organization.")


async def read_template(
    database: Database, recruiter: Recruiter, template_id: uuid.UUID, version: int | None
) -> Template:
    """The template at its latest version, or at `version`."""
    async with database.connection() as conn:
        stored = await template_store.find(conn, recruiter.org_id, template_id, version)
    if stored is None:
        which = f" version {version}" if version is not None else ""
        raise TemplateNotFound(f"No template {template_id}{which} in your organization.")
    return stored


async def list_templates(
    database: Database, recruiter: Recruiter, *, archived: bool, cursor: str | None, limit: int
) -> TemplatePage:
    """The organization's templates, newest first, a page at a time."""
    before = decode_keyset(cursor) if cursor else None
    async with database.connection() as conn:
        rows = await template_store.list_templates(
            conn, recruiter.org_id, archived=archived, before=before, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit)
    return TemplatePage(items=items, next_cursor=next_cursor)


async def archive_template(database: Database, recruiter: Recruiter, template_id: uuid.UUID) -> None:
    """Archive the template: no new invite, its unredeemed invites refused, its interviews kept."""
    async with database.connection() as conn:
        archived = await template_store.archive(conn, recruiter.org_id, template_id)
    if not archived:
        raise TemplateNotFound(f"No template {template_id} in your organization.")
    ORG_TEMPLATES.labels("archived").inc()
