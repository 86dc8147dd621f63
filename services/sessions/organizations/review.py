"""Recruiters review their organization's interviews: who, how far, with which template version, and what the
agent reported (the report always, whether or not the template shares it with the candidate)."""

import uuid

import asyncpg
import msgspec

from libs.common.db import Database
from libs.common.paging import decode_keyset, keyset_page
from services.sessions.agents import report_store
from services.sessions.agents.report_store import StoredReport
from services.sessions.consents import store as consent_store
from services.sessions.consents.store import Consent
from services.sessions.errors import InterviewNotFound
from services.sessions.interviews.reads import TranscriptPage, transcript_page
from services.sessions.organizations import review_store
from services.sessions.organizations.access import Recruiter
from services.sessions.organizations.review_store import OrgInterview
from services.sessions.recordings.playback import RecordingLink, playback_link
from services.sessions.runtime import Runtime


class OrgInterviewPage(msgspec.Struct, frozen=True):
    items: list[OrgInterview]
    next_cursor: str | None


class OrgInterviewDetail(OrgInterview, frozen=True, kw_only=True):
    report: StoredReport | None
    transcript_segments: int
    consents: list[Consent]


async def list_org_interviews(
    database: Database,
    recruiter: Recruiter,
    *,
    template_id: uuid.UUID | None,
    statuses: tuple[str, ...] | None,
    cursor: str | None,
    limit: int,
) -> OrgInterviewPage:
    """The organization's interviews, newest first, a page at a time."""
    before = decode_keyset(cursor) if cursor else None
    async with database.connection() as conn:
        rows = await review_store.list_org_interviews(
            conn, recruiter.org_id, template_id=template_id, statuses=statuses, before=before, limit=limit + 1
        )
    items, next_cursor = keyset_page(rows, limit)
    return OrgInterviewPage(items=items, next_cursor=next_cursor)


async def _of_organization(conn: asyncpg.Connection, recruiter: Recruiter, interview_id: uuid.UUID) -> OrgInterview:
    found = await review_store.find_org_interview(conn, recruiter.org_id, interview_id)
    if found is None:
        raise InterviewNotFound(f"No interview {interview_id} in your organization.")
    return found


async def read_org_interview(database: Database, recruiter: Recruiter, interview_id: uuid.UUID) -> OrgInterviewDetail:
    """One of the organization's interviews with the agent's report."""
    async with database.connection() as conn:
        found = await _of_organization(conn, recruiter, interview_id)
        report, segments = await report_store.report_of(conn, interview_id)
        consents = await consent_store.consents_of(conn, interview_id)
    return OrgInterviewDetail(
        **msgspec.structs.asdict(found), report=report, transcript_segments=segments, consents=consents
    )


async def read_org_transcript(
    database: Database, recruiter: Recruiter, interview_id: uuid.UUID, cursor: str | None, limit: int
) -> TranscriptPage:
    """One of the organization's interviews' transcript, a page at a time."""
    async with database.connection() as conn:
        await _of_organization(conn, recruiter, interview_id)
        return await transcript_page(conn, interview_id, cursor, limit)


async def read_org_recording(runtime: Runtime, recruiter: Recruiter, interview_id: uuid.UUID) -> RecordingLink:
    """A short-lived link to one of the organization's interviews' recording."""
    async with runtime.database.connection() as conn:
        await _of_organization(conn, recruiter, interview_id)
        return await playback_link(conn, runtime.storage, interview_id, runtime.settings.recording_url_seconds)
