"""Errors of the AMQP connector, mapped from aio-pika/aiormq at the edge (``raise … from exc``).

Callers never see a library exception; they see one of these, each with a stable ``code``:

AmqpError (code)
├── BrokerUnavailable   the broker cannot be reached or refused the login, or the link dropped
├── TopologyError       an exchange, queue or binding could not be declared or found
│                       (e.g. a queue exists with other arguments: PRECONDITION_FAILED)
├── PublishFailed       the broker did not take a message; it stays pending in the outbox
│   ├── Unroutable      a mandatory publish came back: no queue is bound for its routing key
│   └── PublishTimeout  no publisher confirm in time (link probably broken); it may still have arrived
└── ListenerError       a unit listener could not store a delivery; the message was requeued
"""

from __future__ import annotations


class AmqpError(Exception):
    """Base of every AMQP connector error; ``code`` is stable and goes into logs and outbox rows."""

    code = "Amqp"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BrokerUnavailable(AmqpError):
    code = "Amqp.BrokerUnavailable"


class TopologyError(AmqpError):
    code = "Amqp.TopologyError"


class PublishFailed(AmqpError):
    code = "Amqp.PublishFailed"


class Unroutable(PublishFailed):
    code = "Amqp.Unroutable"


class PublishTimeout(PublishFailed):
    code = "Amqp.PublishTimeout"


class ListenerError(AmqpError):
    code = "Amqp.ListenerError"
