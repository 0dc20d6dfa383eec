"""The one place where aio-pika/aiormq exceptions become the connector's own (see ``errors``).

Keeping the translation here means no caller catches a library exception, and a library upgrade
that renames one touches a single file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from aiormq.exceptions import (
    AMQPChannelError,
    AMQPConnectionError,
    AMQPError,
    AuthenticationError,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
    ChannelPreconditionFailed,
    DeliveryError,
    ProbableAuthenticationError,
    PublishError,
)

from connectors.amqp.errors import (
    AmqpError,
    BrokerUnavailable,
    PublishFailed,
    PublishTimeout,
    TopologyError,
    Unroutable,
)

START_HINT = "is RabbitMQ running? Start it with `rabbitmq-server -detached` (or `.ci/run` starts it)"


def translate(exc: BaseException, action: str, *, hint: str = "") -> AmqpError:
    """The connector error for a library exception raised while doing ``action``.

    ``hint`` is appended when the broker could not be reached (``connect`` says how to start it).
    """
    suffix = f"; {hint}" if hint else ""
    if isinstance(exc, AmqpError):
        return exc
    if isinstance(exc, AuthenticationError | ProbableAuthenticationError):
        return BrokerUnavailable(f"{action}: the broker refused the login ({exc}); check the URL's user")
    if isinstance(exc, PublishError):
        return Unroutable(f"{action}: returned by the broker, no queue bound ({_describe(exc)})")
    if isinstance(exc, DeliveryError):
        return PublishFailed(f"{action}: the broker refused the message (nack)")
    if isinstance(exc, ChannelPreconditionFailed):
        return TopologyError(
            f"{action}: exists with other arguments ({exc}); delete it or declare it as it is"
        )
    if isinstance(exc, ChannelNotFoundEntity):
        return TopologyError(f"{action}: not found ({exc}); declare the topology first")
    if isinstance(exc, AMQPChannelError):
        return TopologyError(f"{action}: the broker closed the channel ({exc})")
    if isinstance(exc, TimeoutError):
        return BrokerUnavailable(f"{action}: no answer from the broker in time{suffix}")
    if isinstance(exc, AMQPConnectionError | ConnectionError | OSError | ChannelInvalidStateError):
        return BrokerUnavailable(f"{action}: {_describe(exc)}{suffix}")
    if isinstance(exc, AMQPError):
        return BrokerUnavailable(f"{action}: {_describe(exc)}")
    return AmqpError(f"{action}: unexpected {_describe(exc)}")  # a bug rather than the broker


def publish_error(exc: BaseException, action: str, timeout: float) -> AmqpError:
    """Like ``translate``, but a timeout while publishing is a ``PublishTimeout`` (maybe delivered)."""
    if isinstance(exc, TimeoutError):
        return PublishTimeout(f"{action}: no publisher confirm within {timeout:g} s")
    if isinstance(exc, asyncio.CancelledError):
        # aiormq cancels the confirm futures of a channel that closed under them
        return BrokerUnavailable(f"{action}: the channel closed before the confirm arrived")
    return translate(exc, action)


@contextmanager
def translated(action: str, *, hint: str = "") -> Iterator[None]:
    """Run a block, re-raising any broker exception as the connector's own, chained."""
    try:
        yield
    except AmqpError:
        raise
    except (AMQPError, ConnectionError, OSError, ChannelInvalidStateError, TimeoutError) as exc:
        raise translate(exc, action, hint=hint) from exc


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
