"""Errors of the reply service. Each has a stable `code` (HTTP problem / AMQP error message).

ReplyError
├── UnknownCase      the petition does not exist
├── UnknownUnit      a transfer (or a reply) names a unit that is not in config/
└── InvalidReply     the reply is malformed beyond what its schema can say
(Domain errors — InvalidTransition, WrongUnit — pass through with their own codes.)
"""


class ReplyError(Exception):
    code = "Reply"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownCase(ReplyError):
    code = "UnknownCase"


class UnknownUnit(ReplyError):
    code = "UnknownUnit"


class InvalidReply(ReplyError):
    code = "InvalidReply"
