"""A failed AMQP handshake is always `BrokerUnavailable`, whatever the client library raised: the
gateway's reconnect loop retries on that and nothing else. Found under load: aiormq raised
StopAsyncIteration (its frame reader, after a reset mid-handshake) and the loop ended for good."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import pytest

from connectors.amqp.connection import _handshake
from connectors.amqp.errors import BrokerUnavailable

pytestmark = pytest.mark.unit

URL = "amqp://guest:secret@127.0.0.1:5672/"


async def raising(exc: BaseException) -> NoReturn:
    await asyncio.sleep(0)
    raise exc


@pytest.mark.parametrize("inner", [StopAsyncIteration(), asyncio.CancelledError(), RuntimeError("x")])
async def test_whatever_the_client_raises_is_a_broker_unavailable(inner: BaseException) -> None:
    with pytest.raises(BrokerUnavailable) as caught:
        await _handshake(raising(inner), URL)
    assert type(inner).__name__ in caught.value.message
    assert "secret" not in caught.value.message  # the password never reaches a log


async def test_the_callers_own_cancellation_passes() -> None:
    started = asyncio.Event()

    async def slow() -> NoReturn:
        started.set()
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    task = asyncio.create_task(_handshake(slow(), URL))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
