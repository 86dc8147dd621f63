"""Who may use `/api/org/*`: a member of the session's active organization whose role is one of
`ORG_RECRUITER_ROLES` (the org router's `recruiter` dependency). No call to Clerk: the session token says both
(Clerk refreshes it every minute, so a membership Clerk removes stops working within one)."""

import msgspec

from services.sessions.auth.tokens import ClerkSession
from services.sessions.errors import NoActiveOrganization, NotAnAdmin, NotARecruiter


class Recruiter(msgspec.Struct, frozen=True):
    """The caller of an `/api/org/*` route, as `recruiter_of` admitted them: every query names `org_id`; `role`
    (without `org:`) is what a candidate is shown of who read their interview."""

    clerk_id: str
    org_id: str
    role: str


def admin_of(recruiter: Recruiter, admin_roles: frozenset[str]) -> Recruiter:
    """The recruiter, if their role is one of `ORG_ADMIN_ROLES` (the organization's retention, its access log);
    403 otherwise."""
    if recruiter.role not in admin_roles:
        raise NotAnAdmin(f"Your role in organization {recruiter.org_id} does not administer it (ORG_ADMIN_ROLES).")
    return recruiter


def recruiter_of(session: ClerkSession, recruiter_roles: frozenset[str]) -> Recruiter:
    """The caller as a recruiter of their active organization; 403 without an active organization or with a
    role that is not a recruiter's."""
    organization = session.organization
    if organization is None:
        raise NoActiveOrganization("No organization is active in this session: choose one in the app first.")
    if organization.role not in recruiter_roles:
        raise NotARecruiter(f"Your role in organization {organization.id} does not manage interviews.")
    return Recruiter(session.user_id, organization.id, organization.role)
