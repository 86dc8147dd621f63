"""Who may write an interview's transcript and report: the agent LiveKit dispatched into its room.

An agent worker holds the project's LiveKit API key pair; it proves it with a LiveKit access token it mints
itself (`AccessToken(key, secret)` with `VideoGrants(room=<the room>, room_admin=True)`), sent as
`Authorization: Bearer`. The token is verified here by livekit-api's `TokenVerifier` (HS256 with the API
secret, issuer the API key, `exp` required); what it grants is checked by the domain (`agent_reports.check_grant`)
before any interview is looked up. The candidate's own participant token grants no `roomAdmin`: it cannot write.
"""

from dataclasses import dataclass
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from livekit.api import TokenVerifier

from libs.common.internal_auth import bearer_token
from services.sessions.metrics import AGENT_WRITES_REFUSED


class InvalidAgentToken(NotAuthorizedException):
    """No LiveKit access token, or one this project's key pair did not sign, or expired (401)."""

    def __init__(self, detail: str) -> None:
        AGENT_WRITES_REFUSED.labels("unauthenticated").inc()
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="agent"'})


@dataclass(frozen=True, slots=True)
class AgentGrant:
    """What a verified LiveKit access token lets its bearer do: administer `room` (when `room_admin`)."""

    identity: str
    room: str | None
    room_admin: bool


class AgentAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Every `/agent/*` request carries a LiveKit access token signed with this project's key pair;
    `request.user` is its `AgentGrant`. Anything wrong with the token (its signature, expiry, any claim's
    shape) is 401."""

    def __init__(self, app: Any, verifier: TokenVerifier, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._verifier = verifier

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection.scope)
        if token is None:
            raise InvalidAgentToken("A LiveKit access token is required (Authorization: Bearer).")
        try:
            claims = self._verifier.verify(token)
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise InvalidAgentToken("The LiveKit access token is invalid or expired.") from error
        video = claims.video
        room = video.room if video is not None and isinstance(video.room, str) else None
        room_admin = video is not None and video.room_admin is True
        identity = claims.identity if isinstance(claims.identity, str) else ""
        return AuthenticationResult(user=AgentGrant(identity=identity, room=room, room_admin=room_admin), auth=None)
