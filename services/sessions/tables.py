"""The sessions schema, as Piccolo tables: the source its migrations are generated from."""

from piccolo.columns import (
    UUID,
    Array,
    BigInt,
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Interviews(Table, tablename="interviews"):
    """One row per interview a user started; its LiveKit room is fresh and unique to it."""

    id = UUID(primary_key=True)
    user_id = UUID()  # the identity service's user id
    clerk_id = Varchar(length=64)
    room_name = Varchar(length=128, unique=True)
    participant_identity = Varchar(length=64)
    agent_name = Varchar(length=128, null=True, default=None)
    status = Varchar(length=16)  # created | active | ended | expired
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    token_expires_at = Timestamptz()
    # The candidate's current LiveKit participant, and when it joined (ms): a leave of an older one ends nothing.
    participant_sid = Varchar(length=64, null=True, default=None)
    participant_joined_ms = BigInt(null=True, default=None)
    # Set once the interview ended AGENT_REPORT_GRACE_SECONDS ago and was counted as with or without a report.
    report_checked = Boolean(default=False)
    # The name the candidate started under (identity's), for the agent's brief and the recruiters.
    candidate_name = Varchar(length=256, null=True, default=None)
    # An organization's interview (started by redeeming its invite), pinned to the template version it started
    # with; all None for an interview a candidate started on their own.
    org_id = Varchar(length=64, null=True, default=None)
    template_id = UUID(null=True, default=None)
    template_version = Integer(null=True, default=None)
    invite_id = UUID(null=True, default=None)
    candidate_email = Text(null=True, default=None)  # identity's, when the invite was redeemed (for recruiters)
    max_seconds = Integer(null=True, default=None)  # the template's max_minutes; None: MAX_INTERVIEW_SECONDS


class TranscriptSegments(Table, tablename="transcript_segments"):
    """What was said, as the interview's agent reported it: one row per (interview, seq), a unique constraint
    of the migration; erased with the interview."""

    id = BigSerial(primary_key=True)
    interview = ForeignKey(references=Interviews, on_delete=OnDelete.cascade, null=False)
    seq = Integer()
    speaker = Varchar(length=16)  # agent | candidate
    text = Text()
    started_at_ms = BigInt()
    ended_at_ms = BigInt()
    stored_at = Timestamptz(default=TimestamptzNow())


class InterviewReports(Table, tablename="interview_reports"):
    """The agent's assessment of an interview: one row per interview, the highest version the agent sent;
    erased with the interview."""

    id = BigSerial(primary_key=True)
    interview = ForeignKey(references=Interviews, on_delete=OnDelete.cascade, null=False, unique=True)
    version = Integer()
    summary = Text()
    data = Text()  # the agent's own JSON (never interpreted here)
    updated_at = Timestamptz(default=TimestamptzNow())
    model = Varchar(length=200, null=True, default=None)  # what the agent says produced it
    prompt_version = Varchar(length=200, null=True, default=None)


class LiveKitWebhookEvents(Table, tablename="livekit_webhook_events"):
    """LiveKit webhook event ids already applied: a repeated delivery changes nothing."""

    id = Varchar(length=64, primary_key=True)
    received_at = Timestamptz(default=TimestamptzNow())


class KnownUsers(Table, tablename="known_users"):
    """The last answer identity gave about each user who started an interview: who starts without asking
    identity again (`IDENTITY_RECHECK_SECONDS`, while the users' feed is current) and who may still start while
    identity is unreachable (`IDENTITY_STALE_IF_ERROR_SECONDS`), unless the users' feed has since reported
    them banned or locked. Deleted users' rows are erased (and the users kept in `erased_users`)."""

    clerk_id = Varchar(length=64, primary_key=True)
    user_id = UUID()
    display_name = Varchar(length=256)
    confirmed_at = Timestamptz(default=TimestamptzNow())
    banned = Boolean(default=False)
    locked = Boolean(default=False)


class ErasedUsers(Table, tablename="erased_users"):
    """Users the users' feed reported deleted, by Clerk id only, once every row naming them was erased: a start
    that asked identity just before the deletion and writes after the erasure is refused, not left behind."""

    clerk_id = Varchar(length=64, primary_key=True)
    erased_at = Timestamptz(default=TimestamptzNow())


class FeedCursors(Table, tablename="feed_cursors"):
    """Where this service is in each feed it follows (identity's users' changes): one row per feed, leased to the
    one replica reading it at a time. `updated_at`: when a read last reached the end of the feed."""

    feed = Varchar(length=64, primary_key=True)
    cursor = Varchar(length=64, default="")
    updated_at = Timestamptz(default=TimestamptzNow())
    # The replica reading the feed and until when: renewed each poll, taken over by another once it runs out.
    leased_by = Varchar(length=64, null=True, default=None)
    leased_until = Timestamptz(null=True, default=None)


class RoomRemovals(Table, tablename="room_removals"):
    """Participants to disconnect from a room (a deleted, banned or locked user), queued in the transaction
    that records why, then removed through RoomService and retried until LiveKit takes it, or until
    `MAX_INTERVIEW_SECONDS` after queueing. One row per (room_name, clerk_id): a unique constraint of the
    migration."""

    id = BigSerial(primary_key=True)
    room_name = Varchar(length=128)
    clerk_id = Varchar(length=64)
    queued_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())


class InterviewTemplates(Table, tablename="interview_templates"):
    """An organization's interview, written once by its recruiters: its versions are `TemplateVersions`, the
    latest being `latest_version`; archived ones take no new invite."""

    id = UUID(primary_key=True)
    org_id = Varchar(length=64)
    latest_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    archived_at = Timestamptz(null=True, default=None)


class TemplateVersions(Table, tablename="template_versions"):
    """One version of a template, never changed once written (an interview pins the version it started with):
    one row per (template, version), a unique constraint of the migration."""

    id = BigSerial(primary_key=True)
    template = ForeignKey(references=InterviewTemplates, on_delete=OnDelete.cascade, null=False)
    version = Integer()
    title = Varchar(length=200)
    instructions = Text()
    questions = Array(base_column=Text())
    rubric = Text(null=True, default=None)  # the recruiters' JSON (never interpreted here)
    agent_name = Varchar(length=128, null=True, default=None)  # None: LIVEKIT_DEFAULT_AGENT
    max_minutes = Integer(null=True, default=None)
    share_report_with_candidate = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    notice = Text(null=True, default=None)  # what the candidate is told before consenting; None: the default
    recording = Boolean(default=False)  # the interview is recorded, if its candidate consents


class Invites(Table, tablename="invites"):
    """A single-candidate link to a template: only the SHA-256 of its code is kept. Bound to the first user who
    redeems it (`redeemed_by`, `interview_id`)."""

    id = UUID(primary_key=True)
    org_id = Varchar(length=64)
    template = ForeignKey(references=InterviewTemplates, on_delete=OnDelete.cascade, null=False)
    code_hash = Bytea(unique=True)
    email = Text(null=True, default=None)  # only a user with this primary email may redeem it
    expires_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    redeemed_at = Timestamptz(null=True, default=None)
    redeemed_by = Varchar(length=64, null=True, default=None)  # cleared when the users' feed erases the user
    interview_id = UUID(null=True, default=None)


class ErasedOrganizations(Table, tablename="erased_organizations"):
    """Organizations the organizations' feed reported deleted, by Clerk id only, once all their data was erased:
    a recruiter's session token still naming one (it lives a minute) writes nothing more for it."""

    org_id = Varchar(length=64, primary_key=True)
    erased_at = Timestamptz(default=TimestamptzNow())


class Consents(Table, tablename="consents"):
    """The candidate's consents with an invite's redemption, append-only: given or refused, for the template version
    they read; the only change a row sees is its withdrawal. Erased with the invite, or with the candidate."""

    id = BigSerial(primary_key=True)
    invite = ForeignKey(references=Invites, on_delete=OnDelete.cascade, null=False)
    clerk_id = Varchar(length=64)
    scope = Varchar(length=16)  # ai_evaluation | recording
    template_version = Integer()
    given = Boolean()
    given_at = Timestamptz(default=TimestamptzNow())
    withdrawn_at = Timestamptz(null=True, default=None)


class Recordings(Table, tablename="recordings"):
    """One recording per interview at most, written before LiveKit is asked; the egress queue too (a requested row
    without an egress is due to start, `stop_pending` due to stop). No foreign key: the row outlives its interview's
    erasure (status erased), naming the objects that must be gone from the bucket, even if they land later."""

    id = UUID(primary_key=True)
    interview_id = UUID(unique=True)
    room_name = Varchar(length=128)
    object_key = Text()  # recordings/<interview id>/<random>.ogg
    status = Varchar(length=16)  # requested | active | complete | failed | erased
    egress_id = Varchar(length=64, null=True, default=None, unique=True)
    stop_pending = Boolean(default=False)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_event_at = Timestamptz(default=TimestamptzNow())
    egress_ended_at = Timestamptz(null=True, default=None)
    duration_ms = BigInt(null=True, default=None)
    size = BigInt(null=True, default=None)
    error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class StorageDeletions(Table, tablename="storage_deletions"):
    """Prefixes of the recordings' bucket to erase (every version), queued in the transaction that erased what they
    held, done by a worker that never gives up; `deleted_at` records when each went."""

    id = BigSerial(primary_key=True)
    object_prefix = Text()
    reason = Varchar(length=32)
    queued_at = Timestamptz(default=TimestamptzNow())
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    deleted_objects = Integer(null=True, default=None)


class InterviewTombstones(Table, tablename="interview_tombstones"):
    """What stays of an organization's interview its candidate deleted, or retention erased: that it was, and when
    and why it went; nothing of its content, nothing naming its candidate."""

    id = UUID(primary_key=True)  # the interview's
    org_id = Varchar(length=64)
    created_at = Timestamptz()  # the interview's, for the recruiters' list order
    deleted_by = Varchar(length=16)  # candidate | retention
    deleted_at = Timestamptz(default=TimestamptzNow())


class Decisions(Table, tablename="decisions"):
    """A person's decision on an organization's interview, appended: never overwriting the agent's report or an
    earlier decision."""

    id = BigSerial(primary_key=True)
    interview = ForeignKey(references=Interviews, on_delete=OnDelete.cascade, null=False)
    decision = Varchar(length=16)  # advance | reject | hold
    reason = Text()
    decided_by = Varchar(length=64)  # the recruiter's Clerk id
    decided_at = Timestamptz(default=TimestamptzNow())


class AccessRecords(Table, tablename="access_records"):
    """Every recruiter's read of an interview's detail, transcript or recording, kept `ACCESS_LOG_RETENTION_DAYS`
    even after the interview is gone (no foreign key)."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=64)
    actor = Varchar(length=64)  # the reader's Clerk id
    role = Varchar(length=64)  # their organization role, what the candidate is shown
    interview_id = UUID()
    what = Varchar(length=16)  # detail | transcript | recording
    at = Timestamptz(default=TimestamptzNow())


class OrganizationSettings(Table, tablename="organization_settings"):
    """An organization's own settings: how long its interviews are kept after they end (None: kept)."""

    org_id = Varchar(length=64, primary_key=True)
    retention_days = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
