"""Reading a candidate's own interviews: the list, one with its agent's report, its transcript. Anyone else's
interview is indistinguishable from one that does not exist (404)."""

import uuid

import asyncpg
import msgspec

from libs.common.db import Database
from libs.common.paging import decode_int, decode_keyset, keyset_page, one_page
from services.sessions.agents import report_store
from services.sessions.agents.report_store import Segment, StoredReport
from services.sessions.consents import store as consent_store
from services.sessions.consents.store import Consent
from services.sessions.errors import InterviewNotFound
from services.sessions.interviews import store as interview_store
from services.sessions.interviews.store import Interview, ReadBy
from services.sessions.recordings.playback import RecordingLink, playback_link
from services.sessions.runtime import Runtime

LISTED_BY_DEFAULT = ("created", "active", "ended")  # expired ones (tokens fetched, never used) only when asked


class InterviewPage(msgspec.Struct, frozen=True):
    items: list[Interview]
    next_cursor: str | None


class InterviewDetail(Interview, frozen=True, kw_only=True):
    """An interview as its owner reads it, with what its agent reported."""

    report: StoredReport | None
    transcript_segments: int
    consents: list[Consent]  # given or refused with an organization's invite (none for one started alone)
    read_by: list[ReadBy]  # the organization's recruiters' reads, by role


class TranscriptPage(msgspec.Struct, frozen=True):
    items: list[Segment]
    next_cursor: str | None


async def list_interviews(
    database: Database, clerk_id: str, *, statuses: tuple[str, ...], cursor: str | None, limit: int
) -> InterviewPage:
    """The caller's interviews in `statuses`, newest first; `next_cursor` continues after the last item."""
    before = decode_keyset(cursor) if cursor else None
    async with database.connection() as conn:
        rows = await interview_store.list_owned(conn, clerk_id, statuses=statuses, before=before, limit=limit + 1)
    items, next_cursor = keyset_page(rows, limit)
    return InterviewPage(items=items, next_cursor=next_cursor)


async def _owned(conn: asyncpg.Connection, clerk_id: str, interview_id: uuid.UUID) -> Interview:
    found = await interview_store.find_owned(conn, clerk_id, interview_id=interview_id)
    if found is None:
        raise InterviewNotFound(f"No interview {interview_id} of yours.")
    return found


async def read_interview(database: Database, clerk_id: str, interview_id: uuid.UUID) -> InterviewDetail:
    """One of the caller's interviews with its report (an organization's: only if its template shares it)."""
    async with database.connection() as conn:
        found = await _owned(conn, clerk_id, interview_id)
        report, segments = await report_store.report_of(conn, interview_id)
        consents = await consent_store.consents_of(conn, interview_id)
        readers = await interview_store.read_by(conn, interview_id)
    shown = report if found.has_report else None
    return InterviewDetail(
        **msgspec.structs.asdict(found),
        report=shown,
        transcript_segments=segments,
        consents=consents,
        read_by=readers,
    )


async def transcript_page(
    conn: asyncpg.Connection, interview_id: uuid.UUID, cursor: str | None, limit: int
) -> TranscriptPage:
    """An interview's segments in `seq` order, `limit` at a time; `next_cursor` continues."""
    rows = await report_store.segments_after(conn, interview_id, decode_int(cursor) if cursor else None, limit + 1)
    items, next_cursor = one_page(rows, limit, lambda last: str(last.seq))
    return TranscriptPage(items=items, next_cursor=next_cursor)


async def read_transcript(
    database: Database, clerk_id: str, interview_id: uuid.UUID, cursor: str | None, limit: int
) -> TranscriptPage:
    """The caller's interview's transcript, a page at a time."""
    async with database.connection() as conn:
        await _owned(conn, clerk_id, interview_id)
        return await transcript_page(conn, interview_id, cursor, limit)


async def read_recording(runtime: Runtime, clerk_id: str, interview_id: uuid.UUID) -> RecordingLink:
    """A short-lived link to hear the caller's interview."""
    async with runtime.database.connection() as conn:
        await _owned(conn, clerk_id, interview_id)
        return await playback_link(conn, runtime.storage, interview_id, runtime.settings.recording_url_seconds)
