"""Lists of keys for `IN (…)`, in the few lengths a connection prepares once.

An expanding `IN` is a statement of its own for every length of its list, and asyncpg prepares,
and keeps in a cache of about a hundred per connection, each statement it sees: lists of every
length from 1 to 500 would fill that cache and push the hot statements out of it, each then
prepared again. So lists go in chunks of at most `LONGEST` keys, each padded to the next power of
two by repeating its last key (a key twice in an IN list changes nothing): ten lengths at most
per statement, whichever statement and whatever the keys (petition ids, message ids, outbox ids).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import TypeVar

LONGEST = 512
K = TypeVar("K", bound=Hashable)


def key_chunks(keys: Sequence[K]) -> Iterator[list[K]]:
    """`keys` without repeats, in chunks of at most LONGEST, each padded to a power of two."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), LONGEST):
        chunk = unique[start : start + LONGEST]
        length = 1 << (len(chunk) - 1).bit_length()
        yield chunk + [chunk[-1]] * (length - len(chunk))
