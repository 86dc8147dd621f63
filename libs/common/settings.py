"""Settings read from the environment into msgspec structs, refusing to start on a missing or bad value."""

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar, get_args, get_origin

import msgspec

SettingsT = TypeVar("SettingsT", bound=msgspec.Struct)

NonEmptyStr = Annotated[str, msgspec.Meta(min_length=1)]
"""A string setting that must not be blank."""


class SettingsError(Exception):
    """One or more environment variables are missing or malformed; the message names each of them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _is_sequence(annotation: Any) -> bool:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return get_origin(annotation) in (tuple, list)


def load_settings(cls: type[SettingsT], environ: Mapping[str, str]) -> SettingsT:
    """Build `cls` from `environ`, each field read from its upper-case name (`rename="upper"` on the struct).

    Sequence fields are comma-separated. An empty variable counts as unset, so the field's default applies.
    Every problem is collected before raising, so one start-up attempt shows all of them; values never
    appear in the message (they may be secrets).
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in msgspec.structs.fields(cls):
        raw = environ.get(field.encode_name, "").strip()
        if not raw:
            if field.required:
                problems.append(f"{field.encode_name} is not set")
            continue
        value: Any = [part.strip() for part in raw.split(",") if part.strip()] if _is_sequence(field.type) else raw
        try:
            values[field.name] = msgspec.convert(value, field.type, strict=False)
        except msgspec.ValidationError as error:
            problems.append(f"{field.encode_name} is malformed: {error}")
    if problems:
        raise SettingsError(problems)
    return cls(**values)
