"""Small rules of the console: where a login may send you, what a same-origin post is, how numbers
and times read in Vietnamese, what a viewer sees of a dead letter, what the search box takes for a phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from gateway.console.cases_page import looks_like_phone
from gateway.console.dead_letters_page import masked
from gateway.console.login_page import safe_next, same_origin
from gateway.console.rendering import age, number, query_url, switch_lang_url, vn_time
from gateway.domain.operators import Principal, Role
from gateway.ops.dead_letters import DeadLetter


def request(headers: dict[str, str], query: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/console/cases",
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
    )


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        (None, "/console"),
        ("/console/cases?q=a", "/console/cases?q=a"),
        ("/console", "/console"),
        ("https://evil.example/console", "/console"),
        ("//evil.example/console", "/console"),
        ("/consoleevil", "/console"),
        ("/console\\@evil", "/console"),
        ("/api/ops/actions", "/console"),
    ],
)
def test_after_login_only_console_paths(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes


def test_a_login_form_must_come_from_this_gateway() -> None:
    assert same_origin(request({"host": "gw.local:8080", "origin": "http://gw.local:8080"}))
    assert same_origin(request({"host": "gw.local:8080"}))  # a script, not a browser form
    assert not same_origin(request({"host": "gw.local:8080", "origin": "https://evil.example"}))
    assert not same_origin(request({"host": "gw.local:8080", "origin": "null"}))


def test_vietnamese_numbers_and_times() -> None:
    assert number(1234567) == "1.234.567"
    assert number(4.25, 1) == "4,2" or number(4.25, 1) == "4,3"
    assert number(None) == "—"
    assert vn_time(datetime(2026, 11, 30, 17, 30, tzinfo=UTC)) == "01/12/2026 00:30"
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert age(now - timedelta(seconds=42), now) == "42 s"
    assert age(now - timedelta(minutes=90), now) == "1 h"
    assert age(None, now) == "—"


def test_urls_keep_the_filters() -> None:
    switched = switch_lang_url(request({}, "q=ng%C6%B0%E1%BB%9Di&lang=vi&status=04"), "en")
    assert switched == "/console/cases?q=ng%C6%B0%E1%BB%9Di&status=04&lang=en"
    assert (
        query_url("/console/cases", {"q": "", "status": "04", "cursor": None}) == "/console/cases?status=04"
    )


def test_a_phone_typed_in_the_search_box() -> None:
    assert looks_like_phone("0912 345 678") and looks_like_phone("+84 912.345.678")
    assert not looks_like_phone("nguoi co cong") and not looks_like_phone("2026")
    assert not looks_like_phone("SIM-2026-000123456")


def test_a_viewer_sees_dead_letters_masked() -> None:
    letter = DeadLetter(
        id="amqp:1",
        source="amqp",
        stage="replies",
        reason="invalid",
        attempts=1,
        last_error="bad phone 0912345678",
        dead_at=None,
        where="pakn.replies unit.X.reply.note",
        headers={"x-pakn-last-error": "email an.nguyen@example.vn"},
        body='{"content": "Gọi tôi: 0912 345 678, CCCD 001203004567"}',
    )
    seen = masked(letter, Principal("v", Role.VIEWER))
    assert "0912 345 678" not in seen.body and "001203004567" not in seen.body and "678" in seen.body
    assert seen.last_error is not None and "0912345678" not in seen.last_error
    assert "an.nguyen@example.vn" not in str(seen.headers)
    assert masked(letter, Principal("o", Role.OPERATOR)) == letter
