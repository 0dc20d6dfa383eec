"""Structured logs: one JSON object a line, the message's correlation ids, personal data masked."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import unicodedata
from collections.abc import Iterator

import pytest

from gateway.observability.json_logging import (
    CorrelationFilter,
    JsonFormatter,
    MaskingTextFormatter,
    correlation,
    current_correlation,
    formatter_for,
)

Lines = tuple[logging.Logger, io.StringIO, io.StringIO]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """A logger writing JSON into one buffer and text into another, through the correlation filter."""
    json_out, text_out = io.StringIO(), io.StringIO()
    logger = logging.getLogger("tests.json_logging")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handlers = []
    for out, formatter in ((json_out, JsonFormatter()), (text_out, MaskingTextFormatter())):
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        handler.addFilter(CorrelationFilter())
        logger.addHandler(handler)
        handlers.append(handler)
    yield logger, json_out, text_out
    for handler in handlers:
        logger.removeHandler(handler)


def records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_a_line_with_the_usual_fields(lines: Lines) -> None:
    logger, json_out, _ = lines
    logger.warning("outbox %d rows waiting", 3)
    logger.info("second")
    first, second = records(json_out)
    assert first["level"] == "WARNING" and first["logger"] == "tests.json_logging"
    assert first["message"] == "outbox 3 rows waiting"
    assert str(first["time"]).endswith("+00:00")
    assert "petition_id" not in first and "message_id" not in first  # none in force
    assert second["message"] == "second"


def test_ids_of_the_message_in_hand_are_on_every_line_inside_the_block(
    lines: Lines,
) -> None:
    logger, json_out, text_out = lines
    with correlation(petition_id="PAKN-2026-AB12", message_id="m-1"):
        logger.info("received")
        with correlation(message_id="m-2"):  # an inner message: its own id, the same petition
            logger.info("inner")
        logger.info("after inner")
    logger.info("outside")
    got = [(r.get("petition_id"), r.get("message_id")) for r in records(json_out)]
    pid = "PAKN-2026-AB12"
    assert got == [(pid, "m-1"), (pid, "m-2"), (pid, "m-1"), (None, None)]
    text = text_out.getvalue().splitlines()
    assert text[0].endswith("received [petition_id=PAKN-2026-AB12 message_id=m-1]")
    assert text[3].endswith("outside")
    assert current_correlation() == {}


async def test_ids_follow_a_task_and_a_worker_thread_but_not_into_other_tasks(
    lines: Lines,
) -> None:
    logger, json_out, _ = lines

    async def deliver(pid: str) -> None:
        with correlation(petition_id=pid, message_id=f"m-{pid}"):
            await asyncio.sleep(0)  # the other task runs in between
            await asyncio.to_thread(logger.info, "in a thread for %s", pid)

    await asyncio.gather(deliver("P1"), deliver("P2"))
    got = {(r["message"], r["petition_id"], r["message_id"]) for r in records(json_out)}
    assert got == {("in a thread for P1", "P1", "m-P1"), ("in a thread for P2", "P2", "m-P2")}


def test_personal_data_is_masked_in_message_exception_and_extra_fields(
    lines: Lines,
) -> None:
    logger, json_out, text_out = lines
    try:
        raise ValueError("bad phone 0912345678")
    except ValueError:
        logger.exception(
            "sender %s, CCCD %s", "an@example.vn", "001203004567", extra={"contact": {"phone": "0987654321"}}
        )
    [doc] = records(json_out)
    assert doc["message"] == "sender a•••@example.vn, CCCD •••••••••567"
    assert "0912345678" not in str(doc["exception"]) and "•••••••678" in str(doc["exception"])
    assert doc["contact"] == {"phone": "•••••••321"}
    text = text_out.getvalue()
    for secret in ("an@example.vn", "001203004567", "0912345678"):
        assert secret not in text


def test_vietnamese_is_kept_readable_and_in_nfc(lines: Lines) -> None:
    logger, json_out, _ = lines
    decomposed = unicodedata.normalize("NFD", "Người có công")
    logger.info("hồ sơ: %s", decomposed)
    raw = json_out.getvalue()
    assert "Người có công" in raw  # UTF-8, no \\u escapes, composed
    assert records(json_out)[0]["message"] == "hồ sơ: Người có công"


def test_an_unknown_format_is_refused() -> None:
    assert isinstance(formatter_for("json"), JsonFormatter)
    assert isinstance(formatter_for("text"), MaskingTextFormatter)
    with pytest.raises(ValueError, match="text, json"):
        formatter_for("xml")
