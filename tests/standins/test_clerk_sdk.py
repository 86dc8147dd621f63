"""Clerk's own Python SDK (`clerk-backend-api`, generated from Clerk's OpenAPI) is the oracle of the Clerk
stand-in's wire format: it must parse every user, page, error and webhook payload the stand-in sends, and accept
the session tokens the stand-in mints with the JWKS the stand-in serves."""

import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from clerk_backend_api import Clerk, models
from clerk_backend_api.security import authenticate_request
from clerk_backend_api.security.types import AuthenticateRequestOptions, AuthErrorReason, AuthStatus
from clerk_backend_api.utils import BackoffStrategy, RetryConfig
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm

from deploy.dev.stack import ServiceProcess
from deploy.dev.standins.clerk.session_tokens import DEV_APP_ORIGIN, mint_session_token
from tests.support.clerk import clerk_user
from tests.support.credentials import CLERK_SECRET_KEY, ClerkKeyPair, jwk

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:clerk_backend_api.*")  # the SDK's own
NO_RETRIES = RetryConfig("backoff", BackoffStrategy(1, 1, 1, 1), retry_connection_errors=False)


@pytest.fixture
def sdk(clerk_standin: ServiceProcess) -> Iterator[Clerk]:
    with Clerk(bearer_auth=CLERK_SECRET_KEY, server_url=f"{clerk_standin.url}/v1") as client:
        yield client


async def test_the_sdk_parses_the_stand_in_s_users(clerk: httpx.AsyncClient, sdk: Clerk):
    full = await clerk_user(
        clerk, email="ada@example.com", phone="+15555550100", username="ada", first_name="Ada", last_name="L."
    )
    bare = await clerk_user(clerk, email=None)

    user = sdk.users.get(user_id=full["id"])
    empty = sdk.users.get(user_id=bare["id"])

    assert isinstance(user, models.User)
    assert (user.id, user.username, user.first_name, user.last_name) == (full["id"], "ada", "Ada", "L.")
    primary = next(e for e in user.email_addresses if e.id == user.primary_email_address_id)
    assert primary.email_address == "ada@example.com"
    assert primary.verification is not None
    assert [phone.phone_number for phone in user.phone_numbers] == ["+15555550100"]
    assert (empty.email_addresses, empty.primary_email_address_id) == ([], None)


async def test_the_sdk_pages_through_the_stand_in_s_user_list(clerk: httpx.AsyncClient, sdk: Clerk):
    created = {(await clerk_user(clerk, email=f"page{n}@example.com"))["id"] for n in range(5)}

    seen: list[str] = []
    while page := sdk.users.list(request={"limit": 2, "offset": len(seen), "order_by": "created_at"}):
        assert all(isinstance(user, models.User) for user in page)
        seen += [user.id for user in page]

    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == created


async def test_the_stand_in_s_errors_are_the_sdk_s_error_types(
    clerk: httpx.AsyncClient, sdk: Clerk, clerk_standin: ServiceProcess
):
    with pytest.raises(models.ClerkErrors) as missing:
        sdk.users.get(user_id="user_2nobody000000000000000000")
    with (
        Clerk(bearer_auth="sk_test_wrong", server_url=f"{clerk_standin.url}/v1") as stranger,
        pytest.raises(models.ClerkErrors) as refused,
    ):
        stranger.users.get(user_id="user_2nobody000000000000000000")
    await clerk.put("/_standin/faults", json={"rate_limit_count": 1, "retry_after_seconds": 7})
    with pytest.raises(models.SDKError) as limited:  # the SDK's type for a status its method does not list
        sdk.users.list(request={"limit": 1}, retries=NO_RETRIES)

    assert missing.value.status_code == 404
    assert missing.value.data.errors[0].code == "resource_not_found"
    assert refused.value.status_code == 401
    assert refused.value.data.errors[0].code == "authentication_invalid"
    assert limited.value.status_code == 429
    assert limited.value.headers["retry-after"] == "7"
    assert models.ClerkErrorsData.model_validate_json(limited.value.body).errors[0].code == "too_many_requests"


async def test_every_webhook_payload_the_stand_in_emits_is_a_user_or_deleted_object_of_the_sdk(
    clerk: httpx.AsyncClient,
):
    user = await clerk_user(clerk, email="hooked@example.com", phone="+15555550101", first_name="Hook")
    (
        await clerk.patch(f"/_standin/users/{user['id']}", json={"first_name": "Hooked", "deliver": False})
    ).raise_for_status()
    (await clerk.delete(f"/_standin/users/{user['id']}", params={"deliver": False})).raise_for_status()

    events: list[dict[str, Any]] = [recorded["event"] for recorded in (await clerk.get("/_standin/events")).json()]

    assert [event["type"] for event in events] == ["user.created", "user.updated", "user.deleted"]
    for event in events[:2]:
        parsed = models.User.model_validate(event["data"])
        assert parsed.id == user["id"]
    deleted = models.DeletedObject.model_validate(events[2]["data"])
    assert (deleted.id, deleted.deleted, deleted.object) == (user["id"], True, "user")


async def test_the_sdk_accepts_the_stand_in_s_session_tokens_with_its_jwks_and_refuses_expired_ones(
    clerk: httpx.AsyncClient, clerk_keys: ClerkKeyPair
):
    (await clerk.put("/_standin/jwks", json={"keys": [jwk(clerk_keys)]})).raise_for_status()
    user = await clerk_user(clerk, email="signed.in@example.com")
    # The SDK fetches a JWKS from api.clerk.com only (no setting points it elsewhere), so the stand-in's JWKS is
    # handed to it as the PEM it accepts for networkless verification.
    (served,) = (await clerk.get("/v1/jwks")).json()["keys"]
    public_key = cast(RSAPublicKey, RSAAlgorithm.from_jwk(served))
    pem = public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    options = AuthenticateRequestOptions(jwt_key=pem, authorized_parties=[DEV_APP_ORIGIN])

    def authenticate(token: str) -> Any:
        return authenticate_request(httpx.Request("GET", "/", headers={"Authorization": f"Bearer {token}"}), options)

    fresh = authenticate(mint_session_token(clerk_keys.private_key, subject=user["id"]))
    issued = int(time.time()) - 600
    expired = authenticate(mint_session_token(clerk_keys.private_key, subject=user["id"], issued_at=issued))

    assert fresh.status == AuthStatus.SIGNED_IN, fresh.reason
    assert fresh.payload["sub"] == user["id"]
    assert expired.status == AuthStatus.SIGNED_OUT
    assert expired.reason is not None
    assert expired.reason != AuthErrorReason.SECRET_KEY_MISSING


async def test_the_sdk_parses_the_stand_in_s_organizations_memberships_and_their_webhooks(
    clerk: httpx.AsyncClient, sdk: Clerk
):
    recruiter = await clerk_user(clerk, email="org.admin@example.com", first_name="Olga")
    created = await clerk.post(
        "/_standin/organizations",
        json={"name": "Acme Hiring", "members": [{"user_id": recruiter["id"], "role": "org:admin"}], "deliver": False},
    )
    org_id = created.json()["organization"]["id"]
    (await clerk.patch(f"/_standin/organizations/{org_id}", json={"name": "Acme", "deliver": False})).raise_for_status()

    organization = sdk.organizations.get(organization_id=org_id)
    memberships = sdk.organization_memberships.list(organization_id=org_id)
    listed = sdk.organizations.list()
    (await clerk.delete(f"/_standin/organizations/{org_id}", params={"deliver": False})).raise_for_status()
    events = [recorded["event"] for recorded in (await clerk.get("/_standin/events")).json()]

    assert isinstance(organization, models.Organization)
    assert (organization.id, organization.name, organization.slug) == (org_id, "Acme", "acme-hiring")
    assert memberships is not None
    assert [(m.role, m.public_user_data.user_id) for m in memberships.data] == [("org:admin", recruiter["id"])]  # type: ignore[union-attr]
    assert listed is not None
    assert [o.id for o in listed.data] == [org_id]
    assert [event["type"] for event in events][-3:] == [
        "organization.created",
        "organization.updated",
        "organization.deleted",
    ]
    for event in events[-3:-1]:
        assert models.Organization.model_validate(event["data"]).id == org_id
    deleted = models.DeletedObject.model_validate(events[-1]["data"])
    assert (deleted.id, deleted.deleted, deleted.object) == (org_id, True, "organization")


@pytest.mark.parametrize("claims_version", [1, 2])
async def test_the_sdk_accepts_the_stand_in_s_session_tokens_with_an_active_organization_and_a_profile(
    clerk: httpx.AsyncClient, clerk_keys: ClerkKeyPair, claims_version: int
):
    member = await clerk_user(clerk, email="member@example.com", first_name="Mia")
    created = await clerk.post(
        "/_standin/organizations",
        json={"name": "Globex", "members": [{"user_id": member["id"], "role": "org:recruiter"}], "deliver": False},
    )
    org_id = created.json()["organization"]["id"]
    minted = await clerk.post(
        "/_standin/sessions", json={"user_id": member["id"], "org_id": org_id, "claims_version": claims_version}
    )
    public = clerk_keys.private_key.public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    options = AuthenticateRequestOptions(jwt_key=pem, authorized_parties=[DEV_APP_ORIGIN])

    state = authenticate_request(
        httpx.Request("GET", "/", headers={"Authorization": f"Bearer {minted.json()['token']}"}), options
    )

    assert state.status == AuthStatus.SIGNED_IN, state.reason
    assert state.payload is not None
    if claims_version == 2:
        assert state.payload["o"] == {"id": org_id, "slg": "globex", "rol": "recruiter", "per": "", "fpm": ""}
    else:
        assert (state.payload["org_id"], state.payload["org_role"]) == (org_id, "org:recruiter")
    assert (state.payload["email"], state.payload["first_name"]) == ("member@example.com", "Mia")
