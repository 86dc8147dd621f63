"""What the identity service can refuse, each with the status a caller sees."""

from libs.common.errors import Problem


class MalformedClerkId(Problem):
    status = 422
    slug = "malformed-clerk-id"
    title_text = "Malformed Clerk user id"


class UserNotFound(Problem):
    status = 404
    slug = "user-not-found"
    title_text = "User not found"


class UserDeleted(Problem):
    status = 410
    slug = "user-deleted"
    title_text = "User deleted"


class UserBanned(Problem):
    status = 403
    slug = "user-banned"
    title_text = "User banned"


class UserLocked(Problem):
    status = 403
    slug = "user-locked"
    title_text = "User locked"


class InvalidWebhookSignature(Problem):
    status = 401
    slug = "invalid-webhook-signature"
    title_text = "Invalid webhook signature"


class MalformedWebhook(Problem):
    status = 400
    slug = "malformed-webhook"
    title_text = "Malformed webhook payload"
