"""One organization never sees or changes another's data, whatever the sequence of creates, updates, archives,
invites, redemptions and revocations; and of simultaneous first uses of one invite, exactly one wins."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.support.hostile import HOSTILE
from tests.support.organizations import TEMPLATE, Org, candidate, new_org, redeem
from tests.support.rows import rows

Token = Callable[..., str]


async def test_fifty_simultaneous_first_uses_of_one_invite_give_one_interview_and_49_refusals(
    roomy_sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Token, sessions_db: str
):
    sessions = roomy_sessions
    org = await new_org(clerk, session_token)
    template = (await sessions.post("/api/org/templates", json=TEMPLATE, headers=org.headers())).json()
    invite = (
        await sessions.post(f"/api/org/templates/{template['id']}/invites", json={}, headers=org.headers())
    ).json()
    candidates = [await candidate(clerk, session_token) for _ in range(50)]

    answers = await asyncio.gather(*(redeem(sessions, invite["code"], headers) for _, headers in candidates))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [403] * 49, [answer.text for answer in answers if answer.status_code not in (200, 403)]
    assert {answer.json()["type"] for answer in answers if answer.status_code == 403} == {
        "urn:problem:invite-for-someone-else"
    }
    winner = candidates[[answer.status_code for answer in answers].index(200)][0]
    interviews = await rows(sessions_db, "SELECT clerk_id FROM interviews")
    assert interviews == [{"clerk_id": winner}]
    [bound] = await rows(sessions_db, "SELECT redeemed_by FROM invites")
    assert bound["redeemed_by"] == winner


@dataclass
class World:
    """What each organization made, as the test saw it answered."""

    orgs: list[Org]
    templates: dict[str, str] = field(default_factory=dict)  # template id -> org id
    invites: dict[str, tuple[str, str]] = field(default_factory=dict)  # invite id -> (org id, code)


Step = tuple[str, int, int]  # (operation, which organization acts, which earlier item it targets)
steps = st.lists(
    st.tuples(
        st.sampled_from(["template", "update", "archive", "invite", "revoke", "redeem", "read"]),
        st.integers(min_value=0, max_value=1),
        st.integers(min_value=0, max_value=7),
    ),
    min_size=1,
    max_size=12,
)


def pick(items: dict[str, object], index: int) -> str | None:
    keys = sorted(items)
    return keys[index % len(keys)] if keys else None


async def act(sessions: httpx.AsyncClient, world: World, step: Step, candidates: list[dict[str, str]]) -> None:
    """One step; an organization acting on another's item must get 404 (asserted by the caller's checks)."""
    operation, actor_index, target = step
    actor = world.orgs[actor_index]
    headers = actor.headers()
    if operation == "template":
        made = await sessions.post("/api/org/templates", json=TEMPLATE, headers=headers)
        assert made.status_code == 201
        world.templates[made.json()["id"]] = actor.id
    elif operation in ("update", "archive", "invite", "read") and (template := pick(world.templates, target)):
        owned = world.templates[template] == actor.id
        if operation == "update":
            answer = await sessions.put(f"/api/org/templates/{template}", json=TEMPLATE, headers=headers)
            assert answer.status_code in ((200, 409) if owned else (404,))
        elif operation == "archive":
            answer = await sessions.delete(f"/api/org/templates/{template}", headers=headers)
            assert answer.status_code == (204 if owned else 404)
        elif operation == "invite":
            answer = await sessions.post(f"/api/org/templates/{template}/invites", json={}, headers=headers)
            assert answer.status_code in ((201, 409) if owned else (404,))
            if answer.status_code == 201:
                world.invites[answer.json()["id"]] = (actor.id, answer.json()["code"])
        else:
            answer = await sessions.get(f"/api/org/templates/{template}", headers=headers)
            assert answer.status_code == (200 if owned else 404)
    elif operation == "revoke" and (invite := pick(world.invites, target)):
        answer = await sessions.delete(f"/api/org/invites/{invite}", headers=headers)
        assert answer.status_code in ((204, 409) if world.invites[invite][0] == actor.id else (404,))
    elif operation == "redeem" and (invite := pick(world.invites, target)):
        answer = await redeem(sessions, world.invites[invite][1], candidates[target % len(candidates)])
        assert answer.status_code in (200, 403, 409, 410, 429)


async def check_isolation(sessions: httpx.AsyncClient, world: World, sessions_db: str) -> None:
    """Each organization lists exactly its own, and every stored row belongs to the organization that made it."""
    for org in world.orgs:
        listed = {
            path: {
                item["id"] for item in (await sessions.get(path, params=params, headers=org.headers())).json()["items"]
            }
            for path, params in (
                ("/api/org/templates", {"archived": "true", "limit": 100}),
                ("/api/org/invites", {"limit": 100}),
                ("/api/org/interviews", {"limit": 100}),
            )
        }
        assert listed["/api/org/templates"] == {t for t, owner in world.templates.items() if owner == org.id}
        assert listed["/api/org/invites"] == {i for i, (owner, _) in world.invites.items() if owner == org.id}
        of_its_invites = await rows(
            sessions_db, "SELECT interview_id FROM invites WHERE org_id = $1 AND interview_id IS NOT NULL", org.id
        )
        assert listed["/api/org/interviews"] == {str(row["interview_id"]) for row in of_its_invites}
    stored = await rows(
        sessions_db,
        """SELECT i.org_id = t.org_id AND (iv.id IS NULL OR iv.org_id = i.org_id) AS consistent
           FROM invites i JOIN interview_templates t ON t.id = i.template
           LEFT JOIN interviews iv ON iv.id = i.interview_id""",
    )
    assert all(row["consistent"] for row in stored)
    pinned = await rows(
        sessions_db,
        """SELECT iv.org_id = t.org_id AS consistent
           FROM interviews iv JOIN interview_templates t ON t.id = iv.template_id""",
    )
    assert all(row["consistent"] for row in pinned)


@HOSTILE
@given(sequence=steps)
async def test_no_sequence_lets_one_organization_see_or_change_another_s_data(
    roomy_sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    session_token: Token,
    sessions_db: str,
    sequence: list[Step],
):
    sessions = roomy_sessions
    world = World(orgs=[await new_org(clerk, session_token), await new_org(clerk, session_token)])
    candidates = [(await candidate(clerk, session_token))[1] for _ in range(2)]

    for step in sequence:
        await act(sessions, world, step, candidates)

    await check_isolation(sessions, world, sessions_db)
