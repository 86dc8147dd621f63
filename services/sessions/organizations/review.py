"""Recruiters review their organization's interviews: who, how far, with which template version, and what the
agent reported (the report always, whether or not the template shares it with the candidate)."""

import uuid
from typing import Annotated

import asyncpg
import msgspec

from libs.common.db import NO_NUL, Database
from libs.common.paging import decode_keyset, encode_keyset, one_page
from services.sessions.agents import report_store
from services.sessions.agents.report_store import StoredReport
from services.sessions.consents import store as consent_store
from services.sessions.consents.store import Consent
from services.sessions.errors import InterviewNotFound, InvalidDecision, ReviewFirst
from services.sessions.interviews.reads import TranscriptPage, transcript_page
from services.sessions.metrics import DECISIONS
from services.sessions.organizations import access_store, decision_store, review_store
from services.sessions.organizations.access import Recruiter
from services.sessions.organizations.access_store import What
from services.sessions.organizations.decision_store import Decision, Verdict
from services.sessions.organizations.review_store import DeletedInterview, OrgInterview
from services.sessions.recordings.playback import RecordingLink, playback_link
from services.sessions.runtime import Runtime

MAX_REASON_BYTES = 2 * 1024


class OrgInterviewPage(msgspec.Struct, frozen=True):
    items: list[OrgInterview | DeletedInterview]
    next_cursor: str | None


class OrgInterviewDetail(OrgInterview, frozen=True, kw_only=True):
    """An interview as its organization reviews it: the agent's report (`author` ai), the consents, and the
    decisions people made, newest first."""

    report: StoredReport | None
    transcript_segments: int
    consents: list[Consent]
    decisions: list[Decision]


class DecisionWrite(msgspec.Struct, frozen=True, kw_only=True):
    decision: Verdict
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_REASON_BYTES, pattern=NO_NUL)]


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
    page, next_cursor = one_page(rows, limit, lambda last: encode_keyset(last["created_at"], last["id"]))
    return OrgInterviewPage(items=[review_store.listed(row) for row in page], next_cursor=next_cursor)


async def _of_organization(conn: asyncpg.Connection, recruiter: Recruiter, interview_id: uuid.UUID) -> OrgInterview:
    found = await review_store.find_org_interview(conn, recruiter.org_id, interview_id)
    if found is None:
        raise InterviewNotFound(f"No interview {interview_id} in your organization.")
    return found


async def read_org_interview(
    database: Database, recruiter: Recruiter, interview_id: uuid.UUID
) -> OrgInterviewDetail | DeletedInterview:
    """One of the organization's interviews with the agent's report, its read recorded in the same transaction;
    a deleted one's tombstone."""
    async with database.transaction() as conn:
        found = await review_store.find_org_interview(conn, recruiter.org_id, interview_id)
        if found is None:
            tombstone = await review_store.find_tombstone(conn, recruiter.org_id, interview_id)
            if tombstone is None:
                raise InterviewNotFound(f"No interview {interview_id} in your organization.")
            return tombstone
        report, segments = await report_store.report_of(conn, interview_id)
        consents = await consent_store.consents_of(conn, interview_id)
        decisions = await decision_store.decisions_on(conn, interview_id)
        await _read(conn, recruiter, interview_id, "detail")
    return OrgInterviewDetail(
        **msgspec.structs.asdict(found),
        report=report,
        transcript_segments=segments,
        consents=consents,
        decisions=decisions,
    )


async def _read(conn: asyncpg.Connection, recruiter: Recruiter, interview_id: uuid.UUID, what: What) -> None:
    reader = access_store.Reader(recruiter.org_id, recruiter.clerk_id, recruiter.role)
    await access_store.record(conn, reader, interview_id, what)


async def read_org_transcript(
    database: Database, recruiter: Recruiter, interview_id: uuid.UUID, cursor: str | None, limit: int
) -> TranscriptPage:
    """One of the organization's interviews' transcript, a page at a time, its read recorded."""
    async with database.transaction() as conn:
        await _of_organization(conn, recruiter, interview_id)
        page = await transcript_page(conn, interview_id, cursor, limit)
        await _read(conn, recruiter, interview_id, "transcript")
    return page


async def read_org_recording(runtime: Runtime, recruiter: Recruiter, interview_id: uuid.UUID) -> RecordingLink:
    """A short-lived link to one of the organization's interviews' recording, its fetch recorded."""
    async with runtime.database.transaction() as conn:
        await _of_organization(conn, recruiter, interview_id)
        link = await playback_link(conn, runtime.storage, interview_id, runtime.settings.recording_url_seconds)
        await _read(conn, recruiter, interview_id, "recording")
    return link


async def decide(database: Database, recruiter: Recruiter, interview_id: uuid.UUID, write: DecisionWrite) -> Decision:
    """A person's decision, appended (GDPR Art. 22(3), the EU AI Act's human oversight): only by a recruiter who
    read the transcript or heard the recording themselves (409 `review-first`); the agent's report and earlier
    decisions stay as they are."""
    if len(write.reason.encode()) > MAX_REASON_BYTES:
        raise InvalidDecision(f"reason is over {MAX_REASON_BYTES} bytes (UTF-8).")
    async with database.transaction() as conn:
        await _of_organization(conn, recruiter, interview_id)
        if not await access_store.has_reviewed(conn, recruiter.org_id, recruiter.clerk_id, interview_id):
            raise ReviewFirst(
                f"Read interview {interview_id}'s transcript or hear its recording before deciding on it."
            )
        decided = await decision_store.append(conn, interview_id, write.decision, write.reason, recruiter.clerk_id)
    DECISIONS.labels(write.decision).inc()
    return decided
