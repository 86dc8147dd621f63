"""An interview's outcome, as its agent writes it: the transcript and the report (its candidate and the
recruiters read them through `interviews` and `organizations.review`).

Writes are idempotent, so an agent simply retries: a resent segment (same `seq`, same content) and a report of a
version already stored change nothing. They are accepted while the interview is open and for
`AGENT_REPORT_GRACE_SECONDS` after it ended (agents upload after the room closes). The token's grant is checked
first, then every bound, before anything is looked up or written; a batch is stored whole or not at all.
"""

import uuid
from typing import Annotated, Any

import msgspec

from libs.common.db import NO_NUL, Database
from libs.common.json_bounds import bounded_json
from libs.common.request_context import annotate_request
from services.sessions.agents import report_store
from services.sessions.agents.auth import AgentGrant
from services.sessions.agents.report_store import MAX_SEGMENT_TEXT_BYTES, Segment
from services.sessions.consents import store as consent_store
from services.sessions.errors import (
    AgentNotPermitted,
    AgentWriteTooLarge,
    ClosedToAgent,
    ConsentWithdrawn,
    InterviewNotFound,
    InvalidTranscript,
    TranscriptConflict,
)
from services.sessions.metrics import AGENT_REPORTS_STORED, AGENT_WRITES_REFUSED, TRANSCRIPT_SEGMENTS_STORED
from services.sessions.rooms.names import is_interview_room

MAX_SEGMENTS_PER_BATCH = 200
MAX_SEGMENTS_PER_INTERVIEW = 5_000
MAX_SUMMARY_BYTES = 16 * 1024
MAX_DATA_BYTES = 64 * 1024
MAX_DATA_DEPTH = 64


class TranscriptBatch(msgspec.Struct, frozen=True):
    """1 to 200 segments, each `seq` once."""

    segments: Annotated[list[Segment], msgspec.Meta(min_length=1, max_length=MAX_SEGMENTS_PER_BATCH)]


class TranscriptReceipt(msgspec.Struct, frozen=True):
    stored: int
    duplicates: int


class ReportWrite(msgspec.Struct, frozen=True, kw_only=True):
    """`summary`: at most 16 KiB in UTF-8 (so at most 16,384 characters), without NUL; `data`: any JSON of at
    most 64 KiB encoded and 64 levels deep, stored and served back, never interpreted; `model` and
    `prompt_version`: what produced it (at most 200 characters each), shown with it."""

    version: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
    summary: Annotated[str, msgspec.Meta(max_length=MAX_SUMMARY_BYTES, pattern=NO_NUL)]
    data: Any
    model: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] | None = None
    prompt_version: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] | None = None


class ReportReceipt(msgspec.Struct, frozen=True):
    version: int


def refuse(reason: str, problem: Exception) -> Exception:
    AGENT_WRITES_REFUSED.labels(reason).inc()
    return problem


def _too_large(detail: str) -> Exception:
    return refuse("too_large", AgentWriteTooLarge(detail))


def _check_bytes(field: str, text: str, max_bytes: int) -> None:
    """The bound in UTF-8 bytes, beyond the one in characters the struct states."""
    if len(text.encode()) > max_bytes:
        raise _too_large(f"{field} is over {max_bytes} bytes (UTF-8).")


def _check_batch(batch: TranscriptBatch) -> None:
    """The rules across fields, which the struct cannot state: each `seq` once, no segment ending before it
    starts; then each text's size in bytes."""
    if len({segment.seq for segment in batch.segments}) != len(batch.segments):
        raise refuse("invalid", InvalidTranscript("segments[].seq repeats within the batch; each seq names one."))
    for segment in batch.segments:
        if segment.ended_at_ms < segment.started_at_ms:
            raise refuse(
                "invalid", InvalidTranscript(f"segments[seq={segment.seq}].ended_at_ms is before its started_at_ms.")
            )
    for segment in batch.segments:
        _check_bytes(f"segments[seq={segment.seq}].text", segment.text, MAX_SEGMENT_TEXT_BYTES)


def _checked_data(report: ReportWrite) -> bytes:
    """The report's `data` as JSON, within its bounds."""
    _check_bytes("summary", report.summary, MAX_SUMMARY_BYTES)
    data, problem = bounded_json(report.data, max_bytes=MAX_DATA_BYTES, max_depth=MAX_DATA_DEPTH)
    if problem:
        raise _too_large(f"data {problem}.")
    return data


def check_grant(grant: AgentGrant) -> str:
    """The room the agent's token administers; checked before any interview is looked up, so a token that
    administers no interview's room (a candidate's own, say) learns nothing about any interview (403)."""
    if not grant.room_admin or grant.room is None or not is_interview_room(grant.room):
        raise refuse(
            "not_room_admin", AgentNotPermitted("The token does not grant roomAdmin over an interview's room.")
        )
    return grant.room


def _check_writable(
    interview: report_store.WritableInterview | None, interview_id: uuid.UUID, room: str, grace_seconds: int
) -> None:
    if interview is None:
        raise refuse("unknown_interview", InterviewNotFound(f"No interview {interview_id}."))
    if interview.room_name != room:
        raise refuse("other_room", AgentNotPermitted(f"The token does not administer interview {interview_id}."))
    ended_long_ago = interview.status == "ended" and (interview.ended_seconds_ago or 0) > grace_seconds
    if interview.status == "expired" or ended_long_ago:
        state = "expired" if interview.status == "expired" else f"ended over {grace_seconds} s ago"
        raise refuse("closed", ClosedToAgent(f"Interview {interview_id} {state}: it takes no more writes."))


async def write_transcript(
    database: Database, grant: AgentGrant, interview_id: uuid.UUID, batch: TranscriptBatch, grace_seconds: int
) -> TranscriptReceipt:
    """Store the batch's new segments; resent ones change nothing; a conflicting one refuses the whole batch."""
    room = check_grant(grant)
    _check_batch(batch)
    segments = batch.segments
    annotate_request(interview_id=str(interview_id))
    async with database.transaction() as conn:
        _check_writable(await report_store.lock_for_agent(conn, interview_id), interview_id, room, grace_seconds)
        stored = await report_store.add_segments(conn, interview_id, segments)
        conflicts = await report_store.conflicting_seqs(conn, interview_id, segments)
        if conflicts:
            raise refuse(
                "conflict", TranscriptConflict(f"Segments {conflicts} are stored with other content; none was stored.")
            )
        if stored and await report_store.count_segments(conn, interview_id) > MAX_SEGMENTS_PER_INTERVIEW:
            raise _too_large(f"The interview would have over {MAX_SEGMENTS_PER_INTERVIEW} segments; none was stored.")
    TRANSCRIPT_SEGMENTS_STORED.inc(stored)
    return TranscriptReceipt(stored=stored, duplicates=len(segments) - stored)


async def write_report(
    database: Database, grant: AgentGrant, interview_id: uuid.UUID, report: ReportWrite, grace_seconds: int
) -> ReportReceipt:
    """Store the report if its version is higher than the stored one; the version now stored. Refused (409) once
    the candidate withdrew their consent to the AI's evaluation."""
    room = check_grant(grant)
    data = _checked_data(report)
    annotate_request(interview_id=str(interview_id))
    async with database.transaction() as conn:
        _check_writable(await report_store.lock_for_agent(conn, interview_id), interview_id, room, grace_seconds)
        if not (await consent_store.consent_now(conn, interview_id)).ai_evaluation:
            raise refuse(
                "consent_withdrawn",
                ConsentWithdrawn(
                    f"The candidate of interview {interview_id} withdrew their consent to the AI's evaluation."
                ),
            )
        content = report_store.ReportContent(
            version=report.version,
            summary=report.summary,
            data=data.decode(),
            model=report.model,
            prompt_version=report.prompt_version,
        )
        version, written = await report_store.put_report(conn, interview_id, content)
    if written:
        AGENT_REPORTS_STORED.inc()
    return ReportReceipt(version=version)
