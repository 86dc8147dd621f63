"""Who may start an interview: identity's answer, its recent one while the users' feed is current, or, while
identity cannot answer, its last one.

- Recheck: a user identity confirmed within `IDENTITY_RECHECK_SECONDS` starts without asking identity again,
  as long as the users' feed was read to its end within the last few seconds: bans and deletions then reach
  this service's record of identity's answers within the feed's delay, as they reach its rooms.
- Stale-if-error: a user identity confirmed within `IDENTITY_STALE_IF_ERROR_SECONDS`, and whom the users' feed
  has not since reported banned or locked (deleted users' rows are erased), starts even when identity is
  unreachable, slow or failing; that start is counted and logged.
Identity refusing a user (deleted, banned, locked, unknown to Clerk) is never overridden: the refusal also
forgets them here.
"""

import logging

from services.sessions.auth.tokens import ClerkSession
from services.sessions.errors import IdentityUnavailable, UserNotAllowed
from services.sessions.metrics import STALE_STARTS
from services.sessions.runtime import Runtime
from services.sessions.users import known_store as known_user_store
from services.sessions.users.feeds import CURRENT_SECONDS as FEED_CURRENT_SECONDS
from services.sessions.users.known_store import KnownUser

logger = logging.getLogger(__name__)


async def confirm_user(runtime: Runtime, session: ClerkSession, *, verified_email: bool = False) -> KnownUser:
    """The user as identity confirms them now (made from the session token's profile claims if identity did not
    know them), or as it did within `IDENTITY_STALE_IF_ERROR_SECONDS` if it cannot answer. With
    `verified_email`, the answer's `email` is the primary email as Clerk's own data verifies it (never one the
    session token's claims assert). Raises `UserNotAllowed` (403) or `IdentityUnavailable` (503 + Retry-After)."""
    clerk_id = session.user_id
    database, stale_seconds = runtime.database, runtime.settings.identity_stale_if_error_seconds
    try:
        user = await runtime.identity.ensure_user(clerk_id, session.profile, verified_email=verified_email)
    except UserNotAllowed:
        async with database.connection() as conn:
            await known_user_store.forget_user(conn, clerk_id)
        raise
    except IdentityUnavailable:
        if not stale_seconds:
            raise
        async with database.connection() as conn:
            known = await known_user_store.recent_answer(conn, clerk_id, stale_seconds)
        if known is None:
            raise
        STALE_STARTS.inc()
        logger.warning(
            "identity is unavailable: %s starts on identity's answer of the last %d s", clerk_id, stale_seconds
        )
        return known
    # An answer about a pending profile is not remembered: the user's next start asks identity again, which
    # asks Clerk again in the background, until the profile is complete (and their name known).
    return KnownUser(
        user.id,
        user.display_name,
        answered_now=user.profile_status != "pending",
        email=user.email if user.email_verified else None,
        email_known=user.email_verified is not None,
    )


async def recent_or_confirmed_user(runtime: Runtime, session: ClerkSession) -> KnownUser:
    """The user on identity's answer of the last `IDENTITY_RECHECK_SECONDS` while the users' feed is current,
    else as `confirm_user` finds them."""
    clerk_id, settings = session.user_id, runtime.settings
    if settings.identity_recheck_seconds:
        async with runtime.database.connection() as conn:
            known = await known_user_store.recent_answer(
                conn, clerk_id, settings.identity_recheck_seconds, feed_current_seconds=FEED_CURRENT_SECONDS
            )
        if known is not None:
            return known
    return await confirm_user(runtime, session)
