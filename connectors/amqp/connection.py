"""Opening the broker link: one robust connection per process role, failures said plainly.

``connect_robust`` reconnects by itself and re-declares what its channels declared, which is what
a long-running relay or listener needs. What it does not do is replay publishes that were in flight
when the link dropped: the outbox keeps that guarantee, not the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractConnection, AbstractRobustConnection
from aiormq.exceptions import AMQPError

from connectors.amqp.errors import AmqpError, BrokerUnavailable
from connectors.amqp.mapping import START_HINT, translated

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_RECONNECT_INTERVAL = 1.0

C = TypeVar("C", bound=AbstractConnection)


async def connect(
    url: str,
    *,
    # passed down to aiormq's handshake: cancelling connect_robust from outside (asyncio.timeout)
    # could leave its background reconnection task running, so the bound must be inside
    timeout: float,  # noqa: ASYNC109
    reconnect_interval: float = DEFAULT_RECONNECT_INTERVAL,
) -> AbstractRobustConnection:
    """A robust connection; ``BrokerUnavailable`` (with how to start RabbitMQ) if the first try fails.

    ``timeout`` bounds the first connection attempt; later reconnections retry every
    ``reconnect_interval`` seconds for as long as the connection is not closed.
    """
    with translated(f"connect to {_safe(url)}", hint=START_HINT):
        # timeout= is applied by aiormq to the TCP+AMQP handshake; fail_fast (the default) makes
        # the first failure raise instead of retrying in the background forever
        robust = aio_pika.connect_robust(url, timeout=timeout, reconnect_interval=reconnect_interval)
        return await _handshake(robust, url)


async def connect_plain(url: str, *, timeout: float) -> AbstractConnection:  # noqa: ASYNC109 (see connect)
    """A plain connection (no reconnection) for short jobs: reading queues, counting them."""
    with translated(f"connect to {_safe(url)}", hint=START_HINT):
        return await _handshake(aio_pika.connect(url, timeout=timeout), url)


async def _handshake(opening: Coroutine[Any, Any, C], url: str) -> C:
    """A handshake that fails says so as `BrokerUnavailable`, whatever aiormq raised. Seen under
    load, after a connection reset mid-handshake: `StopAsyncIteration` out of aiormq's frame reader,
    and `CancelledError` from its own cleanup. Either, taken for something else (an iterator's end,
    the caller's cancellation), silently ended the gateway's reconnect loop: the link never came
    back. The handshake runs in a task of its own so that the caller's own cancellation (which
    cancels the handshake with it) can still be told apart and passes."""
    inner = asyncio.ensure_future(opening)
    try:
        return await inner
    except AmqpError:
        raise
    except asyncio.CancelledError as exc:
        caller = asyncio.current_task()
        if caller is not None and caller.cancelling():
            raise
        raise _failed(url, exc) from exc
    except (AMQPError, ConnectionError, OSError, TimeoutError):
        raise  # translated by the caller's `translated` block, with its hint
    except Exception as exc:
        raise _failed(url, exc) from exc


def _failed(url: str, exc: BaseException) -> BrokerUnavailable:
    return BrokerUnavailable(
        f"connect to {_safe(url)}: the AMQP handshake failed ({type(exc).__name__}); {START_HINT}"
    )


async def check_reachable(url: str, timeout: float) -> str | None:  # noqa: ASYNC109 (see connect)
    """None when the broker accepts a login at ``url``, else a reason a person can act on."""
    try:
        connection = await connect(url, timeout=timeout)
    except BrokerUnavailable as exc:
        return exc.message
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.close(), timeout)
    return None


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"
