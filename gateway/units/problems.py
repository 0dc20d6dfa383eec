"""HTTP problem bodies (RFC 9457) with a stable code and a Vietnamese-and-English title."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

PROBLEMS: dict[str, tuple[int, str, str]] = {
    "Unauthenticated": (
        401,
        "Thiếu hoặc sai thông tin xác thực (mã truy cập hoặc phiên đăng nhập)",
        "Missing or invalid credentials (bearer token or login session)",
    ),
    "Forbidden": (403, "Không có quyền với tài nguyên này", "You may not access this resource"),
    "UnknownUnit": (404, "Không có đơn vị này", "Unknown unit"),
    "UnknownCase": (404, "Không tìm thấy hồ sơ", "Case not found"),
    "InvalidQuery": (400, "Tham số truy vấn không hợp lệ", "Invalid query parameter"),
    # unit replies (gateway.units.replies_api); the codes are those of the AMQP error queue
    "InvalidReply": (422, "Phản hồi không hợp lệ", "Invalid reply"),
    "InvalidTransition": (
        409,
        "Trạng thái hồ sơ không cho phép thao tác này",
        "The case's status does not allow this reply",
    ),
    "WrongUnit": (409, "Hồ sơ không còn do đơn vị này xử lý", "The case is no longer held by this unit"),
    "ReplyTooLarge": (413, "Phản hồi quá lớn", "Reply too large"),
    "StoreUnavailable": (
        503,
        "Hệ thống tạm thời không lưu được, vui lòng gửi lại sau",
        "Storage temporarily unavailable; send the same reply again later",
    ),
    # operator routes (gateway.ops.api)
    "CsrfRejected": (
        403,
        "Thiếu hoặc sai mã chống giả mạo yêu cầu (CSRF); hãy tải lại trang",
        "Missing or wrong anti-forgery (CSRF) token; reload the page",
    ),
    "LoginFailed": (
        401,
        "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa",
        "Wrong username or password, or the account is locked",
    ),
    "DeadLetter.Unknown": (404, "Không tìm thấy thư chết này", "No such dead letter"),
    "DeadLetter.BadId": (400, "Mã thư chết không hợp lệ", "Invalid dead letter id"),
    "DeadLetter.NotDiscardable": (409, "Không thể hủy thư chết này", "This dead letter cannot be discarded"),
    "BrokerUnavailable": (
        503,
        "Không kết nối được RabbitMQ, vui lòng thử lại sau",
        "RabbitMQ is unavailable; try again later",
    ),
    # operators' cases and units (gateway.ops.cases_api, units_api; errors in gateway.ops.errors)
    "Search.Invalid": (400, "Tham số tìm kiếm không hợp lệ", "Invalid search parameter"),
    "Search.InvalidCursor": (
        400,
        "Con trỏ phân trang không hợp lệ; hãy tìm lại từ trang đầu",
        "Invalid paging cursor; search again from the first page",
    ),
    "Case.UnknownMessage": (404, "Hồ sơ không có thông điệp này", "The case has no such logged message"),
    "Case.UnknownDocument": (404, "Hồ sơ không có tài liệu này", "The case has no such document"),
    "PersonalData.Hidden": (
        403,
        "Vai trò của bạn chỉ được xem dữ liệu cá nhân đã che; tài liệu gốc không thể che",
        "Your role sees personal data masked, and original documents cannot be masked",
    ),
    "Token.Unknown": (404, "Không có mã truy cập này", "No such unit token"),
    "Token.InvalidLabel": (400, "Nhãn mã truy cập không hợp lệ", "Invalid token label"),
    # published answers (gateway.public): unknown and unpublished look the same to the public
    "PublicAnswer.Unknown": (
        404,
        "Không có câu trả lời công khai này",
        "No such published answer",
    ),
    # reports (gateway.reports): the working-day calendar does not cover the period
    "Report.Unavailable": (
        422,
        "Không lập được báo cáo (lịch ngày làm việc không bao gồm kỳ này)",
        "The report cannot be computed (the working-day calendar does not cover the period)",
    ),
    # readiness (gateway.observability.routes): `failing` names the parts, `checks` says why
    "NotReady": (
        503,
        "Cổng chưa sẵn sàng nhận yêu cầu (cơ sở dữ liệu, RabbitMQ hoặc chứng thư ký số)",
        "The gateway is not ready (database, RabbitMQ or signing certificate)",
    ),
}
RETRY_AFTER_SECONDS = 5


class Problem(Exception):
    """``status`` overrides the code's usual one (an unknown unit named in a body is 422, not 404);
    ``detail_vi`` is the Vietnamese of ``detail``; ``extensions`` are RFC 9457 extension members."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        detail_vi: str | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.status = status
        self.detail_vi = detail_vi
        self.extensions = extensions or {}


def problem_response(problem: Problem) -> JSONResponse:
    usual, vi, en = PROBLEMS[problem.code]
    status = problem.status or usual
    body = {
        **problem.extensions,  # first: the standard members below always win
        "type": f"urn:pakn:problem:{problem.code}",
        "code": problem.code,
        "title": en,
        "title_vi": vi,
        "status": status,
        **({"detail": problem.detail} if problem.detail else {}),
        **({"detail_vi": problem.detail_vi} if problem.detail_vi else {}),
    }
    headers = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


async def problem_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc)
