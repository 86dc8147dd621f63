"""The candidate's consent before an organization's AI interviews them: the notice they read (versioned with the
template, the service's own when it has none), a first redemption refused without consent (a refusal recorded for
the recruiters), consents shown to both sides and to the agent, and withdrawn at will."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.sessions.consents.notice import DEFAULT_NOTICE
from tests.support.credentials import bearer
from tests.support.livekit import agent_write_token
from tests.support.organizations import Org, candidate, create_invite, create_template, new_org, redeem
from tests.support.rows import rows

Token = Callable[..., str]


@pytest.fixture
async def org(clerk: httpx.AsyncClient, session_token: Token) -> Org:
    return await new_org(clerk, session_token)


async def redeem_with(
    sessions: httpx.AsyncClient, code: str, headers: dict[str, str], consent: dict[str, Any] | None
) -> httpx.Response:
    body: dict[str, Any] = {"code": code} | ({"consent": consent} if consent is not None else {})
    return await sessions.post("/api/invites/connection-details", json=body, headers=headers)


async def test_a_template_s_notice_is_versioned_with_it_and_the_preview_shows_the_latest(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org, notice="The AI scores your answers on depth.")
    await sessions.put(
        f"/api/org/templates/{template['id']}",
        json={"title": "v2", "notice": "Now also on communication."},
        headers=org.headers(),
    )
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)

    first = await sessions.get(f"/api/org/templates/{template['id']}", params={"version": 1}, headers=org.headers())
    shown = await sessions.post("/api/invites/preview", json={"code": invite["code"]}, headers=headers)

    assert (template["notice"], template["recording"]) == ("The AI scores your answers on depth.", False)
    assert first.json()["notice"] == "The AI scores your answers on depth."
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "organization": {"id": org.id},
        "template": {
            "title": "v2",
            "version": 2,
            "notice": "Now also on communication.",
            "recording": False,
            "max_minutes": None,
        },
    }
    assert await rows(sessions_db, "SELECT id FROM interviews") == []
    [state] = await rows(sessions_db, "SELECT redeemed_by FROM invites")
    assert state["redeemed_by"] is None


async def test_a_template_without_a_notice_shows_the_service_s_and_bounds_are_422(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)

    shown = await sessions.post("/api/invites/preview", json={"code": invite["code"]}, headers=headers)
    too_long = await sessions.post(
        "/api/org/templates", json={"title": "t", "notice": "é" * 4097}, headers=org.headers()
    )
    recording = await sessions.post("/api/org/templates", json={"title": "t", "recording": True}, headers=org.headers())

    assert shown.json()["template"]["notice"] == DEFAULT_NOTICE
    assert "a person" in DEFAULT_NOTICE
    assert (too_long.status_code, recording.status_code) == (422, 422)
    assert "notice" in too_long.json()["detail"]
    assert "RECORDINGS_S3_BUCKET" in recording.json()["detail"]


async def test_the_preview_refuses_as_the_redemption_does_and_binds_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    template = await create_template(sessions, org)
    used = await create_invite(sessions, org, template["id"])
    revoked = await create_invite(sessions, org, template["id"])
    named = await create_invite(sessions, org, template["id"], email="someone.else@example.com")
    await sessions.delete(f"/api/org/invites/{revoked['id']}", headers=org.headers())
    _, first = await candidate(clerk, session_token)
    _, second = await candidate(clerk, session_token)
    assert (await redeem(sessions, used["code"], first)).status_code == 200

    answers = {
        name: await sessions.post("/api/invites/preview", json={"code": code}, headers=second)
        for name, code in (
            ("unknown", "no-such-code"),
            ("used", used["code"]),
            ("revoked", revoked["code"]),
            ("named", named["code"]),
        )
    }
    own = await sessions.post("/api/invites/preview", json={"code": used["code"]}, headers=first)

    assert {name: answer.status_code for name, answer in answers.items()} == {
        "unknown": 404,
        "used": 403,
        "revoked": 410,
        "named": 403,
    }
    assert own.status_code == 200


async def test_a_first_redemption_without_consent_is_409_with_the_notice_and_creates_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org, notice="Scored by an AI.")
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)

    absent = await redeem_with(sessions, invite["code"], headers, None)
    other_version = await redeem_with(sessions, invite["code"], headers, {"template_version": 7, "ai_evaluation": True})

    for refused in (absent, other_version):
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        body = refused.json()
        assert (body["type"], body["template_version"]) == ("urn:problem:consent-required", 1)
        assert body["template"]["notice"] == "Scored by an AI."
    assert await rows(sessions_db, "SELECT id FROM interviews") == []
    assert await rows(sessions_db, "SELECT id FROM consents") == []
    listed = await sessions.get("/api/org/invites", headers=org.headers())
    assert [item["state"] for item in listed.json()["items"]] == ["pending"]


async def test_a_candidate_who_declines_is_shown_declined_and_may_still_consent(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)
    no = {"template_version": 1, "ai_evaluation": False}

    declined = await redeem_with(sessions, invite["code"], headers, no)
    again = await redeem_with(sessions, invite["code"], headers, no)
    listed = await sessions.get("/api/org/invites", params={"state": "declined"}, headers=org.headers())
    yes = await redeem_with(sessions, invite["code"], headers, {"template_version": 1, "ai_evaluation": True})

    assert (declined.status_code, again.status_code) == (409, 409)
    assert "declined" in declined.json()["detail"]
    assert [item["id"] for item in listed.json()["items"]] == [invite["id"]]
    assert yes.status_code == 200, yes.text
    [interview] = (await sessions.get("/api/interviews", headers=headers)).json()["items"]
    consents = (await sessions.get(f"/api/interviews/{interview['id']}", headers=headers)).json()["consents"]
    assert [(c["scope"], c["template_version"], c["given"], c["withdrawn_at"]) for c in consents] == [
        ("ai_evaluation", 1, False, None),  # one refusal, however often it was said
        ("ai_evaluation", 1, True, None),
    ]
    still = await sessions.get("/api/org/invites", params={"state": "declined"}, headers=org.headers())
    assert still.json()["items"] == []


async def test_consents_are_shown_to_the_recruiters_and_the_agent_and_rejoins_need_none(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)
    started = await redeem(sessions, invite["code"], headers)
    room = started.json()["roomName"]

    rejoined = await redeem_with(sessions, invite["code"], headers, None)
    [listed] = (await sessions.get("/api/org/interviews", headers=org.headers())).json()["items"]
    detail = await sessions.get(f"/api/org/interviews/{listed['id']}", headers=org.headers())
    brief = await sessions.get(f"/agent/interviews/{listed['id']}", headers=bearer(agent_write_token(room)))

    assert (rejoined.status_code, rejoined.json()["roomName"]) == (200, room)
    assert [(c["scope"], c["given"]) for c in detail.json()["consents"]] == [("ai_evaluation", True)]
    assert brief.json()["consent"] == {"ai_evaluation": True, "recording": False}


async def test_withdrawing_the_ai_evaluation_erases_the_report_and_refuses_the_agent_a_new_one(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, headers = await candidate(clerk, session_token)
    room = (await redeem(sessions, invite["code"], headers)).json()["roomName"]
    [interview] = await rows(sessions_db, "SELECT id FROM interviews")
    agent = bearer(agent_write_token(room))
    report = {"version": 1, "summary": "Strong on depth.", "data": {"depth": 5}}
    assert (await sessions.put(f"/agent/interviews/{interview['id']}/report", json=report, headers=agent)).is_success

    withdrawn = await sessions.delete(f"/api/interviews/{interview['id']}/consent/ai_evaluation", headers=headers)
    again = await sessions.delete(f"/api/interviews/{interview['id']}/consent/ai_evaluation", headers=headers)
    rewritten = await sessions.put(
        f"/agent/interviews/{interview['id']}/report", json={**report, "version": 2}, headers=agent
    )
    brief = await sessions.get(f"/agent/interviews/{interview['id']}", headers=agent)
    detail = await sessions.get(f"/api/org/interviews/{interview['id']}", headers=org.headers())

    assert (withdrawn.status_code, again.status_code) == (204, 204)
    assert (rewritten.status_code, rewritten.json()["type"]) == (409, "urn:problem:consent-withdrawn")
    assert brief.json()["consent"] == {"ai_evaluation": False, "recording": False}
    assert detail.json()["report"] is None
    [consent] = detail.json()["consents"]
    assert consent["withdrawn_at"] is not None
    assert await rows(sessions_db, "SELECT id FROM interview_reports") == []


async def test_an_unknown_scope_is_400_and_another_user_s_interview_404_untouched(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, org: Org, session_token: Token, sessions_db: str
):
    template = await create_template(sessions, org)
    invite = await create_invite(sessions, org, template["id"])
    _, owner = await candidate(clerk, session_token)
    _, stranger = await candidate(clerk, session_token)
    await redeem(sessions, invite["code"], owner)
    [interview] = await rows(sessions_db, "SELECT id FROM interviews")

    unknown = await sessions.delete(f"/api/interviews/{interview['id']}/consent/marketing", headers=owner)
    foreign = await sessions.delete(f"/api/interviews/{interview['id']}/consent/ai_evaluation", headers=stranger)

    assert unknown.status_code == 400
    assert foreign.status_code == 404
    [consent] = await rows(sessions_db, "SELECT withdrawn_at FROM consents")
    assert consent["withdrawn_at"] is None
