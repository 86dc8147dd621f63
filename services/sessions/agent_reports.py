"""An interview's outcome: its agent writes the transcript and the report, its candidate reads them.

Writes are idempotent, so an agent simply retries: a resent segment (same `seq`, same content) and a report of a
version already stored change nothing. They are accepted while the interview is open and for
`AGENT_REPORT_GRACE_SECONDS` after it ended (agents upload after the room closes). Every bound is checked before
anything is written, and a batch is stored whole or not at all.
"""

import re
import uuid
from typing import Annotated, Any

import asyncpg
import msgspec

from libs.common.db import Database
from services.sessions import report_store, store
from services.sessions.agent_auth import AgentGrant
from services.sessions.errors import (
    AgentNotPermitted,
    AgentWriteTooLarge,
    ClosedToAgent,
    InterviewNotFound,
    InvalidCursor,
    TranscriptConflict,
)
from services.sessions.metrics import AGENT_REPORTS_STORED, AGENT_WRITES_REFUSED, TRANSCRIPT_SEGMENTS_STORED
from services.sessions.report_store import Segment, StoredReport

MAX_SEGMENT_TEXT_BYTES = 8 * 1024
MAX_SEGMENTS_PER_BATCH = 200
MAX_SEGMENTS_PER_INTERVIEW = 5_000
MAX_SUMMARY_BYTES = 16 * 1024
MAX_DATA_BYTES = 64 * 1024
MAX_DATA_DEPTH = 64


class TranscriptBatch(msgspec.Struct, frozen=True):
    segments: list[Segment]


class TranscriptReceipt(msgspec.Struct, frozen=True):
    stored: int
    duplicates: int


class ReportWrite(msgspec.Struct, frozen=True):
    version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    summary: str
    data: Any  # any JSON: checked for size and depth, stored and served back, never interpreted


class ReportReceipt(msgspec.Struct, frozen=True):
    version: int


class InterviewDetail(store.Interview, frozen=True, kw_only=True):
    """An interview as its owner reads it, with what its agent reported."""

    report: StoredReport | None
    transcript_segments: int


class TranscriptPage(msgspec.Struct, frozen=True):
    items: list[Segment]
    next_cursor: str | None


def _refused(reason: str, problem: Exception) -> Exception:
    AGENT_WRITES_REFUSED.labels(reason).inc()
    return problem


def _too_large(detail: str) -> Exception:
    return _refused("too_large", AgentWriteTooLarge(detail))


def _check_text(field: str, text: str, max_bytes: int) -> None:
    if len(text.encode()) > max_bytes:
        raise _too_large(f"{field} is over {max_bytes} bytes (UTF-8).")
    if "\x00" in text:
        raise _too_large(f"{field} contains a NUL character, which cannot be stored.")


def _check_batch(batch: TranscriptBatch) -> None:
    if not batch.segments:
        raise _too_large("segments is empty: send at least one segment.")
    if len(batch.segments) > MAX_SEGMENTS_PER_BATCH:
        raise _too_large(f"segments has {len(batch.segments)} items; at most {MAX_SEGMENTS_PER_BATCH} a batch.")
    if len({segment.seq for segment in batch.segments}) != len(batch.segments):
        raise _too_large("segments[].seq repeats within the batch; each seq names one segment.")
    for segment in batch.segments:
        _check_text(f"segments[seq={segment.seq}].text", segment.text, MAX_SEGMENT_TEXT_BYTES)
        if segment.ended_at_ms < segment.started_at_ms:
            raise _too_large(f"segments[seq={segment.seq}].ended_at_ms is before its started_at_ms.")


def json_depth(raw: bytes) -> int:
    """How deeply `raw` (valid JSON) nests arrays and objects; brackets inside strings do not count."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _checked_data(report: ReportWrite) -> bytes:
    """The report's `data` as JSON, within its bounds."""
    _check_text("summary", report.summary, MAX_SUMMARY_BYTES)
    data = msgspec.json.encode(report.data)
    if len(data) > MAX_DATA_BYTES:
        raise _too_large(f"data is over {MAX_DATA_BYTES} bytes encoded.")
    if json_depth(data) > MAX_DATA_DEPTH:
        raise _too_large(f"data nests deeper than {MAX_DATA_DEPTH} levels.")
    return data


def _check_writable(
    interview: report_store.WritableInterview | None, interview_id: uuid.UUID, grant: AgentGrant, grace_seconds: int
) -> None:
    if interview is None:
        raise _refused("unknown_interview", InterviewNotFound(f"No interview {interview_id}."))
    if not grant.room_admin:
        raise _refused("not_room_admin", AgentNotPermitted("The token does not grant roomAdmin over a room."))
    if not grant.permits(interview.room_name):
        raise _refused("other_room", AgentNotPermitted(f"The token does not administer interview {interview_id}."))
    ended_long_ago = interview.status == "ended" and (interview.ended_seconds_ago or 0) > grace_seconds
    if interview.status == "expired" or ended_long_ago:
        state = "expired" if interview.status == "expired" else f"ended over {grace_seconds} s ago"
        raise _refused("closed", ClosedToAgent(f"Interview {interview_id} {state}: it takes no more writes."))


async def write_transcript(
    database: Database, grant: AgentGrant, interview_id: uuid.UUID, batch: TranscriptBatch, grace_seconds: int
) -> TranscriptReceipt:
    """Store the batch's new segments; resent ones change nothing; a conflicting one refuses the whole batch."""
    _check_batch(batch)
    segments = batch.segments
    async with database.transaction() as conn:
        _check_writable(await report_store.lock_for_agent(conn, interview_id), interview_id, grant, grace_seconds)
        stored = await report_store.add_segments(conn, interview_id, segments)
        conflicts = await report_store.conflicting_seqs(conn, interview_id, segments)
        if conflicts:
            raise _refused(
                "conflict", TranscriptConflict(f"Segments {conflicts} are stored with other content; none was stored.")
            )
        if stored and await report_store.count_segments(conn, interview_id) > MAX_SEGMENTS_PER_INTERVIEW:
            raise _too_large(f"The interview would have over {MAX_SEGMENTS_PER_INTERVIEW} segments; none was stored.")
    TRANSCRIPT_SEGMENTS_STORED.inc(stored)
    return TranscriptReceipt(stored=stored, duplicates=len(segments) - stored)


async def write_report(
    database: Database, grant: AgentGrant, interview_id: uuid.UUID, report: ReportWrite, grace_seconds: int
) -> ReportReceipt:
    """Store the report if its version is higher than the stored one; the version now stored."""
    data = _checked_data(report)
    async with database.transaction() as conn:
        _check_writable(await report_store.lock_for_agent(conn, interview_id), interview_id, grant, grace_seconds)
        version, written = await report_store.put_report(
            conn, interview_id, report.version, report.summary, data.decode()
        )
    if written:
        AGENT_REPORTS_STORED.inc()
    return ReportReceipt(version=version)


async def _owned(conn: asyncpg.Connection, clerk_id: str, interview_id: uuid.UUID) -> store.Interview:
    """One of the caller's interviews; anyone else's is indistinguishable from one that does not exist (404)."""
    found = await store.find_owned(conn, clerk_id, interview_id=interview_id)
    if found is None:
        raise InterviewNotFound(f"No interview {interview_id} of yours.")
    return found


async def read_interview(database: Database, clerk_id: str, interview_id: uuid.UUID) -> InterviewDetail:
    """One of the caller's interviews with its report; anyone else's is indistinguishable from none."""
    async with database.connection() as conn:
        found = await _owned(conn, clerk_id, interview_id)
        report, segments = await report_store.report_of(conn, interview_id)
    fields = msgspec.structs.asdict(found)
    return InterviewDetail(**fields, report=report, transcript_segments=segments)


async def read_transcript(
    database: Database, clerk_id: str, interview_id: uuid.UUID, cursor: str | None, limit: int
) -> TranscriptPage:
    """The caller's interview's segments in `seq` order, `limit` at a time; `next_cursor` continues."""
    after = _decode_cursor(cursor) if cursor else None
    async with database.connection() as conn:
        await _owned(conn, clerk_id, interview_id)
        rows = await report_store.segments_after(conn, interview_id, after, limit + 1)
    items = rows[:limit]
    return TranscriptPage(items=items, next_cursor=str(items[-1].seq) if len(rows) > limit else None)


def _decode_cursor(cursor: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", cursor) or int(cursor) > 2**31 - 1:
        raise InvalidCursor("The cursor is not one this service returned.")
    return int(cursor)
