"""Organizations from a test's side: recruiters' and candidates' session tokens, and the calls they make."""

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from deploy.dev.standins.clerk.session_tokens import ActiveOrganization
from tests.support.clerk import clerk_user
from tests.support.credentials import bearer


def new_org_id() -> str:
    return f"org_{uuid.uuid4().hex}"


class Org:
    """An organization with one recruiter (a Clerk user whose session has it active, role admin)."""

    def __init__(self, org_id: str, recruiter_id: str, token_for: Callable[..., str]) -> None:
        self.id = org_id
        self.recruiter_id = recruiter_id
        self._token_for = token_for

    def headers(self, role: str = "org:admin", *, claims_version: int = 2) -> dict[str, str]:
        active = ActiveOrganization(self.id, f"slug-{self.id[-6:]}", role)
        return bearer(self._token_for(self.recruiter_id, organization=active, claims_version=claims_version))


async def new_org(clerk: httpx.AsyncClient, token_for: Callable[..., str]) -> Org:
    recruiter = await clerk_user(clerk, email=f"recruiter-{uuid.uuid4().hex[:8]}@example.com", first_name="Rita")
    return Org(new_org_id(), recruiter["id"], token_for)


TEMPLATE = {
    "title": "Backend engineer, first round",
    "instructions": "Be friendly. Ask about one project in depth.",
    "questions": ["Tell me about a system you built.", "What broke, and how did you find out?"],
    "rubric": {"depth": [1, 5], "communication": [1, 5]},
    "agent_name": None,
    "max_minutes": 30,
    "share_report_with_candidate": False,
}


async def create_template(sessions: httpx.AsyncClient, org: Org, **fields: Any) -> dict[str, Any]:
    response = await sessions.post("/api/org/templates", json={**TEMPLATE, **fields}, headers=org.headers())
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def create_invite(sessions: httpx.AsyncClient, org: Org, template_id: str, **fields: Any) -> dict[str, Any]:
    response = await sessions.post(f"/api/org/templates/{template_id}/invites", json=fields, headers=org.headers())
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def candidate(
    clerk: httpx.AsyncClient, token_for: Callable[..., str], email: str | None = None
) -> tuple[str, dict[str, str]]:
    """A signed-in candidate (no active organization): their Clerk id and headers."""
    user = await clerk_user(clerk, email=email or f"cand-{uuid.uuid4().hex[:8]}@example.com", first_name="Carl")
    return user["id"], bearer(token_for(user["id"]))


async def redeem(
    sessions: httpx.AsyncClient, code: str, headers: dict[str, str], *, consenting: bool = True, recording: bool = True
) -> httpx.Response:
    """Redeem as a frontend does: preview the notice, then redeem with the candidate's consent to its version (and
    to the recording, as `recording` says); `consenting=False` redeems without a consent body."""
    body: dict[str, Any] = {"code": code}
    if consenting:
        shown = await sessions.post("/api/invites/preview", json={"code": code}, headers=headers)
        if shown.status_code == 200:
            version = shown.json()["template"]["version"]
            body["consent"] = {"template_version": version, "ai_evaluation": True, "recording": recording}
    return await sessions.post("/api/invites/connection-details", json=body, headers=headers)


def sha256(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()
