"""An agent worker, played by the LiveKit stand-in when asked: it takes the room's dispatch, joins the room as an
agent and reports a short scripted interview to sessions through the real agent API, as a livekit-agents
worker does (the README's "The agent's side"): its job metadata names the interview, a LiveKit access token it
mints with the API key pair (roomAdmin over the room) authenticates it, it reads its brief (an organization's
template: it asks the template's first question), sends the transcript in batches (one resent, as a retry
would) and then its report."""

import json
from datetime import timedelta
from typing import Any

import httpx
from livekit.api import AccessToken, VideoGrants
from livekit.api.access_token import Claims

SCRIPT = [
    ("agent", "Hello! Thanks for joining. Could you walk me through a project you are proud of?"),
    ("candidate", "I rebuilt our sign-up flow so that it never depends on a webhook arriving in time."),
    ("agent", "What was the hardest part?"),
    ("candidate", "Making every write idempotent, so retries and reordering could not corrupt anything."),
]
REPORT = {
    "version": 1,
    "summary": "Clear account of a reliability project; explains idempotency well.",
    "data": {"scores": {"communication": 4, "technical_depth": 4}, "recommendation": "advance"},
}


class AgentJob:
    """What a worker reads from its job: the room and the dispatch metadata sessions put in it."""

    def __init__(self, room: str, agent_name: str, metadata: str) -> None:
        context = json.loads(metadata)
        self.room = room
        self.identity = f"agent-{agent_name}"
        self.interview_id: str = context["interview_id"]

    def claims(self) -> Claims:
        """What the worker's own join token would carry."""
        grants = VideoGrants(room_join=True, room=self.room, agent=True)
        return Claims(identity=self.identity, name=self.identity, kind="agent", video=grants)


async def report_interview(
    http: httpx.AsyncClient, sessions_url: str, job: AgentJob, key: str, secret: str
) -> dict[str, Any]:
    """Send the scripted transcript and the report; each answer's status and body."""
    token = (
        AccessToken(key, secret)
        .with_identity(job.identity)
        .with_grants(VideoGrants(room=job.room, room_admin=True))
        .with_ttl(timedelta(minutes=10))
        .to_jwt()
    )
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{sessions_url}/agent/interviews/{job.interview_id}"
    answers: dict[str, Any] = {"interview_id": job.interview_id, "identity": job.identity, "transcript": []}
    brief = await http.get(base, headers=headers)
    answers["brief"] = {"status": brief.status_code, "body": brief.json()}
    template = brief.json().get("template") if brief.status_code == 200 else None
    script = list(SCRIPT)
    if template and template["questions"]:
        script[0] = ("agent", f"Hello! Thanks for joining. {template['questions'][0]}")
    segments = [
        {"seq": seq, "speaker": speaker, "text": text, "started_at_ms": 4000 * seq, "ended_at_ms": 4000 * seq + 3500}
        for seq, (speaker, text) in enumerate(script)
    ]
    for batch in (segments[:2], segments[2:], segments[2:]):  # the last one is a retry: it stores nothing
        sent = await http.post(f"{base}/transcript", json={"segments": batch}, headers=headers)
        answers["transcript"].append({"status": sent.status_code, "body": sent.json()})
    put = await http.put(f"{base}/report", json=REPORT, headers=headers)
    answers["report"] = {"status": put.status_code, "body": put.json()}
    return answers
