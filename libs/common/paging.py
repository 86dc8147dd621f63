"""Keyset paging, one way for every list: fetch `limit + 1` rows after the cursor, hand back `limit` and, when
there were more, the cursor of the last one handed back. Cursors are opaque to clients."""

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from libs.common.errors import InvalidCursor

T = TypeVar("T")

_NOT_OURS = "The cursor is not one this service returned."


def one_page(rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> tuple[list[T], str | None]:
    """`rows` (fetched with `limit + 1`) as a page: at most `limit` items, and the cursor to continue after the
    last of them, or None when nothing follows."""
    items = list(rows[:limit])
    return items, cursor_of(items[-1]) if len(rows) > limit else None


class Keyed(Protocol):
    """A row of a list ordered newest first by (created_at, id)."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


KeyedT = TypeVar("KeyedT", bound=Keyed)


def keyset_page(rows: Sequence[KeyedT], limit: int) -> tuple[list[KeyedT], str | None]:
    """`one_page` of a list ordered newest first by (created_at, id), its cursor an `encode_keyset` one."""
    return one_page(rows, limit, lambda last: encode_keyset(last.created_at, last.id))


def encode_keyset(created_at: datetime, row_id: uuid.UUID | int) -> str:
    """A cursor for lists ordered newest first by (a time, an id): a uuid, or a bigserial's number."""
    raw = f"{created_at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_keyset(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) of an `encode_keyset` cursor of uuid ids; `InvalidCursor` (400) for anything else."""
    return decode_position(cursor, uuid.UUID)


def bigserial(text: str) -> int:
    """A bigserial's number as a cursor wrote it; ValueError for anything a bigint cannot hold."""
    number = int(text)
    if not 0 < number < 2**63:
        raise ValueError("not a bigserial")
    return number


def decode_position(cursor: str, id_of: Callable[[str], T]) -> tuple[datetime, T]:
    """The (time, id) of an `encode_keyset` cursor, its id read by `id_of` (`uuid.UUID`, `bigserial`), which raises
    ValueError for an id it does not take; `InvalidCursor` (400) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, row_id = raw.split("|")
        position = datetime.fromisoformat(created_at), id_of(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidCursor(_NOT_OURS) from error
    # Ours are always UTC; another offset can carry a date past what PostgreSQL or datetime can hold.
    if position[0].utcoffset() != timedelta(0):
        raise InvalidCursor(_NOT_OURS)
    return position


def decode_int(cursor: str, maximum: int = 2**31 - 1) -> int:
    """A cursor that is a position (a sequence number) of at most `maximum`; `InvalidCursor` (400) otherwise."""
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > len(str(maximum)) or int(cursor) > maximum:
        raise InvalidCursor(_NOT_OURS)
    return int(cursor)
