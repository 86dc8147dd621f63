"""An organization's settings: how long its interviews are kept after they end (`retention_days`, 1 to 3650; null:
kept), set by its admins (`ORG_ADMIN_ROLES`), read by any recruiter. The retention task applies it as it stands
when it runs."""

from datetime import datetime
from typing import Annotated

import msgspec

from libs.common.db import Database
from services.sessions.organizations.access import Recruiter


class OrgSettingsWrite(msgspec.Struct, frozen=True, kw_only=True):
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None


class OrgSettings(msgspec.Struct, frozen=True, kw_only=True):
    retention_days: int | None
    updated_at: datetime | None


async def read_settings(database: Database, recruiter: Recruiter) -> OrgSettings:
    async with database.connection() as conn:
        row = await conn.fetchrow(
            "SELECT retention_days, updated_at FROM organization_settings WHERE org_id = $1", recruiter.org_id
        )
    return OrgSettings(retention_days=None, updated_at=None) if row is None else OrgSettings(**dict(row))


async def write_settings(database: Database, admin: Recruiter, write: OrgSettingsWrite) -> OrgSettings:
    """Set the organization's settings (an organization already erased keeps none: 404 would be its next read)."""
    async with database.connection() as conn:
        row = await conn.fetchrow(
            """INSERT INTO organization_settings AS s (org_id, retention_days) SELECT $1::text, $2::int
               WHERE NOT EXISTS (SELECT 1 FROM erased_organizations e WHERE e.org_id = $1::text)
               ON CONFLICT (org_id) DO UPDATE SET retention_days = EXCLUDED.retention_days, updated_at = now()
               RETURNING retention_days, updated_at""",
            admin.org_id,
            write.retention_days,
        )
    if row is None:
        return OrgSettings(retention_days=write.retention_days, updated_at=None)
    return OrgSettings(**dict(row))
