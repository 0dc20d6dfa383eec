"""A pool of zeep clients for the national portal: zeep clients (and the signing plugin's record of
the last request and response) are not thread-safe, so each call takes one of its own. The pool grows
to the number of calls ever in flight at once and never shrinks: every client is built once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from zeep.proxy import ServiceProxy

from connectors.soap_signing import SigningPlugin


@dataclass
class SoapConnection:
    service: ServiceProxy
    plugin: SigningPlugin
    close: Callable[[], None]


class ClientPool:
    """Idle zeep clients; `take()` builds a new one when none is idle. Thread-safe."""

    def __init__(self, build: Callable[[], SoapConnection]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._idle: list[SoapConnection] = []
        self._all: list[SoapConnection] = []

    def take(self) -> SoapConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        connection = self._build()  # outside the lock: loading the WSDL takes a while
        with self._lock:
            self._all.append(connection)
        return connection

    def give_back(self, connection: SoapConnection) -> None:
        with self._lock:
            self._idle.append(connection)

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._all)

    def close(self) -> None:
        with self._lock:
            connections, self._idle, self._all = self._all, [], []
        for connection in connections:
            connection.close()
