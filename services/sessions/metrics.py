"""What a person on call watches in the sessions service (Prometheus series)."""

from prometheus_client import Counter, Histogram

IDENTITY_RPC_DURATION = Histogram(
    "sessions_identity_rpc_duration_seconds",
    "Duration of every ensure-user call to the identity service, failed ones included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
IDENTITY_RPC_FAILURES = Counter(
    "sessions_identity_rpc_failures",
    "Ensure-user calls that did not give a user: unreachable, timeout, server_error, rejected_token.",
    ["reason"],
)
INTERVIEWS_CREATED = Counter("sessions_interviews_created", "Interviews started (a new room each).")
INTERVIEWS_ENDED = Counter("sessions_interviews_ended", "Interviews that reached the ended state.")
