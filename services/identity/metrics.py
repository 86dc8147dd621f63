"""What a person on call watches in the identity service (Prometheus series)."""

from prometheus_client import Counter, Histogram

USERS_CREATED = Counter(
    "identity_users_created",
    "Users created, by the path that created them. path=ensure means the user tried to start an interview "
    "before their webhook arrived: cause=session_claims (profile from their session token, no call to Clerk), "
    "webhook_not_yet_delivered (profile from Clerk) or clerk_unavailable (stored with a pending profile). Many of "
    "these: check the Clerk webhook.",
    ["path", "cause"],
)
WEBHOOK_EVENTS = Counter(
    "identity_webhook_events",
    "Clerk webhook deliveries by event type and outcome "
    "(applied, duplicate, stale, ignored; rejected: bad signature; malformed: unreadable payload).",
    ["type", "outcome"],
)
WEBHOOK_LAG = Histogram(
    "identity_webhook_lag_seconds",
    "Time from Clerk's event timestamp to its receipt here.",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400),
)
WEBHOOK_EVENTS_PRUNED = Counter(
    "identity_webhook_events_pruned",
    "Webhook delivery records deleted after WEBHOOK_EVENTS_RETENTION_DAYS.",
)
CLERK_API_REQUESTS = Counter(
    "identity_clerk_api_requests",
    "Requests to the Clerk Backend API by operation and HTTP status (status=error: no response).",
    ["operation", "status"],
)
PENDING_REFRESHES = Counter(
    "identity_pending_profile_refreshes",
    "Ensure-user calls on a pending profile: asked (Clerk is asked again, in the background) or throttled "
    "(asked within the last 10 s for this user); then completed or clerk_unavailable.",
    ["outcome"],
)
