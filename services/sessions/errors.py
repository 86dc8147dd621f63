"""What the sessions service can refuse, each with the status a caller sees."""

from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from libs.common.errors import Problem, ServiceUnavailable


class InvalidSessionToken(NotAuthorizedException):
    """Anything wrong with the Clerk session token (401, with the challenge clients expect)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="api"'})


class CrossSiteRequest(PermissionDeniedException):
    """A cookie-authenticated request that may have been forged by another site (403)."""


class UserNotAllowed(Problem):
    status = 403
    slug = "user-not-allowed"
    title_text = "User may not start interviews"

    @classmethod
    def deleted(cls, clerk_id: str) -> "UserNotAllowed":
        """The refusal of a user Clerk deleted, whether identity said so or the users' feed did."""
        return cls(f"User {clerk_id} no longer exists in Clerk.")


class ForbiddenParticipant(Problem):
    status = 403
    slug = "forbidden-participant"
    title_text = "Not allowed for this user"


class InterviewNotFound(Problem):
    status = 404
    slug = "interview-not-found"
    title_text = "Interview not found"


class InterviewEnded(Problem):
    status = 409
    slug = "interview-ended"
    title_text = "Interview has ended"


class InvalidParticipantField(Problem):
    """A participant field beyond its bounds; `detail` names the field."""

    status = 422
    slug = "invalid-participant-field"
    title_text = "Invalid participant field"


class InvalidRoomConfig(Problem):
    status = 422
    slug = "invalid-room-config"
    title_text = "Invalid room_config"


class InvalidLiveKitWebhook(Problem):
    status = 401
    slug = "invalid-livekit-webhook"
    title_text = "Invalid LiveKit webhook"


class MalformedLiveKitWebhook(Problem):
    """Signed correctly, but not a LiveKit event we can read (a value out of range, a body that is not JSON)."""

    status = 400
    slug = "malformed-livekit-webhook"
    title_text = "Malformed LiveKit webhook"


class TooManyOpenInterviews(Problem):
    """The user holds `MAX_OPEN_INTERVIEWS_PER_USER` open interviews; `Retry-After` says when one may expire."""

    status = 429
    slug = "too-many-open-interviews"
    title_text = "Too many open interviews"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class IdentityUnavailable(ServiceUnavailable):
    """The identity service could not answer (unreachable, too slow, failing): 503 with Retry-After, unless
    the user was confirmed recently enough to start anyway (stale-if-error)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retry_after=2)


class AgentNotPermitted(Problem):
    """A valid LiveKit token that does not administer this interview's room (403)."""

    status = 403
    slug = "agent-not-permitted"
    title_text = "Not this interview's agent"


class ClosedToAgent(Problem):
    """The interview takes no more writes from its agent: it expired, or ended over AGENT_REPORT_GRACE_SECONDS
    ago (409)."""

    status = 409
    slug = "interview-closed-to-agent"
    title_text = "Interview no longer takes reports"


class TranscriptConflict(Problem):
    """A segment sent under a `seq` already stored with other content (409); nothing of the batch is stored."""

    status = 409
    slug = "transcript-conflict"
    title_text = "Transcript segment conflicts with a stored one"


class InvalidTranscript(Problem):
    """A transcript batch whose segments contradict each other or themselves (a `seq` twice, a segment ending
    before it starts); `detail` names the field (422)."""

    status = 422
    slug = "invalid-transcript"
    title_text = "Transcript segments contradict each other"


class AgentWriteTooLarge(Problem):
    """A transcript or report beyond its bounds; `detail` names the field and the bound (422)."""

    status = 422
    slug = "agent-write-too-large"
    title_text = "Transcript or report beyond its bounds"


class NoActiveOrganization(Problem):
    status = 403
    slug = "no-active-organization"
    title_text = "No active organization"


class NotARecruiter(Problem):
    status = 403
    slug = "not-a-recruiter"
    title_text = "Not a recruiter of this organization"


class TemplateNotFound(Problem):
    status = 404
    slug = "template-not-found"
    title_text = "Template not found"


class TemplateArchived(Problem):
    """The template is archived: it takes no new version and no new invite (409)."""

    status = 409
    slug = "template-archived"
    title_text = "Template archived"


class InvalidTemplate(Problem):
    """A template field beyond its bounds or not allowed here; `detail` names it (422)."""

    status = 422
    slug = "invalid-template"
    title_text = "Invalid template"


class InviteNotFound(Problem):
    status = 404
    slug = "invite-not-found"
    title_text = "Invite not found"


class InviteUsed(Problem):
    """The invite is bound to its candidate: revoking it would not take their interview back (409)."""

    status = 409
    slug = "invite-used"
    title_text = "Invite already used"


class InviteGone(Problem):
    """The invite expired, was revoked, or its template archived (410)."""

    status = 410
    slug = "invite-gone"
    title_text = "Invite no longer valid"


class InviteForSomeoneElse(Problem):
    """The invite is bound to another user, or names an email that is not the caller's (403)."""

    status = 403
    slug = "invite-for-someone-else"
    title_text = "Invite meant for someone else"


class ConsentRequired(Problem):
    """An invite's first redemption without the candidate's consent to the AI's evaluation of the template version
    they read (absent, refused, or for another version): 409, the body carrying what the notice needs to be shown
    (`template_version`, the latest, and `template`: title, notice, recording, max_minutes)."""

    status = 409
    slug = "consent-required"
    title_text = "Consent required"


class RecordingNotFound(Problem):
    status = 404
    slug = "recording-not-found"
    title_text = "Recording not found"


class StillRecording(Problem):
    """The recording is still being made; its file comes when the interview ends (409)."""

    status = 409
    slug = "still-recording"
    title_text = "Still recording"


class ConsentWithdrawn(Problem):
    """The candidate withdrew their consent to the AI's evaluation: the agent may not report on them (409)."""

    status = 409
    slug = "consent-withdrawn"
    title_text = "Consent withdrawn"


class NotAnAdmin(Problem):
    """The caller recruits but does not administer the organization (`ORG_ADMIN_ROLES`) (403)."""

    status = 403
    slug = "not-an-admin"
    title_text = "Not an administrator of the organization"


class ReviewFirst(Problem):
    """A decision by a recruiter who has not read the transcript or heard the recording themselves (409)."""

    status = 409
    slug = "review-first"
    title_text = "Review the interview first"


class InvalidDecision(Problem):
    """A decision or a setting beyond its bounds; `detail` names the field (422)."""

    status = 422
    slug = "invalid-field"
    title_text = "Invalid field"
