"""Session tokens as Clerk's Frontend API issues them to a signed-in browser (`getToken()`): the stand-in holds
the instance's signing key, so a page or a test asks it for one. With an organization, the token says it is
active and the member's role in it (v2's `o`, or v1's `org_*` claims); with `profile_claims` on (the default), it
carries what an app's customized session token would (the user's email and names)."""

from typing import Any

import msgspec
from litestar import Response, post
from litestar.datastructures import State
from litestar.params import JSONBody

from deploy.dev.standins.clerk.core import standin_of
from deploy.dev.standins.clerk.session_tokens import (
    DEV_APP_ORIGIN,
    ActiveOrganization,
    mint_session_token,
    profile_claims,
    signing_key,
)


class SessionRequest(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    org_id: str | None = None
    authorized_party: str = DEV_APP_ORIGIN
    lifetime_seconds: int = 60
    claims_version: int = 2


@post("/_standin/sessions", status_code=200)
async def mint_session(data: JSONBody[SessionRequest], state: State) -> Response[Any]:
    standin = standin_of(state)
    if standin.config.jwt_private_pem is None:
        return Response({"detail": "no signing key configured (CLERK_JWT_PRIVATE_KEY)"}, status_code=409)
    user = standin.users.get(data.user_id)
    if user is None:
        return Response({"detail": f"no user {data.user_id}"}, status_code=404)
    organization = None
    if data.org_id is not None:
        membership = standin.memberships.get(data.org_id, {}).get(data.user_id)
        if membership is None:
            return Response({"detail": f"{data.user_id} is not a member of {data.org_id}"}, status_code=403)
        slug = standin.organizations[data.org_id]["slug"]
        organization = ActiveOrganization(data.org_id, slug, membership["role"])
    token = mint_session_token(
        signing_key(standin.config.jwt_private_pem),
        subject=data.user_id,
        lifetime_seconds=data.lifetime_seconds,
        authorized_party=data.authorized_party,
        organization=organization,
        claims_version=data.claims_version,
        extra_claims=profile_claims(user) if standin.config.profile_claims else None,
    )
    return Response({"token": token})
