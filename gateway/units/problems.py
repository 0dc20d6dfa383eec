"""HTTP problem bodies (RFC 9457) with a stable code and a Vietnamese-and-English title."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

PROBLEMS: dict[str, tuple[int, str, str]] = {
    "Unauthenticated": (401, "Thiếu hoặc sai mã truy cập", "Missing or invalid bearer token"),
    "Forbidden": (403, "Đơn vị không có quyền với tài nguyên này", "This unit may not access this resource"),
    "UnknownUnit": (404, "Không có đơn vị này", "Unknown unit"),
    "UnknownCase": (404, "Không tìm thấy hồ sơ", "Case not found"),
    "InvalidQuery": (400, "Tham số truy vấn không hợp lệ", "Invalid query parameter"),
}


class Problem(Exception):
    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def problem_response(problem: Problem) -> JSONResponse:
    status, vi, en = PROBLEMS[problem.code]
    body = {
        "type": f"urn:pakn:problem:{problem.code}",
        "code": problem.code,
        "title": en,
        "title_vi": vi,
        "status": status,
        **({"detail": problem.detail} if problem.detail else {}),
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


async def problem_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)
