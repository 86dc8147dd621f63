"""The organization's admins' API (`ORG_ADMIN_ROLES`): its settings (retention) and who read what (its access log);
any recruiter reads the settings."""

import uuid
from typing import Annotated

from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter

from libs.common.openapi import WITH_BODY, problems
from services.sessions.interviews.routes import SIGNED_IN
from services.sessions.organizations.access import Recruiter, admin_of
from services.sessions.organizations.access_log import AccessPage, list_access
from services.sessions.organizations.org_settings import OrgSettings, OrgSettingsWrite, read_settings, write_settings
from services.sessions.runtime import Runtime

RECRUITER = SIGNED_IN
Limit = Annotated[int, QueryParameter(ge=1, le=100)]


class OrganizationController(Controller):
    path = "/"
    tags = ("organizations",)

    @get("/settings", summary="The organization's settings (retention)", responses=problems(*RECRUITER))
    async def settings(self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime]) -> OrgSettings:
        return await read_settings(runtime.database, recruiter)

    @put(
        "/settings",
        summary="Set how long the organization's interviews are kept after they end (admins)",
        description="`retention_days` 1..3650, or null to keep them. 403 for a role not in ORG_ADMIN_ROLES.",
        responses=problems(*WITH_BODY, *RECRUITER),
    )
    async def write_settings(
        self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime], data: JSONBody[OrgSettingsWrite]
    ) -> OrgSettings:
        admin = admin_of(recruiter, runtime.settings.admin_roles)
        return await write_settings(runtime.database, admin, data)

    @get(
        "/access-log",
        summary="Who read what of the organization's interviews, newest first (admins)",
        responses=problems(400, *RECRUITER),
    )
    async def access_log(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        *,
        interview_id: FromQuery[uuid.UUID | None] = None,
        actor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> AccessPage:
        admin = admin_of(recruiter, runtime.settings.admin_roles)
        return await list_access(
            runtime.database, admin, interview_id=interview_id, actor=actor, cursor=cursor, limit=limit
        )
