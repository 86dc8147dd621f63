"""What the identity handlers work with, built once per app."""

from dataclasses import dataclass

from svix.webhooks import Webhook

from libs.common.db import Database
from services.identity.clerk import ClerkClient
from services.identity.pending_profiles import PendingProfiles
from services.identity.users import UserCreations


@dataclass(frozen=True, slots=True)
class Runtime:
    """Injected as one dependency: Litestar resolves several dependencies of one handler in an anyio task
    group, on every request, and one dependency needs none (the cost is in deploy/k8s/CAPACITY.md)."""

    database: Database
    clerk: ClerkClient
    user_creations: UserCreations
    pending_profiles: PendingProfiles
    svix_verifier: Webhook
