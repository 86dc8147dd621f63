"""The internal RPC the sessions service calls: ensure a user exists, read a user."""

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from libs.common.db import Database
from services.identity.clerk import ClerkClient
from services.identity.profiles import User
from services.identity.users import EnsuredUser, UserCreations, ensure_user, find_user


class EnsureUserRequest(msgspec.Struct, frozen=True):
    clerk_id: str


class UserResponse(msgspec.Struct, frozen=True):
    user: User


class InternalUsersController(Controller):
    path = "/internal/users"
    tags = ("internal",)

    @post("/ensure", status_code=200, summary="Return the user, creating it from Clerk if it is unknown")
    async def ensure(
        self,
        data: JSONBody[EnsureUserRequest],
        database: NamedDependency[Database],
        clerk: NamedDependency[ClerkClient],
        user_creations: NamedDependency[UserCreations],
    ) -> EnsuredUser:
        return await ensure_user(database, clerk, user_creations, data.clerk_id)

    @get("/{clerk_id:str}", summary="Return the stored user, tombstones included")
    async def read(self, clerk_id: FromPath[str], database: NamedDependency[Database]) -> UserResponse:
        return UserResponse(user=await find_user(database, clerk_id))
