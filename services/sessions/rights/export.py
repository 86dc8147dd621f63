"""A copy of everything held about the caller (GDPR Art. 15 and 20), as one JSON document streamed a page at a time:
memory stays bounded however long their history (interviews 50 at a time, each transcript 500 segments at a time,
each page read on a connection of its own, no transaction held while the client reads). The same scoping as their
own reads: an organization's report only where its template shares it; consents, who read each interview (by
role), and whether a recording is kept."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec

from libs.common.db import Database
from services.sessions.agents import report_store
from services.sessions.agents.report_store import StoredReport
from services.sessions.consents import store as consent_store
from services.sessions.consents.store import Consent
from services.sessions.interviews import store as interview_store
from services.sessions.interviews.store import Interview, ReadBy
from services.sessions.metrics import EXPORTS
from services.sessions.recordings import store as recording_store

INTERVIEWS_A_PAGE = 50
SEGMENTS_A_PAGE = 500
EVERY_STATUS = ("created", "active", "ended", "expired")


class ExportedRecording(msgspec.Struct, frozen=True):
    status: str
    duration_ms: int | None


class ExportedInterview(msgspec.Struct, frozen=True, kw_only=True):
    """One interview, its transcript following it in the document."""

    interview: Interview
    report: StoredReport | None
    consents: list[Consent]
    read_by: list[ReadBy]
    recording: ExportedRecording | None


_encode = msgspec.json.Encoder().encode


async def export_document(database: Database, clerk_id: str) -> AsyncIterator[bytes]:
    """The caller's document, chunk by chunk: `{"clerk_id", "exported_at", "interviews": [{..., "transcript":
    [...]}]}`."""
    EXPORTS.inc()
    head = {"clerk_id": clerk_id, "exported_at": datetime.now(UTC)}
    yield _encode(head)[:-1] + b', "interviews": ['
    before: tuple[datetime, uuid.UUID] | None = None
    first = True
    while True:
        async with database.connection() as conn:
            page = await interview_store.list_owned(
                conn, clerk_id, statuses=EVERY_STATUS, before=before, limit=INTERVIEWS_A_PAGE
            )
        for interview in page:
            yield (b"" if first else b",") + await _interview(database, interview)
            first = False
            async for chunk in _transcript(database, interview.id):
                yield chunk
            yield b"]}"
        if len(page) < INTERVIEWS_A_PAGE:
            break
        before = page[-1].created_at, page[-1].id
    yield b"]}"


async def _interview(database: Database, interview: Interview) -> bytes:
    """The interview's object up to its open `"transcript": [`."""
    async with database.connection() as conn:
        report, _ = await report_store.report_of(conn, interview.id)
        consents = await consent_store.consents_of(conn, interview.id)
        readers = await interview_store.read_by(conn, interview.id)
        recorded = await recording_store.recording_of(conn, interview.id)
    exported = ExportedInterview(
        interview=interview,
        report=report if interview.has_report else None,
        consents=consents,
        read_by=readers,
        recording=ExportedRecording(recorded.status, recorded.duration_ms) if recorded else None,
    )
    return _encode(exported)[:-1] + b', "transcript": ['


async def _transcript(database: Database, interview_id: uuid.UUID) -> AsyncIterator[bytes]:
    after: int | None = None
    first = True
    while True:
        async with database.connection() as conn:
            segments = await report_store.segments_after(conn, interview_id, after, SEGMENTS_A_PAGE)
        if segments:
            yield (b"" if first else b",") + b",".join(_encode(segment) for segment in segments)
            first = False
            after = segments[-1].seq
        if len(segments) < SEGMENTS_A_PAGE:
            return
