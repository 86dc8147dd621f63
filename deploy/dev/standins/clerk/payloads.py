"""Clerk's JSON shapes (Backend API User object, webhook event envelopes), built from Clerk's documented
examples with every field Clerk sends."""

import secrets
import string
import time
from collections.abc import Sequence
from typing import Any

_BASE62 = string.digits + string.ascii_letters


def _clerk_id(prefix: str) -> str:
    return prefix + "_2" + "".join(secrets.choice(_BASE62) for _ in range(26))


def new_user_id() -> str:
    """An id shaped like Clerk's: `user_` + 27 base62 characters."""
    return _clerk_id("user")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _verified_otp(strategy: str, created_at: int) -> dict[str, Any]:
    """A code the user entered in time: Clerk's `verification_otp` object (its `object` tells the kinds of
    verification apart, as Clerk's SDKs read it)."""
    expires_in_ms = 10 * 60 * 1000
    return {
        "object": "verification_otp",
        "status": "verified",
        "strategy": strategy,
        "attempts": 1,
        "expire_at": created_at + expires_in_ms,
    }


def _unverified_otp(strategy: str) -> dict[str, Any]:
    """A code sent and not yet entered: an address the user added but never proved is theirs."""
    return {
        "object": "verification_otp",
        "status": "unverified",
        "strategy": strategy,
        "attempts": None,
        "expire_at": None,
    }


def _email_verification(verified: bool, created_at: int) -> dict[str, Any]:
    return _verified_otp("email_code", created_at) if verified else _unverified_otp("email_code")


def _email(address: str, created_at: int, *, verified: bool = True) -> dict[str, Any]:
    return {
        "id": _clerk_id("idn"),
        "object": "email_address",
        "email_address": address,
        "reserved": False,
        "verification": _email_verification(verified, created_at),
        "linked_to": [],
        "matches_sso_connection": False,
        "created_at": created_at,
        "updated_at": created_at,
    }


def _phone(number: str, created_at: int) -> dict[str, Any]:
    return {
        "id": _clerk_id("idn"),
        "object": "phone_number",
        "phone_number": number,
        "reserved_for_second_factor": False,
        "default_second_factor": False,
        "reserved": False,
        "verification": _verified_otp("phone_code", created_at),
        "linked_to": [],
        "backup_codes": None,
        "created_at": created_at,
        "updated_at": created_at,
    }


def make_user(
    *,
    user_id: str | None = None,
    email: str | None = "user@example.com",
    email_verified: bool = True,
    phone: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    extra_emails: Sequence[str] = (),
    created_at: int | None = None,
    updated_at: int | None = None,
) -> dict[str, Any]:
    """A Clerk User object. `email` is the primary address; `extra_emails` are listed before it, so code
    that takes the first address instead of following `primary_email_address_id` gets it wrong. With
    `email_verified` false the primary address carries Clerk's unverified verification (a code never entered)."""
    created = created_at if created_at is not None else _now_ms()
    emails = [_email(address, created) for address in extra_emails]
    primary_email = _email(email, created, verified=email_verified) if email else None
    if primary_email:
        emails.append(primary_email)
    phones = [_phone(phone, created)] if phone else []
    return {
        "id": user_id or new_user_id(),
        "object": "user",
        "username": username,
        "first_name": first_name,
        "last_name": last_name,
        "image_url": "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9",
        "has_image": False,
        "primary_email_address_id": primary_email["id"] if primary_email else None,
        "primary_phone_number_id": phones[0]["id"] if phones else None,
        "primary_web3_wallet_id": None,
        "password_enabled": True,
        "two_factor_enabled": False,
        "totp_enabled": False,
        "backup_code_enabled": False,
        "email_addresses": emails,
        "phone_numbers": phones,
        "web3_wallets": [],
        "passkeys": [],
        "external_accounts": [],
        "saml_accounts": [],
        "enterprise_accounts": [],
        "public_metadata": {},
        "private_metadata": {},
        "unsafe_metadata": {},
        "external_id": None,
        "last_sign_in_at": None,
        "banned": False,
        "locked": False,
        "lockout_expires_in_seconds": None,
        "verification_attempts_remaining": 100,
        "created_at": created,
        "updated_at": updated_at if updated_at is not None else created,
        "delete_self_enabled": True,
        "create_organization_enabled": True,
        "last_active_at": created,
        "mfa_enabled_at": None,
        "mfa_disabled_at": None,
        "legal_accepted_at": None,
        "profile_image_url": "https://www.gravatar.com/avatar?d=mp",
    }


def update_user(user: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `user` with `changes` applied and `updated_at` strictly later than before.

    `email=...` replaces the primary address, `email_verified=...` its verification; other keys are set as they
    are.
    """
    updated = {**user, "email_addresses": [dict(e) for e in user["email_addresses"]]}
    stamp = max(_now_ms(), user["updated_at"] + 1)
    address, verified = changes.pop("email", None), changes.pop("email_verified", None)
    for entry in updated["email_addresses"]:
        if entry["id"] == user["primary_email_address_id"]:
            if address is not None:
                entry["email_address"] = address
            if verified is not None:
                entry["verification"] = _email_verification(verified, stamp)
            entry["updated_at"] = stamp
    updated.update(changes)
    updated["updated_at"] = stamp
    return updated


def _envelope(type_: str, data: dict[str, Any], timestamp_ms: int | None) -> dict[str, Any]:
    return {
        "data": data,
        "event_attributes": {"http_request": {"client_ip": "192.0.2.1", "user_agent": "Mozilla/5.0 (stand-in)"}},
        "instance_id": "ins_2standin00000000000000000",
        "object": "event",
        "timestamp": timestamp_ms if timestamp_ms is not None else _now_ms(),
        "type": type_,
    }


def user_event(kind: str, user: dict[str, Any], *, timestamp_ms: int | None = None) -> dict[str, Any]:
    """A `user.created` or `user.updated` event carrying the whole User object."""
    assert kind in ("user.created", "user.updated"), kind
    return _envelope(kind, user, timestamp_ms)


def deleted_event(user_id: str, *, timestamp_ms: int | None = None) -> dict[str, Any]:
    """`user.deleted`: Clerk sends only the id, with no `updated_at`."""
    return _envelope("user.deleted", {"deleted": True, "id": user_id, "object": "user"}, timestamp_ms)


def new_organization_id() -> str:
    return _clerk_id("org")


def make_organization(
    *, org_id: str | None = None, name: str, slug: str | None = None, created_by: str | None = None
) -> dict[str, Any]:
    """A Clerk Organization object, as the Backend API and the `organization.*` webhooks carry it."""
    now = _now_ms()
    return {
        "object": "organization",
        "id": org_id or new_organization_id(),
        "name": name,
        "slug": slug or name.lower().replace(" ", "-"),
        "image_url": "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9",
        "has_image": False,
        "members_count": 0,
        "pending_invitations_count": 0,
        "max_allowed_memberships": 5,
        "admin_delete_enabled": True,
        "public_metadata": {},
        "private_metadata": {},
        "created_by": created_by or "",
        "created_at": now,
        "updated_at": now,
    }


def update_organization(organization: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy with `changes` applied and `updated_at` strictly later than before."""
    return {**organization, **changes, "updated_at": max(_now_ms(), organization["updated_at"] + 1)}


def make_membership(organization: dict[str, Any], user: dict[str, Any], role: str) -> dict[str, Any]:
    """A Clerk OrganizationMembership object: `role` as Clerk names it (`org:admin`)."""
    now = _now_ms()
    return {
        "object": "organization_membership",
        "id": _clerk_id("orgmem"),
        "role": role if role.startswith("org:") else f"org:{role}",
        "role_name": role.removeprefix("org:").title(),
        "permissions": [],
        "public_metadata": {},
        "private_metadata": {},
        "organization": {k: v for k, v in organization.items() if k not in ("private_metadata", "created_by")},
        "public_user_data": {
            "user_id": user["id"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "profile_image_url": user["profile_image_url"],
            "image_url": user["image_url"],
            "has_image": False,
            "identifier": user["id"],
            "username": user["username"],
        },
        "created_at": now,
        "updated_at": now,
    }


def organization_event(kind: str, organization: dict[str, Any]) -> dict[str, Any]:
    """An `organization.created` or `organization.updated` event carrying the whole Organization object."""
    assert kind in ("organization.created", "organization.updated"), kind
    return _envelope(kind, organization, None)


def deleted_organization_event(org_id: str) -> dict[str, Any]:
    """`organization.deleted`: Clerk sends only the id."""
    return _envelope("organization.deleted", {"deleted": True, "id": org_id, "object": "organization"}, None)


def other_event(type_: str) -> dict[str, Any]:
    """An event of a type the identity service does not handle, e.g. `session.created`."""
    return _envelope(type_, {"id": _clerk_id("sess"), "object": "session", "status": "active"}, None)


def clerk_error(code: str, message: str, long_message: str) -> dict[str, Any]:
    """The error body of Clerk's Backend API."""
    return {
        "errors": [{"message": message, "long_message": long_message, "code": code}],
        "clerk_trace_id": secrets.token_hex(16),
    }
