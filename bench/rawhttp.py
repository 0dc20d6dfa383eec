"""A small HTTP/1.1 load client: keep-alive connections, one request in flight on each, nothing else.

httpx costs the load generator a few hundred microseconds per request, which on 2 cores is taken
from the server being measured; writing the request bytes and reading `Content-Length` bytes back
costs a few tens. Only for servers that answer with `Content-Length` (uvicorn's `Response` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass


class HttpError(Exception):
    """The server's answer could not be read as HTTP/1.1 with a Content-Length."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    seconds: float
    sent_at: float  # time.time() just before the request was written


IDLE_REOPEN = 4.0
"""Seconds idle after which a connection is opened afresh: uvicorn closes keep-alive connections
idle for 5 s, and a request written into one being closed is lost."""


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(TimeoutError, OSError):
                await asyncio.wait_for(self._writer.wait_closed(), 5)
            self._writer = self._reader = None

    async def post(self, path: str, body: bytes, content_type: str, limit_seconds: float = 60.0) -> Answer:
        if self._writer is not None and time.monotonic() - self._used > IDLE_REOPEN:
            await self.close()
        if self._writer is None or self._reader is None:
            await self.open()
        assert self._writer is not None and self._reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        sent_at = time.time()
        started = time.perf_counter()
        self._writer.write(head + body)
        async with asyncio.timeout(limit_seconds):
            status, payload = await self._read(self._reader)
        self._used = time.monotonic()
        return Answer(status, payload, time.perf_counter() - started, sent_at)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise HttpError(f"no HTTP head: {exc}") from exc
        lines = head.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"bad status line {lines[0]!r}") from exc
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise HttpError("the answer has no Content-Length")
        return status, await reader.readexactly(length)
