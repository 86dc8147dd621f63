"""Who may use `/api/org/*`: a member of the session's active organization whose role is one of
`ORG_RECRUITER_ROLES` (the org router's `recruiter` dependency). No call to Clerk: the session token says both
(Clerk refreshes it every minute, so a membership Clerk removes stops working within one)."""

from services.sessions.auth.tokens import ClerkSession
from services.sessions.errors import NoActiveOrganization, NotARecruiter


class Recruiter:
    """The caller of an `/api/org/*` route, as the guard admitted them: their organization's id."""

    __slots__ = ("clerk_id", "org_id")

    def __init__(self, clerk_id: str, org_id: str) -> None:
        self.clerk_id = clerk_id
        self.org_id = org_id


def recruiter_of(session: ClerkSession, recruiter_roles: frozenset[str]) -> Recruiter:
    """The caller as a recruiter of their active organization; 403 without an active organization or with a
    role that is not a recruiter's."""
    organization = session.organization
    if organization is None:
        raise NoActiveOrganization("No organization is active in this session: choose one in the app first.")
    if organization.role not in recruiter_roles:
        raise NotARecruiter(f"Your role in organization {organization.id} does not manage interviews.")
    return Recruiter(session.user_id, organization.id)
