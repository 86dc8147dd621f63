"""The internal RPC the sessions service calls: ensure a user exists, read a user, follow the changes feeds."""

from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from libs.common.openapi import WITH_BODY, problems
from libs.common.profile_claims import ProfileClaims
from libs.common.request_context import routine_request
from services.identity.changes import ChangesPage, OrganizationChangesPage, changes_after, organization_changes_after
from services.identity.profiles import User
from services.identity.runtime import Runtime
from services.identity.users import EnsuredUser, ensure_user, find_user


class EnsureUserRequest(msgspec.Struct, frozen=True):
    """`claims`: the profile the user's session token carries, if any; an unknown user is then made from it,
    without asking Clerk. `verified_email`: the caller will trust the user's primary email (an invite naming
    one), so it must be Clerk's word: identity asks Clerk when it holds no email Clerk verified, and the answer's
    `email_verified` says what Clerk said (null: Clerk could not be asked)."""

    clerk_id: str
    claims: ProfileClaims | None = None
    verified_email: bool = False


class UserResponse(msgspec.Struct, frozen=True):
    user: User


PageT = TypeVar("PageT", ChangesPage, OrganizationChangesPage)


def quiet_if_empty(page: PageT) -> PageT:
    """Followers poll a feed about once a second: only a page that hands them something is worth an INFO line."""
    if not page.items:
        routine_request()
    return page


class InternalUsersController(Controller):
    path = "/internal/users"
    tags = ("internal",)

    @post(
        "/ensure",
        status_code=200,
        summary="Return the user, creating it from Clerk if it is unknown",
        description="403: banned (`user-banned`) or locked (`user-locked`) in Clerk; 404: Clerk has no such user; "
        "410: deleted; 422: not a Clerk user id.",
        responses=problems(*WITH_BODY, 401, 403, 404, 410, 503),
    )
    async def ensure(self, data: JSONBody[EnsureUserRequest], runtime: NamedDependency[Runtime]) -> EnsuredUser:
        return await ensure_user(
            runtime.database,
            runtime.clerk,
            runtime.user_creations,
            runtime.pending_profiles,
            clerk_id=data.clerk_id,
            claims=data.claims,
            verified_email=data.verified_email,
        )

    @get(
        "/changes",
        summary="The users' changes feed (deleted, banned, unbanned, locked, unlocked), in commit order",
        responses=problems(400, 401, 503),
    )
    async def changes(
        self,
        runtime: NamedDependency[Runtime],
        after: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> ChangesPage:
        return quiet_if_empty(await changes_after(runtime.database, after, limit))

    @get(
        "/{clerk_id:str}",
        summary="Return the stored user, tombstones included",
        responses=problems(401, 404, 422, 503),
    )
    async def read(self, clerk_id: FromPath[str], runtime: NamedDependency[Runtime]) -> UserResponse:
        return UserResponse(user=await find_user(runtime.database, clerk_id))


class InternalOrganizationsController(Controller):
    path = "/internal/organizations"
    tags = ("internal",)

    @get(
        "/changes",
        summary="The organizations' changes feed (organization_deleted), in commit order",
        responses=problems(400, 401, 503),
    )
    async def changes(
        self,
        runtime: NamedDependency[Runtime],
        after: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> OrganizationChangesPage:
        return quiet_if_empty(await organization_changes_after(runtime.database, after, limit))
