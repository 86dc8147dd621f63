"""/metrics on sessions: interviews started and ended, and how the ensure-user RPC behaves."""

from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.livekit import livekit_webhook
from tests.support.metrics import sample


async def test_metrics_count_interviews_and_rpc_calls(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    before = (await sessions.get("/metrics")).text
    user = await clerk_user(clerk, email="metrics@example.com")
    started = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(user["id"])))
    body, auth = livekit_webhook("room_finished", started.json()["roomName"])
    await sessions.post("/webhooks/livekit", content=body, headers={"Authorization": auth})

    after = (await sessions.get("/metrics")).text

    for name in ("sessions_interviews_created_total", "sessions_interviews_ended_total"):
        assert sample(after, name) - sample(before, name) == 1
    rpc_calls = "sessions_identity_rpc_duration_seconds_count"
    assert sample(after, rpc_calls) - sample(before, rpc_calls) == 1
    assert 'sessions_requests_total{app_name="sessions",method="POST",path="/api/livekit/connection-details"' in after
