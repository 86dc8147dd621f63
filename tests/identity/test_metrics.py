"""/metrics tells a person on call how users are being created and how webhooks fare."""

import httpx

from deploy.dev.standins.clerk.payloads import make_user, user_event
from tests.support.clerk import deliver
from tests.support.metrics import sample


async def test_metrics_count_fallback_creations_webhook_outcomes_and_clerk_calls(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, svix_secret: str
):
    before = (await identity.get("/metrics")).text
    late = (await clerk.post("/_standin/users", json={"email": "m1@example.com", "deliver": False})).json()["user"]
    await identity.post("/internal/users/ensure", json={"clerk_id": late["id"]})
    await clerk.put("/_standin/faults", json={"fail_status": 503})
    outage = (await clerk.post("/_standin/users", json={"email": "m2@example.com", "deliver": False})).json()["user"]
    await identity.post("/internal/users/ensure", json={"clerk_id": outage["id"]})
    await deliver(identity, svix_secret, user_event("user.created", make_user(email="m3@example.com")))
    await identity.post("/webhooks/clerk", content=b"{}", headers={"svix-id": "msg_x"})

    after = (await identity.get("/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("identity_users_created_total", path="ensure", cause="webhook_not_yet_delivered") == 1
    assert grew("identity_users_created_total", path="ensure", cause="clerk_unavailable") == 1
    assert grew("identity_users_created_total", path="webhook", cause="") == 1
    assert grew("identity_webhook_events_total", type="user.created", outcome="applied") == 1
    assert grew("identity_webhook_events_total", type="unknown", outcome="rejected") == 1
    assert grew("identity_clerk_api_requests_total", operation="get_user", status="200") == 1
    assert grew("identity_clerk_api_requests_total", operation="get_user", status="503") == 3
    assert grew("identity_webhook_lag_seconds_count") == 1
    assert 'identity_requests_total{app_name="identity",method="POST",path="/internal/users/ensure"' in after


def series(metrics: str) -> int:
    return sum(1 for line in metrics.splitlines() if line.startswith("identity_request"))


async def test_made_up_methods_cannot_grow_the_metrics(identity: httpx.AsyncClient):
    """A method is a token the client chooses: every one outside the standard set is counted as OTHER, on the
    route it reached or `unmatched`, so no request adds a series the first made-up one did not."""
    await identity.request("FOO0", "/healthz")
    await identity.request("FOO0", "/no/such/path")
    before = (await identity.get("/metrics")).text

    for n in range(1, 1001):
        await identity.request(f"FOO{n}", "/healthz" if n % 2 else f"/no/such/path/{n}")

    after = (await identity.get("/metrics")).text
    assert series(after) == series(before)
    assert (
        sample(
            after, "identity_requests_total", app_name="identity", method="OTHER", path="unmatched", status_code="404"
        )
        >= 500
    )
    assert "FOO1" not in after
