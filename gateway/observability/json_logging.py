"""Log records as one JSON object a line (or as text), with the message's correlation ids, masked.

Where the gateway handles one message — a national SOAP request, a unit's reply, one delivery to
the portal — it enters ``correlation(petition_id=…, message_id=…)``; every record logged inside,
in that task or a thread it starts with ``asyncio.to_thread``, carries both ids. contextvars, not
arguments: the ids reach the log lines of code that knows nothing of them (the store, the signer).

Both formats mask personal data (``masking.mask_text``) in the message, the exception text and
extra fields, and keep Vietnamese as it is (UTF-8, NFC), never as ``\\u`` escapes.
"""

from __future__ import annotations

import json
import logging
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from gateway.observability.masking import mask_text, mask_value

LOG_FORMATS = ("text", "json")
_OURS = "_pakn_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_petition_id: ContextVar[str | None] = ContextVar("pakn_petition_id", default=None)
_message_id: ContextVar[str | None] = ContextVar("pakn_message_id", default=None)

# attributes every LogRecord has: anything else on a record came from `extra=` (uvicorn's
# color_message is its message again with terminal colours: noise in JSON)
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "petition_id", "message_id", "taskName", "color_message"}
)


@contextmanager
def correlation(*, petition_id: str | None = None, message_id: str | None = None) -> Iterator[None]:
    """Within the block, records carry these ids; an id left None keeps the outer block's value."""
    tokens = []
    if petition_id is not None:
        tokens.append((_petition_id, _petition_id.set(petition_id)))
    if message_id is not None:
        tokens.append((_message_id, _message_id.set(message_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_correlation() -> dict[str, str]:
    """The ids in force here, only those that are set."""
    ids = {"petition_id": _petition_id.get(), "message_id": _message_id.get()}
    return {key: value for key, value in ids.items() if value is not None}


class CorrelationFilter(logging.Filter):
    """Stamps each record with the ids in force where it was logged (before any queue or thread)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_correlation().items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "petition_id"?, "message_id"?, "exception"?, …extra}``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _clean(record.getMessage()),
        }
        ids = {key: getattr(record, key, None) for key in ("petition_id", "message_id")}
        doc.update({key: value for key, value in ids.items() if value is not None})
        if record.exc_info:
            doc["exception"] = _clean(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exception"] = _clean(record.exc_text)
        if record.stack_info:
            doc["stack"] = _clean(self.formatStack(record.stack_info))
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in doc:
                doc[key] = mask_value(value)
        return json.dumps(doc, ensure_ascii=False, default=_text)


class MaskingTextFormatter(logging.Formatter):
    """The usual one-line text, masked, with `` [petition_id=… message_id=…]`` when they are set."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{key}={getattr(record, key)}" for key in ("petition_id", "message_id")
               if getattr(record, key, None) is not None]
        if ids:
            head, sep, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{head} [{' '.join(ids)}]{sep}{rest}"
        return _clean(line)


def formatter_for(log_format: str) -> logging.Formatter:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    return JsonFormatter() if log_format == "json" else MaskingTextFormatter()


def install(log_format: str = "text", level: str | int = "INFO") -> logging.Handler | None:
    """One handler on the root logger (stderr), in place of one installed here before; uvicorn's
    loggers propagate to it, so their lines are masked and formatted alike (run uvicorn with
    ``log_config=None``). Like ``logging.basicConfig``, it leaves alone a root logger that someone
    else has configured (a test runner's capture): None then."""
    root = logging.getLogger()
    if any(not getattr(h, _OURS, False) for h in root.handlers):
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(log_format))
    handler.addFilter(CorrelationFilter())
    setattr(handler, _OURS, True)
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    return handler


def _clean(text: str) -> str:
    return mask_text(unicodedata.normalize("NFC", text))


def _text(value: object) -> str:
    return mask_text(str(value))
