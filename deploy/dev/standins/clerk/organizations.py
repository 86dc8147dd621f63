"""The Clerk stand-in's organizations: the Backend API's `GET /v1/organizations/{id}` and its memberships, and the
control API that creates, renames and deletes organizations (their `organization.*` webhooks recorded and
delivered, signed, as for users) and sets who is a member in which role."""

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody

from deploy.dev.standins.clerk.core import Answer, answer_with, error_answer, misbehave, standin_of
from deploy.dev.standins.clerk.payloads import (
    deleted_organization_event,
    make_membership,
    make_organization,
    organization_event,
    update_organization,
)


class Member(msgspec.Struct, frozen=True):
    user_id: str
    role: str = "org:member"  # as Clerk names roles: org:admin, org:member, or a custom org:recruiter


class NewOrganization(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    slug: str | None = None
    org_id: str | None = None
    members: list[Member] = []
    deliver: bool = True


class OrganizationChanges(msgspec.Struct, frozen=True, kw_only=True):
    name: str | None = None
    deliver: bool = True


def _not_found(what: str) -> Answer:
    return error_answer(404, "resource_not_found", "not found", f"{what} not found")


@get("/v1/organizations")
async def list_organizations(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """Clerk's paginated shape, newest first: `{"data": [...], "total_count"}`."""
    standin = standin_of(state)
    if (fault := await misbehave(standin, request.headers.get("authorization"), "list_organizations")) is not None:
        return answer_with(standin, fault)
    listed = sorted(standin.organizations.values(), key=lambda o: (o["created_at"], o["id"]), reverse=True)
    return answer_with(standin, Answer(200, {"data": listed, "total_count": len(listed)}))


@get("/v1/organizations/{org_id:str}")
async def get_organization(org_id: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[Any]:
    standin = standin_of(state)
    if (fault := await misbehave(standin, request.headers.get("authorization"), "get_organization")) is not None:
        return answer_with(standin, fault)
    found = standin.organizations.get(org_id)
    return answer_with(standin, _not_found("Organization") if found is None else Answer(200, found))


@get("/v1/organizations/{org_id:str}/memberships")
async def list_memberships(org_id: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """Clerk's paginated shape: `{"data": [...], "total_count"}`."""
    standin = standin_of(state)
    if (fault := await misbehave(standin, request.headers.get("authorization"), "list_memberships")) is not None:
        return answer_with(standin, fault)
    if org_id not in standin.organizations:
        return answer_with(standin, _not_found("Organization"))
    members = list(standin.memberships.get(org_id, {}).values())
    return answer_with(standin, Answer(200, {"data": members, "total_count": len(members)}))


def _set_member(state: State, org_id: str, member: Member) -> dict[str, Any]:
    standin = standin_of(state)
    organization, user = standin.organizations[org_id], standin.users[member.user_id]
    membership = make_membership(organization, user, member.role)
    standin.memberships.setdefault(org_id, {})[member.user_id] = membership
    organization["members_count"] = len(standin.memberships[org_id])
    return membership


@post("/_standin/organizations", status_code=201)
async def create_organization(data: JSONBody[NewOrganization], state: State) -> Response[Any]:
    standin = standin_of(state)
    unknown = [member.user_id for member in data.members if member.user_id not in standin.users]
    if unknown:
        return Response({"detail": f"no users {unknown}"}, status_code=404)
    creator = data.members[0].user_id if data.members else None
    organization = make_organization(org_id=data.org_id, name=data.name, slug=data.slug, created_by=creator)
    standin.organizations[organization["id"]] = organization
    for member in data.members:
        _set_member(state, organization["id"], member)
    recorded = await standin.record(organization_event("organization.created", organization), deliver=data.deliver)
    return Response({"organization": organization, **recorded}, status_code=201)


@put("/_standin/organizations/{org_id:str}/members", sync_to_thread=False)
def set_member(org_id: FromPath[str], data: JSONBody[Member], state: State) -> Response[Any]:
    standin = standin_of(state)
    if org_id not in standin.organizations or data.user_id not in standin.users:
        return Response({"detail": "unknown organization or user"}, status_code=404)
    return Response({"membership": _set_member(state, org_id, data)})


@patch("/_standin/organizations/{org_id:str}")
async def change_organization(
    org_id: FromPath[str], data: JSONBody[OrganizationChanges], state: State
) -> Response[Any]:
    standin = standin_of(state)
    if org_id not in standin.organizations:
        return Response({"detail": f"no organization {org_id}"}, status_code=404)
    changes = {"name": data.name} if data.name is not None else {}
    organization = standin.organizations[org_id] = update_organization(standin.organizations[org_id], **changes)
    recorded = await standin.record(organization_event("organization.updated", organization), deliver=data.deliver)
    return Response({"organization": organization, **recorded})


@delete("/_standin/organizations/{org_id:str}", status_code=200)
async def remove_organization(org_id: FromPath[str], state: State, deliver: FromQuery[bool] = True) -> Response[Any]:
    standin = standin_of(state)
    if standin.organizations.pop(org_id, None) is None:
        return Response({"detail": f"no organization {org_id}"}, status_code=404)
    standin.memberships.pop(org_id, None)
    return Response(await standin.record(deleted_organization_event(org_id), deliver=deliver))


ORGANIZATION_ROUTES = [
    list_organizations,
    get_organization,
    list_memberships,
    create_organization,
    set_member,
    change_organization,
    remove_organization,
]
