"""Each interview has a LiveKit room of its own, named for it: fresh and unique (reused room names and pre-created
rooms skip LiveKit's agent dispatch)."""

import re
import uuid

_INTERVIEW_ROOM = re.compile(r"interview-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def room_name_for(interview_id: uuid.UUID) -> str:
    return f"interview-{interview_id}"


def is_interview_room(name: str) -> bool:
    """Whether `name` is an interview's room (any other room on the LiveKit project is not ours)."""
    return _INTERVIEW_ROOM.fullmatch(name) is not None
