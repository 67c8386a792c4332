"""Small stream helpers shared by the prediction readers and the log follower."""

from __future__ import annotations

import io
from typing import IO


class Prefixed(io.RawIOBase):
    """A raw stream that gives ``head`` (bytes already read, e.g. to sniff a format) and
    then the rest of ``rest`` (None: nothing more)."""

    def __init__(self, head: bytes, rest: IO[bytes] | None) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if len(self._head):
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._rest is None:
            return 0
        data = self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n
