"""A bounded map of things worth remembering for a while (verified session tokens, participant tokens just
minted): whatever clients send, it holds at most `limit` entries."""

import itertools
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Remembered(Generic[K, V]):
    """At most `limit` entries; writing one into a full map first forgets the oldest tenth written (a dict
    keeps insertion order, so that is a slice from its front, without a per-entry bookkeeping cost). Whether
    an entry is still good is the caller's to check on `get`: each cache here knows its own clock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.limit and key not in self._entries:
            for oldest in list(itertools.islice(self._entries, max(1, self.limit // 10))):
                del self._entries[oldest]
        self._entries[key] = value

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)
