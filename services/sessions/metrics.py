"""What a person on call watches in the sessions service (Prometheus series)."""

from prometheus_client import Counter, Gauge, Histogram

IDENTITY_RPC_DURATION = Histogram(
    "sessions_identity_rpc_duration_seconds",
    "Duration of every ensure-user call to the identity service, failed ones included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
IDENTITY_RPC_FAILURES = Counter(
    "sessions_identity_rpc_failures",
    "Ensure-user calls that did not give a user: busy (no connection free in time), unreachable, timeout, "
    "server_error, rejected_token.",
    ["reason"],
)

# The interview funnel: created → activated → ended, created → expired.
INTERVIEWS_CREATED = Counter("sessions_interviews_created", "Interviews started (a new room each).")
INTERVIEWS_REUSED = Counter(
    "sessions_interviews_reused",
    "Starts answered with the user's unused interview for that agent (a page reload) instead of a new one.",
)
INTERVIEWS_ACTIVATED = Counter("sessions_interviews_activated", "Interviews whose candidate joined the room.")
INTERVIEWS_ENDED = Counter("sessions_interviews_ended", "Interviews that reached the ended state.")
INTERVIEWS_EXPIRED = Counter("sessions_interviews_expired", "Interviews nobody joined before their token expired.")
INTERVIEWS_REFUSED_AT_CAP = Counter(
    "sessions_interviews_refused_at_cap", "Starts refused because the user held MAX_OPEN_INTERVIEWS_PER_USER."
)

LIVEKIT_WEBHOOKS = Counter(
    "sessions_livekit_webhooks",
    "Verified LiveKit webhooks by event and outcome: applied, refused, duplicate, stale, rejoined, ignored, "
    "unknown_room.",
    ["event", "outcome"],
)

RECONCILER_RUNS = Counter(
    "sessions_reconciler_runs", "Reconciler passes: ok, livekit_unavailable, database_unavailable, error.", ["outcome"]
)
RECONCILER_CORRECTIONS = Counter(
    "sessions_reconciler_corrections",
    "Interviews the reconciler moved because no webhook did: room_gone (active → ended), room_found "
    "(created → active), max_length (room deleted, → ended).",
    ["kind"],
)
RECONCILER_DURATION = Histogram(
    "sessions_reconciler_duration_seconds",
    "Duration of one reconciler pass.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

STALE_STARTS = Counter(
    "sessions_stale_starts",
    "Starts allowed on identity's earlier answer because identity was unavailable (IDENTITY_STALE_IF_ERROR_SECONDS).",
)
USER_FEED_CHANGES = Counter(
    "sessions_user_feed_changes", "Changes of identity's users' feed applied here, by change.", ["change"]
)
USER_FEED_LAG = Histogram(
    "sessions_user_feed_lag_seconds",
    "From identity applying a user change to sessions applying it (erasure, removal from rooms).",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
USER_FEED_POLLS = Counter(
    "sessions_user_feed_polls",
    "Reads of identity's users' feed: ok, busy (another replica holds it), identity_unavailable, "
    "database_unavailable, error.",
    ["outcome"],
)
ROOM_REMOVALS = Counter(
    "sessions_room_removals",
    "Removals of deleted, banned or locked users from live rooms, by outcome (removed, failed: retried, given_up).",
    ["outcome"],
)

TRANSCRIPT_SEGMENTS_STORED = Counter(
    "sessions_transcript_segments_stored", "Transcript segments agents sent that were stored (not resends)."
)
AGENT_REPORTS_STORED = Counter(
    "sessions_agent_reports_stored", "Agents' reports stored: a first version, or a higher one than stored."
)
AGENT_WRITES_REFUSED = Counter(
    "sessions_agent_writes_refused",
    "Agents' requests (transcript and report writes, brief reads) refused, by reason: unauthenticated, "
    "not_room_admin, other_room, unknown_interview, closed (past AGENT_REPORT_GRACE_SECONDS, or expired), conflict "
    "(another segment under a stored seq), invalid (segments that contradict each other), too_large.",
    ["reason"],
)
INTERVIEWS_PAST_REPORT_GRACE = Counter(
    "sessions_interviews_past_report_grace",
    "Ended interviews once AGENT_REPORT_GRACE_SECONDS have passed, by outcome: with_report, without_report "
    "(the agent never reported: a broken agent shows here).",
    ["outcome"],
)

ORG_TEMPLATES = Counter(
    "sessions_org_templates",
    "Recruiters' template writes, by action: created, updated (a new version), archived.",
    ["action"],
)
INVITES = Counter(
    "sessions_invites",
    "Invites by outcome: created and withdrawn (recruiters); redeemed (a first use started the interview), reused "
    "and rejoined (its candidate again); and each refusal: unknown_code, expired, revoked, archived, other_user, "
    "email_mismatch, ended, at_cap.",
    ["outcome"],
)
ORGANIZATION_FEED_POLLS = Counter(
    "sessions_organization_feed_polls",
    "Reads of identity's organizations' feed: ok, busy (another replica holds it), identity_unavailable, "
    "database_unavailable, error.",
    ["outcome"],
)
ORGANIZATION_FEED_CHANGES = Counter(
    "sessions_organization_feed_changes",
    "Changes of identity's organizations' feed seen here, by change (organization_deleted: erased).",
    ["change"],
)

CONSENTS = Counter(
    "sessions_consents",
    "Consents recorded: given or refused with an invite's first redemption, and withdrawn, by scope.",
    ["scope", "action"],
)
RECORDINGS = Counter(
    "sessions_recordings",
    "Recordings by what happened: requested (a consenting candidate joined), failed (its room closed before it "
    "started), reconciled_applied / _stale / _erased (a quiet egress looked up with ListEgress). Egress webhooks are "
    "counted in sessions_livekit_webhooks_total.",
    ["event"],
)
EGRESS_CALLS = Counter(
    "sessions_egress_calls", "Calls to LiveKit's Egress from the queue: started, stopped, failed.", ["outcome"]
)
STORAGE_DELETIONS = Counter(
    "sessions_storage_deletions",
    "Deletions of an erased interview's objects from the bucket: deleted, failed.",
    ["outcome"],
)
STORAGE_DELETIONS_PENDING = Gauge(
    "sessions_storage_deletions_pending", "Deletions queued and not done yet (as this replica last counted)."
)
STORAGE_DELETIONS_OLDEST = Gauge(
    "sessions_storage_deletions_oldest_seconds",
    "Age of the oldest deletion not done yet, 0 when none (an alert fires past a day).",
)
DECISIONS = Counter("sessions_decisions", "Decisions people recorded on interviews, by decision.", ["decision"])
ERASURES = Counter(
    "sessions_erasures",
    "Interviews erased, by reason: candidate (deleted by its candidate), retention (an organization's, or "
    "INTERVIEW_RETENTION_DAYS), user_deleted, organization_deleted.",
    ["reason"],
)
EXPORTS = Counter("sessions_exports", "Exports of a candidate's data (GET /api/me/export) begun.")
RETENTION_LAG = Gauge(
    "sessions_retention_lag_seconds",
    "How long past its retention the oldest interview still kept is (0 when none): the retention task is behind.",
)
