"""Drive the running dev stack through the seed's three scenarios, then an interview's life in a LiveKit room
(through the LiveKit stand-in), then its agent's report read by the candidate, then an organization hiring
(template, invite link, the candidate's interview, the agent's brief, the recruiter's review, the organization's
erasure), over real HTTP, saying what happens.

Run through `python3 dev.py walkthrough` while `python3 dev.py up` is running. Exits non-zero if any
step does not go as promised.
"""

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from deploy.dev.devstack import STATE_DIR, StackInfo
from deploy.dev.secrets import DevSecrets
from deploy.dev.standins.clerk.session_tokens import mint_session_token


class StepFailed(Exception):
    pass


class Walkthrough:
    def __init__(self, info: StackInfo, secrets: DevSecrets, http: httpx.AsyncClient) -> None:
        self.info = info
        self.secrets = secrets
        self.http = http

    def signed_in(self, clerk_id: str) -> dict[str, str]:
        """The headers of a request by the user, with a session token as the Clerk stand-in's frontend gives one to
        the dev frontend's page."""
        token = mint_session_token(
            self.secrets.jwt_private_pem, subject=clerk_id, authorized_party=self.info.frontend_url
        )
        return {"Authorization": f"Bearer {token}"}

    def say(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def check(self, ok: bool, text: str) -> None:
        print(f"  {'✓' if ok else '✗'} {text}", flush=True)
        if not ok:
            raise StepFailed(text)

    async def clerk_signup(self, email: str, *, deliver: bool) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.info.clerk_url}/_standin/users",
            json={"email": email, "first_name": email.split("@", maxsplit=1)[0].title(), "deliver": deliver},
        )
        response.raise_for_status()
        return response.json()

    async def identity_user(self, clerk_id: str) -> dict[str, Any] | None:
        response = await self.http.get(
            f"{self.info.identity_url}/internal/users/{clerk_id}",
            headers={"Authorization": f"Bearer {self.secrets.internal_token}"},
        )
        return response.json()["user"] if response.status_code == 200 else None

    async def start_interview(self, clerk_id: str) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.info.sessions_url}/api/livekit/connection-details",
            headers=self.signed_in(clerk_id),
        )
        self.check(response.status_code == 200, f"POST /api/livekit/connection-details → {response.status_code}")
        details = response.json()
        self.say(f"room {details['roomName']} for participant '{details['participantName']}'")
        return details

    async def identity_rows(self, clerk_id: str) -> int:
        conn = await asyncpg.connect(self.info.identity_database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM users WHERE clerk_id = $1", clerk_id))
        finally:
            await conn.close()

    async def new_user_before_webhook(self) -> None:
        print("\n1. A new user starts an interview before Clerk's webhook reaches us", flush=True)
        signup = await self.clerk_signup(f"newcomer-{uuid.uuid4().hex[:6]}@example.com", deliver=False)
        clerk_id = signup["user"]["id"]
        self.say(f"signed up in Clerk as {clerk_id}; the user.created webhook is held back")
        self.check(await self.identity_user(clerk_id) is None, "identity has never heard of this user")
        await self.start_interview(clerk_id)
        user = await self.identity_user(clerk_id)
        self.check(
            user is not None and user["created_via"] == "ensure",
            "identity created the user on the fallback path (created_via=ensure)",
        )
        events = (await self.http.get(f"{self.info.clerk_url}/_standin/events")).json()
        svix_id = next(e["svix_id"] for e in events if e["event"]["data"].get("id") == clerk_id)
        late = await self.http.post(f"{self.info.clerk_url}/_standin/events/{svix_id}/redeliver")
        self.say(f"the late webhook arrives now; identity answers {late.json()['delivery']['status']}")
        self.check(await self.identity_rows(clerk_id) == 1, "still exactly one row for the user: no duplicate")

    async def existing_user(self) -> None:
        print("\n2. An existing user (the webhook arrived first) starts an interview", flush=True)
        signup = await self.clerk_signup(f"regular-{uuid.uuid4().hex[:6]}@example.com", deliver=True)
        clerk_id = signup["user"]["id"]
        self.say(f"signed up in Clerk as {clerk_id}; webhook delivered (status {signup['delivery']['status']})")
        user = await self.identity_user(clerk_id)
        self.check(user is not None and user["created_via"] == "webhook", "identity stored the user from the webhook")
        await self.start_interview(clerk_id)
        self.check(await self.identity_rows(clerk_id) == 1, "one row, untouched by the start")

    async def deleted_from_our_database(self) -> None:
        print("\n3. A user deleted from our database but alive in Clerk starts an interview", flush=True)
        signup = await self.clerk_signup(f"restored-{uuid.uuid4().hex[:6]}@example.com", deliver=True)
        clerk_id = signup["user"]["id"]
        conn = await asyncpg.connect(self.info.identity_database_url)
        try:
            await conn.execute("DELETE FROM users WHERE clerk_id = $1", clerk_id)
        finally:
            await conn.close()
        self.check(await self.identity_user(clerk_id) is None, f"{clerk_id} removed from the identity database")
        await self.start_interview(clerk_id)
        user = await self.identity_user(clerk_id)
        self.check(
            user is not None and user["profile_status"] == "complete",
            "identity fetched the user from Clerk again and stored the full profile",
        )

    async def interview_status(self, clerk_id: str, room: str) -> str:
        response = await self.http.get(f"{self.info.sessions_url}/api/interviews", headers=self.signed_in(clerk_id))
        return next(item["status"] for item in response.json()["items"] if item["room_name"] == room)

    async def livekit(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.info.livekit_standin_url}/_standin/{path}", json=body)
        response.raise_for_status()
        return response.json()

    async def life_in_a_room(self) -> None:
        print("\n4. An interview's life in its LiveKit room: start, join, rejoin, end", flush=True)
        if not self.info.livekit_standin_url:
            self.say(f"skipped: {self.info.livekit_url} is a real LiveKit server; join it with a LiveKit client")
            return
        signup = await self.clerk_signup(f"candidate-{uuid.uuid4().hex[:6]}@example.com", deliver=True)
        clerk_id = signup["user"]["id"]
        details = await self.start_interview(clerk_id)
        room = details["roomName"]
        self.check(await self.interview_status(clerk_id, room) == "created", "the interview is created")
        joined = await self.livekit("join", {"token": details["participantToken"]})
        self.say(f"the candidate joins the room as participant {joined['sid']}")
        self.check(await self.interview_status(clerk_id, room) == "active", "the join's webhook made it active")
        refreshed = await self.http.post(
            f"{self.info.sessions_url}/api/livekit/token",
            json={"room_name": room},
            headers=self.signed_in(clerk_id),
        )
        self.check(refreshed.status_code == 201, "a fresh token for the same room (a reload, a second tab)")
        rejoined = await self.livekit("join", {"token": refreshed.json()["participant_token"]})
        kicked = [event["event"] for event in rejoined["events"]]
        self.say(
            f"the candidate rejoins as {rejoined['sid']}; LiveKit reports {', '.join(kicked)} (DUPLICATE_IDENTITY)"
        )
        self.check(await self.interview_status(clerk_id, room) == "active", "the rejoin's kick ends nothing")
        await self.livekit("leave", {"room": room, "identity": clerk_id})
        self.say("the candidate leaves")
        self.check(await self.interview_status(clerk_id, room) == "ended", "the final leave ends the interview")

    async def agent_reports(self) -> None:
        print("\n5. The agent reports the interview; the candidate reads it", flush=True)
        if not self.info.livekit_standin_url:
            self.say(f"skipped: {self.info.livekit_url} is a real LiveKit server; your agent worker reports there")
            return
        signup = await self.clerk_signup(f"reported-{uuid.uuid4().hex[:6]}@example.com", deliver=True)
        clerk_id = signup["user"]["id"]
        details = await self.start_interview(clerk_id)
        room = details["roomName"]
        await self.livekit("join", {"token": details["participantToken"]})
        self.say("the candidate joins; the stand-in plays the dispatched agent, which reports through /agent/*")
        played = await self.livekit(f"rooms/{room}/agent", {})
        for sent in played["transcript"]:
            self.say(f"agent POST .../transcript → {sent['status']} {sent['body']}")
        self.say(f"agent PUT .../report → {played['report']['status']} {played['report']['body']}")
        await self.livekit(f"rooms/{room}/close", {})
        headers = self.signed_in(clerk_id)
        interview = f"{self.info.sessions_url}/api/interviews/{played['interview_id']}"
        detail = (await self.http.get(interview, headers=headers)).json()
        transcript = (await self.http.get(f"{interview}/transcript", headers=headers)).json()["items"]
        for segment in transcript:
            self.say(f"  {segment['speaker']:>9}: {segment['text']}")
        report = detail["report"] or {}
        self.say(f"report v{report.get('version')}: {report.get('summary')} {report.get('data')}")
        self.check(detail["status"] == "ended", "the interview ended")
        self.check(
            detail["transcript_segments"] == len(transcript) == 4 and report.get("version") == 1,
            "the candidate reads the whole transcript (the agent's retry stored nothing twice) and the report",
        )

    async def clerk_session(self, clerk_id: str, org_id: str | None = None) -> dict[str, str]:
        """The headers of a request by the user, with a session token the Clerk stand-in mints as Clerk's frontend
        API does: with the organization active (and the member's role), and the user's profile claims."""
        response = await self.http.post(
            f"{self.info.clerk_url}/_standin/sessions",
            json={"user_id": clerk_id, "org_id": org_id, "authorized_party": self.info.frontend_url},
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    async def sessions_rows(self, sql: str, *args: object) -> int:
        conn = await asyncpg.connect(self.info.sessions_database_url)
        try:
            return int(await conn.fetchval(sql, *args))
        finally:
            await conn.close()

    async def an_organization_hires(self) -> None:
        print("\n6. An organization hires: template, invite link, the candidate's interview, the review", flush=True)
        if not self.info.livekit_standin_url:
            self.say(f"skipped: {self.info.livekit_url} is a real LiveKit server; your agent worker reads its brief")
            return
        api = self.info.sessions_url
        recruiter = (await self.clerk_signup(f"recruiter-{uuid.uuid4().hex[:6]}@example.com", deliver=True))["user"]
        made = await self.http.post(
            f"{self.info.clerk_url}/_standin/organizations",
            json={"name": "Acme Hiring", "members": [{"user_id": recruiter["id"], "role": "org:recruiter"}]},
        )
        org_id = made.json()["organization"]["id"]
        self.say(f"Clerk: organization {org_id} (its webhook delivered), {recruiter['id']} its recruiter")
        as_recruiter = await self.clerk_session(recruiter["id"], org_id)
        template = await self.http.post(
            f"{api}/api/org/templates",
            json={
                "title": "Backend engineer, first round",
                "instructions": "Be friendly; ask about one project in depth.",
                "questions": ["Tell me about a system you built.", "What broke, and how did you find out?"],
                "rubric": {"depth": [1, 5]},
            },
            headers=as_recruiter,
        )
        self.check(template.status_code == 201, f"the recruiter writes a template → {template.status_code}")
        invite = await self.http.post(
            f"{api}/api/org/templates/{template.json()['id']}/invites", json={}, headers=as_recruiter
        )
        self.check(invite.status_code == 201, f"and invites a candidate: the link {invite.json()['url']}")
        candidate = (await self.clerk_signup(f"invited-{uuid.uuid4().hex[:6]}@example.com", deliver=True))["user"]
        as_candidate = await self.clerk_session(candidate["id"])
        code = {"code": invite.json()["code"]}
        unasked = await self.http.post(f"{api}/api/invites/connection-details", json=code, headers=as_candidate)
        self.check(
            unasked.status_code == 409 and unasked.json()["type"] == "urn:problem:consent-required",
            "redeeming without the candidate's consent starts nothing (409 consent-required)",
        )
        shown = (await self.http.post(f"{api}/api/invites/preview", json=code, headers=as_candidate)).json()
        self.say(
            f"the candidate reads the notice of v{shown['template']['version']}: {shown['template']['notice'][:60]}…"
        )
        consent = {"template_version": shown["template"]["version"], "ai_evaluation": True, "recording": False}
        details = await self.http.post(
            f"{api}/api/invites/connection-details", json={**code, "consent": consent}, headers=as_candidate
        )
        self.check(details.status_code == 200, f"and consents: room {details.json()['roomName']}")
        someone = (await self.clerk_signup(f"forwarded-{uuid.uuid4().hex[:6]}@example.com", deliver=True))["user"]
        forwarded = await self.http.post(
            f"{api}/api/invites/connection-details", json=code, headers=await self.clerk_session(someone["id"])
        )
        self.check(forwarded.status_code == 403, "the same link forwarded to someone else is refused (403)")
        room = details.json()["roomName"]
        await self.livekit("join", {"token": details.json()["participantToken"]})
        played = await self.livekit(f"rooms/{room}/agent", {})
        brief = played["brief"]["body"]
        self.say(f"the agent reads its brief: '{brief['template']['title']}' v{brief['template']['version']}")
        self.say(f"and asks: {played['transcript'][0]['status'] == 200 and brief['template']['questions'][0]}")
        self.check(played["report"]["status"] == 200, "the agent reports")
        listed = (await self.http.get(f"{api}/api/org/interviews", headers=as_recruiter)).json()["items"]
        [reviewed] = listed
        detail = (await self.http.get(f"{api}/api/org/interviews/{reviewed['id']}", headers=as_recruiter)).json()
        self.say(f"the recruiter reviews {reviewed['candidate']['name']}: {detail['report']['summary']}")
        mine = (await self.http.get(f"{api}/api/interviews/{reviewed['id']}", headers=as_candidate)).json()
        self.check(mine["report"] is None, "the candidate sees the status, not the report (the template keeps it)")
        deleted = await self.http.delete(f"{self.info.clerk_url}/_standin/organizations/{org_id}")
        self.say(f"Clerk deletes the organization; identity answers its webhook {deleted.json()['delivery']['status']}")
        for _ in range(50):
            left = await self.sessions_rows("SELECT count(*) FROM interviews WHERE org_id = $1", org_id)
            if not left:
                break
            await asyncio.sleep(0.1)
        templates = await self.sessions_rows("SELECT count(*) FROM interview_templates WHERE org_id = $1", org_id)
        self.check(left == templates == 0, "its templates, invites and interviews are erased within seconds")

    async def until(self, url: str, headers: dict[str, str], status: int) -> httpx.Response:
        """GET `url` every 0.2 s until it answers `status` (10 s at most); the last answer."""
        for _ in range(50):
            answer = await self.http.get(url, headers=headers)
            if answer.status_code == status:
                break
            await asyncio.sleep(0.2)
        return answer

    async def consent_recordings_and_rights(self) -> None:
        print("\n7. Consent, a recording, a person's decision, and the candidate's rights", flush=True)
        if not self.info.livekit_standin_url:
            self.say(f"skipped: {self.info.livekit_url} is a real LiveKit server (its egress records for it)")
            return
        api = self.info.sessions_url
        recruiter = (await self.clerk_signup(f"admin-{uuid.uuid4().hex[:6]}@example.com", deliver=True))["user"]
        made = await self.http.post(
            f"{self.info.clerk_url}/_standin/organizations",
            json={"name": "Globex Hiring", "members": [{"user_id": recruiter["id"], "role": "org:admin"}]},
        )
        org_id = made.json()["organization"]["id"]
        as_admin = await self.clerk_session(recruiter["id"], org_id)
        notice = "An AI asks the questions and rates your answers on depth; a person reads it and decides."
        template = await self.http.post(
            f"{api}/api/org/templates",
            json={"title": "Support engineer", "questions": ["A hard bug?"], "notice": notice, "recording": True},
            headers=as_admin,
        )
        self.check(template.status_code == 201, "the admin writes a template that records, with its own notice")
        invite = await self.http.post(
            f"{api}/api/org/templates/{template.json()['id']}/invites", json={}, headers=as_admin
        )
        code = {"code": invite.json()["code"]}
        candidate = (await self.clerk_signup(f"recorded-{uuid.uuid4().hex[:6]}@example.com", deliver=True))["user"]
        as_candidate = await self.clerk_session(candidate["id"])
        shown = (await self.http.post(f"{api}/api/invites/preview", json=code, headers=as_candidate)).json()
        self.say(f"the candidate reads: {shown['template']['notice']}")
        consent = {"template_version": shown["template"]["version"], "ai_evaluation": True, "recording": True}
        details = await self.http.post(
            f"{api}/api/invites/connection-details", json={**code, "consent": consent}, headers=as_candidate
        )
        self.check(details.status_code == 200, "and consents to the AI's evaluation and to the recording")
        room = details.json()["roomName"]
        await self.livekit("join", {"token": details.json()["participantToken"]})
        [item] = (await self.http.get(f"{api}/api/org/interviews", headers=as_admin)).json()["items"]
        heard_url = f"{api}/api/interviews/{item['id']}/recording"
        recording = await self.until(heard_url, as_candidate, 409)
        self.check(recording.status_code == 409, "their join starts LiveKit's egress: still recording (409)")
        for _ in range(50):
            if await self.sessions_rows(
                "SELECT count(*) FROM recordings WHERE room_name = $1 AND status = 'active'", room
            ):
                break
            await asyncio.sleep(0.2)
        await self.livekit(f"rooms/{room}/agent", {})
        await self.livekit("leave", {"room": room, "identity": candidate["id"]})
        link = await self.until(f"{api}/api/org/interviews/{item['id']}/recording", as_admin, 200)
        heard = await self.http.get(link.json()["url"]) if link.status_code == 200 else link
        self.check(
            heard.status_code == 200 and heard.content.startswith(b"OggS"),
            f"they leave; the recruiter hears {link.json().get('duration_ms')} ms of OGG through a link valid 300 s",
        )
        decided = await self.http.post(
            f"{api}/api/org/interviews/{item['id']}/decisions",
            json={"decision": "advance", "reason": "Clear answers."},
            headers=as_admin,
        )
        self.check(decided.status_code == 201, "having heard it, the recruiter records a decision of their own")
        mine = (await self.http.get(f"{api}/api/interviews/{item['id']}", headers=as_candidate)).json()
        self.say(f"the candidate sees who read it, by role: {[(r['role'], r['what']) for r in mine['read_by']]}")
        exported = await self.http.get(f"{api}/api/me/export", headers=as_candidate)
        self.check(
            exported.status_code == 200 and len(exported.json()["interviews"]) == 1,
            "the candidate downloads everything held about them (GET /api/me/export)",
        )
        deleted = await self.http.delete(f"{api}/api/interviews/{item['id']}", headers=as_candidate)
        left = (await self.http.get(f"{api}/api/org/interviews/{item['id']}", headers=as_admin)).json()
        self.check(
            deleted.status_code == 204 and left["status"] == "deleted",
            "and deletes the interview: the recruiters keep a tombstone, nothing of its content",
        )
        gone = await self.until(f"{api}/api/interviews/{item['id']}/recording", as_candidate, 404)
        pending = await self.sessions_rows(
            "SELECT count(*) FROM storage_deletions WHERE object_prefix = $1 AND deleted_at IS NULL",
            f"recordings/{item['id']}/",
        )
        for _ in range(50):
            if not pending:
                break
            await asyncio.sleep(0.2)
            pending = await self.sessions_rows(
                "SELECT count(*) FROM storage_deletions WHERE object_prefix = $1 AND deleted_at IS NULL",
                f"recordings/{item['id']}/",
            )
        self.check(gone.status_code == 404 and pending == 0, "its recording is erased from the bucket, every version")


async def run(info: StackInfo, secrets: DevSecrets) -> None:
    async with httpx.AsyncClient(timeout=15) as http:
        walkthrough = Walkthrough(info, secrets, http)
        await walkthrough.new_user_before_webhook()
        await walkthrough.existing_user()
        await walkthrough.deleted_from_our_database()
        await walkthrough.life_in_a_room()
        await walkthrough.agent_reports()
        await walkthrough.an_organization_hires()
        await walkthrough.consent_recordings_and_rights()


def main() -> None:
    stack_file, secrets_file = STATE_DIR / "stack.json", STATE_DIR / "secrets.json"
    if not stack_file.exists():
        sys.exit(f"no running stack found ({stack_file} is missing): start it with `python3 dev.py up`")
    info = msgspec.json.decode(stack_file.read_bytes(), type=StackInfo)
    secrets = msgspec.json.decode(Path(secrets_file).read_bytes(), type=DevSecrets)
    try:
        asyncio.run(run(info, secrets))
    except StepFailed as failure:
        sys.exit(f"\nwalkthrough failed at: {failure}")
    print("\nevery scenario behaved as promised", flush=True)


if __name__ == "__main__":
    main()
