"""Every string of the console, in Vietnamese (the default) and English, in one catalogue.

A page picks its language from ``?lang=`` (and keeps it in the ``pakn_lang`` cookie), else the
cookie, else Vietnamese. Templates call ``t("key")``; a key missing here raises ``UnknownText``
so a typo fails the page tests instead of showing the key to an operator. Text is NFC (checked by
``tests/unit/test_console_i18n.py``, with every key in both languages).
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.console.errors import UnknownText
from gateway.console.i18n_reports import REPORT_TEXTS

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
LANG_COOKIE = "pakn_lang"

CATALOGUE: dict[str, dict[str, str]] = {
    # layout
    "app.name": {"vi": "Cổng PAKN", "en": "PAKN Gateway"},
    "app.tagline": {"vi": "Bảng điều khiển vận hành", "en": "Operations console"},
    "nav.overview": {"vi": "Tổng quan", "en": "Overview"},
    "nav.dead_letters": {"vi": "Thư lỗi", "en": "Dead letters"},
    "nav.cases": {"vi": "Hồ sơ", "en": "Cases"},
    "nav.units": {"vi": "Đơn vị", "en": "Units"},
    "nav.logout": {"vi": "Đăng xuất", "en": "Log out"},
    "nav.language": {"vi": "Ngôn ngữ", "en": "Language"},
    "role.viewer": {"vi": "Xem", "en": "Viewer"},
    "role.operator": {"vi": "Vận hành", "en": "Operator"},
    "role.admin": {"vi": "Quản trị", "en": "Admin"},
    "common.none": {"vi": "Không có", "en": "None"},
    "common.never": {"vi": "Chưa có", "en": "Never"},
    "common.yes": {"vi": "Có", "en": "Yes"},
    "common.no": {"vi": "Không", "en": "No"},
    "common.cancel": {"vi": "Không, quay lại", "en": "No, go back"},
    "common.back": {"vi": "Quay lại", "en": "Back"},
    "common.search": {"vi": "Tìm", "en": "Search"},
    "common.filter": {"vi": "Lọc", "en": "Filter"},
    "common.all": {"vi": "Tất cả", "en": "All"},
    "common.next_page": {"vi": "Trang sau", "en": "Next page"},
    "common.first_page": {"vi": "Trang đầu", "en": "First page"},
    "common.updated_at": {"vi": "Cập nhật lúc {time}", "en": "Updated at {time}"},
    "common.auto_refresh": {"vi": "Tự làm mới mỗi {seconds} giây", "en": "Refreshes every {seconds} s"},
    "common.masked_note": {
        "vi": "Vai trò Xem: số định danh, điện thoại và thư điện tử được che.",
        "en": "Viewer role: id numbers, phones and emails are masked.",
    },
    "common.download": {"vi": "Tải xuống", "en": "Download"},
    "common.per_minute": {"vi": "/phút", "en": "/min"},
    # login
    "login.title": {"vi": "Đăng nhập", "en": "Sign in"},
    "login.username": {"vi": "Tên đăng nhập", "en": "Username"},
    "login.password": {"vi": "Mật khẩu", "en": "Password"},
    "login.submit": {"vi": "Đăng nhập", "en": "Sign in"},
    "login.failed": {"vi": "Sai tên đăng nhập hoặc mật khẩu.", "en": "Wrong username or password."},
    # overview
    "overview.title": {"vi": "Tổng quan", "en": "Overview"},
    "overview.queues": {"vi": "Hàng đợi của các đơn vị", "en": "Unit queues"},
    "overview.queue": {"vi": "Hàng đợi", "en": "Queue"},
    "overview.unit": {"vi": "Đơn vị", "en": "Unit"},
    "overview.depth": {"vi": "Đang chờ", "en": "Waiting"},
    "overview.consumers": {"vi": "Bên nhận", "en": "Consumers"},
    "overview.rate_in": {"vi": "Vào", "en": "In"},
    "overview.rate_out": {"vi": "Ra", "en": "Out"},
    "overview.rates_note": {
        "vi": "Tốc độ tính trên {minutes} phút gần nhất; “ra” = vào trừ phần tăng của hàng đợi.",
        "en": "Rates over the last {minutes} min; “out” = in minus the queue's growth.",
    },
    "overview.queue_missing": {"vi": "chưa khai báo", "en": "not declared"},
    "overview.no_consumer": {"vi": "không có bên nhận", "en": "no consumer"},
    "overview.broker": {"vi": "RabbitMQ", "en": "RabbitMQ"},
    "overview.broker_connected": {"vi": "Đã kết nối", "en": "Connected"},
    "overview.broker_down": {"vi": "Mất kết nối", "en": "Disconnected"},
    "overview.outbox": {"vi": "Hàng chờ gửi đến đơn vị", "en": "Outbox to units"},
    "overview.outbox_pending": {"vi": "{count} chờ gửi", "en": "{count} waiting"},
    "overview.outbox_oldest": {"vi": "cũ nhất {age}", "en": "oldest {age}"},
    "overview.national": {"vi": "Cổng quốc gia", "en": "National portal"},
    "overview.breaker": {"vi": "Cầu dao", "en": "Circuit breaker"},
    "overview.breaker.closed": {"vi": "Hoạt động", "en": "Closed (working)"},
    "overview.breaker.open": {"vi": "Ngắt — tạm dừng gửi", "en": "Open — sending paused"},
    "overview.breaker.half_open": {"vi": "Đang thử lại", "en": "Half-open (trial)"},
    "overview.last_success": {"vi": "Gửi được lần cuối", "en": "Last success"},
    "overview.last_error": {"vi": "Lỗi gần nhất", "en": "Last error"},
    "overview.national_outbox": {"vi": "Hàng chờ gửi Cổng quốc gia", "en": "National outbox"},
    "overview.national_state.pending": {"vi": "Chờ gửi", "en": "Pending"},
    "overview.national_state.delivered": {"vi": "Đã gửi", "en": "Delivered"},
    "overview.national_state.dead": {"vi": "Lỗi", "en": "Dead"},
    "overview.dead_letters": {"vi": "Thư lỗi theo công đoạn", "en": "Dead letters by stage"},
    "overview.dead_total": {"vi": "{count} thư lỗi", "en": "{count} dead letters"},
    "overview.dead_unreadable": {
        "vi": "Không đọc được pakn.dead: {error}",
        "en": "Could not read pakn.dead: {error}",
    },
    "overview.cases": {"vi": "Hồ sơ", "en": "Cases"},
    "overview.overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "overview.overdue_note": {
        "vi": "Quá hạn giải quyết (hạn Cổng quốc gia gửi, hoặc tính theo ngày làm việc); hồ sơ đang mở.",
        "en": "Past the deadline (the portal's DueAt, else counted in working days); open cases only.",
    },
    "overview.overdue_unknown": {"vi": "chưa có số liệu hạn", "en": "no due-date data"},
    "overview.by_status": {"vi": "Theo trạng thái", "en": "By status"},
    "overview.throughput": {"vi": "Lưu lượng với Cổng quốc gia", "en": "Traffic with the national portal"},
    "overview.throughput_in": {"vi": "Nhận từ Cổng", "en": "From the portal"},
    "overview.throughput_out": {"vi": "Gửi đến Cổng", "en": "To the portal"},
    "overview.depth_chart": {"vi": "Số thư chờ trong hàng đợi", "en": "Messages waiting in queues"},
    "overview.chart_empty": {
        "vi": "Chưa có mẫu số liệu (lấy mẫu mỗi {seconds} giây).",
        "en": "No samples yet (one every {seconds} s).",
    },
    "overview.window": {"vi": "Khoảng thời gian", "en": "Window"},
    # dead letters
    "dl.title": {"vi": "Thư lỗi", "en": "Dead letters"},
    "dl.intro": {
        "vi": "Thư không xử lý được sau các lần thử lại, từ pakn.dead và hàng chờ gửi Cổng quốc gia.",
        "en": "Messages not handled after their retries, from pakn.dead and the national outbox.",
    },
    "dl.stage": {"vi": "Công đoạn", "en": "Stage"},
    "dl.id": {"vi": "Mã", "en": "Id"},
    "dl.reason": {"vi": "Lý do", "en": "Reason"},
    "dl.attempts": {"vi": "Số lần thử", "en": "Attempts"},
    "dl.last_error": {"vi": "Lỗi cuối", "en": "Last error"},
    "dl.dead_at": {"vi": "Thời điểm", "en": "Dead at"},
    "dl.where": {"vi": "Đích ban đầu", "en": "Original destination"},
    "dl.source": {"vi": "Nguồn", "en": "Source"},
    "dl.headers": {"vi": "Tiêu đề thư", "en": "Headers"},
    "dl.body": {"vi": "Nội dung", "en": "Body"},
    "dl.empty": {"vi": "Không có thư lỗi nào. Mọi thứ đều ổn.", "en": "No dead letters. All is well."},
    "dl.shown": {"vi": "Hiển thị {shown} trên {total}", "en": "Showing {shown} of {total}"},
    "dl.select_all": {"vi": "Chọn tất cả", "en": "Select all"},
    "dl.replay": {"vi": "Gửi lại", "en": "Replay"},
    "dl.discard": {"vi": "Hủy bỏ thư", "en": "Discard"},
    "dl.replay_selected": {"vi": "Gửi lại các thư đã chọn", "en": "Replay selected"},
    "dl.discard_selected": {"vi": "Hủy các thư đã chọn", "en": "Discard selected"},
    "dl.none_selected": {"vi": "Chưa chọn thư nào.", "en": "No message selected."},
    "dl.confirm_title.replay": {"vi": "Xác nhận gửi lại", "en": "Confirm replay"},
    "dl.confirm_title.discard": {"vi": "Xác nhận hủy thư", "en": "Confirm discard"},
    "dl.confirm_text.replay": {
        "vi": "Các thư sau sẽ được gửi lại theo đường đi ban đầu:",
        "en": "These messages will be sent again on their original path:",
    },
    "dl.confirm_text.discard": {
        "vi": "Các thư sau sẽ bị xóa vĩnh viễn khỏi pakn.dead (không khôi phục được):",
        "en": "These messages will be removed from pakn.dead for good (no undo):",
    },
    "dl.confirm_go.replay": {"vi": "Gửi lại ngay", "en": "Replay now"},
    "dl.confirm_go.discard": {"vi": "Hủy vĩnh viễn", "en": "Discard for good"},
    "dl.done.replay": {"vi": "Đã gửi lại {count} thư.", "en": "Replayed {count} message(s)."},
    "dl.done.discard": {"vi": "Đã hủy {count} thư.", "en": "Discarded {count} message(s)."},
    "dl.not_found": {"vi": "Không còn thấy: {ids}", "en": "No longer found: {ids}"},
    "dl.national_not_discardable": {
        "vi": "Thư của hàng chờ Cổng quốc gia chỉ gửi lại được, không hủy được.",
        "en": "National outbox dead letters can only be replayed, not discarded.",
    },
    "dl.read_only": {
        "vi": "Vai trò của bạn chỉ được xem; gửi lại và hủy cần vai trò Vận hành.",
        "en": "Your role may only look; replay and discard need the Operator role.",
    },
    "dl.inspect": {"vi": "Xem chi tiết", "en": "Inspect"},
    # cases
    "cases.title": {"vi": "Hồ sơ", "en": "Cases"},
    "cases.search_placeholder": {
        "vi": "Mã hồ sơ, người gửi, điện thoại, nội dung… (gõ không dấu cũng được)",
        "en": "Petition id, sender, phone, text… (accents optional)",
    },
    "cases.status": {"vi": "Trạng thái", "en": "Status"},
    "cases.unit": {"vi": "Đơn vị", "en": "Unit"},
    "cases.field": {"vi": "Lĩnh vực", "en": "Field"},
    "cases.kind": {"vi": "Loại", "en": "Kind"},
    "cases.overdue_only": {"vi": "Chỉ hồ sơ quá hạn", "en": "Overdue only"},
    "cases.due_soon_only": {"vi": "Chỉ hồ sơ sắp đến hạn", "en": "Due soon only"},
    "cases.petition_id": {"vi": "Mã hồ sơ", "en": "Petition id"},
    "cases.received": {"vi": "Ngày nhận", "en": "Received"},
    "cases.sender": {"vi": "Người gửi", "en": "Sender"},
    "cases.subject": {"vi": "Tiêu đề", "en": "Title"},
    "cases.due": {"vi": "Hạn", "en": "Due"},
    "cases.none": {"vi": "Không tìm thấy hồ sơ nào.", "en": "No case found."},
    "cases.unavailable": {
        "vi": "Chức năng tìm hồ sơ chưa sẵn sàng trên máy chủ này.",
        "en": "Case search is not available on this server yet.",
    },
    "case.title": {"vi": "Hồ sơ {id}", "en": "Case {id}"},
    "case.petition": {"vi": "Phản ánh, kiến nghị", "en": "Petition"},
    "case.content": {"vi": "Nội dung", "en": "Content"},
    "case.id_number": {"vi": "Số định danh", "en": "Id number"},
    "case.phone": {"vi": "Điện thoại", "en": "Phone"},
    "case.email": {"vi": "Thư điện tử", "en": "Email"},
    "case.address": {"vi": "Địa chỉ", "en": "Address"},
    "case.channel": {"vi": "Kênh", "en": "Channel"},
    "case.history": {"vi": "Lịch sử trạng thái", "en": "Status history"},
    "case.seq": {"vi": "STT", "en": "Seq"},
    "case.changed_at": {"vi": "Thời điểm", "en": "At"},
    "case.description": {"vi": "Mô tả", "en": "Description"},
    "case.timeline": {"vi": "Dòng thời gian trao đổi", "en": "Message timeline"},
    "case.direction": {"vi": "Chiều", "en": "Direction"},
    "case.direction.in": {"vi": "Nhận", "en": "In"},
    "case.direction.out": {"vi": "Gửi", "en": "Out"},
    "case.operation": {"vi": "Nghiệp vụ", "en": "Operation"},
    "case.message_id": {"vi": "MessageId", "en": "MessageId"},
    "case.verdict": {"vi": "Chữ ký", "en": "Signature"},
    "verdict.valid": {"vi": "hợp lệ", "en": "valid"},
    "verdict.signed": {"vi": "đã ký", "en": "signed"},
    "verdict.unsigned": {"vi": "không ký", "en": "unsigned"},
    "verdict.absent": {"vi": "không có", "en": "absent"},
    "verdict.not-checked": {"vi": "không kiểm tra", "en": "not checked"},
    "verdict.invalid": {"vi": "KHÔNG hợp lệ", "en": "INVALID"},
    "case.outcome": {"vi": "Kết quả", "en": "Outcome"},
    "case.raw": {"vi": "XML gốc", "en": "Raw XML"},
    "case.answers": {"vi": "Trả lời", "en": "Answers"},
    "case.signer": {"vi": "Người ký", "en": "Signed by"},
    "case.signed_pdf": {"vi": "Văn bản trả lời (PDF đã ký)", "en": "Answer letter (signed PDF)"},
    "case.feedback": {"vi": "Đánh giá của người dân", "en": "Citizen feedback"},
    "case.rating": {"vi": "Mức hài lòng", "en": "Rating"},
    "case.comment": {"vi": "Ý kiến", "en": "Comment"},
    "case.attachments": {"vi": "Tệp đính kèm", "en": "Attachments"},
    "case.updates": {"vi": "Bổ sung, rút đơn", "en": "Supplements and withdrawals"},
    "case.no_answer": {"vi": "Chưa có trả lời.", "en": "No answer yet."},
    "case.no_feedback": {"vi": "Chưa có đánh giá.", "en": "No feedback yet."},
    "case.no_messages": {"vi": "Chưa có thư nào được ghi.", "en": "No message recorded."},
    # units
    "units.title": {"vi": "Đơn vị", "en": "Units"},
    "units.code": {"vi": "Mã", "en": "Code"},
    "units.name": {"vi": "Tên đơn vị", "en": "Name"},
    "units.queue": {"vi": "Hàng đợi", "en": "Queue"},
    "units.binding": {"vi": "Khóa liên kết", "en": "Binding key"},
    "units.triage": {"vi": "Đơn vị tiếp nhận chung", "en": "Triage unit"},
    "units.routing": {"vi": "Quy tắc phân luồng đang áp dụng", "en": "Routing rules in force"},
    "units.routing_note": {
        "vi": "Chỉ đọc: sửa config/routing.yaml rồi khởi động lại. Quy tắc cụ thể nhất được áp dụng.",
        "en": "Read-only: edit config/routing.yaml and restart. The most specific rule wins.",
    },
    "units.fields": {"vi": "Lĩnh vực", "en": "Fields"},
    "units.kinds": {"vi": "Loại", "en": "Kinds"},
    "units.sender_types": {"vi": "Người gửi", "en": "Sender types"},
    "units.any": {"vi": "(bất kỳ)", "en": "(any)"},
    "units.tokens": {"vi": "Mã truy cập REST của đơn vị", "en": "Unit REST tokens"},
    "units.token_label": {"vi": "Nhãn", "en": "Label"},
    "units.token_created": {"vi": "Tạo lúc", "en": "Created"},
    "units.token_revoked": {"vi": "Thu hồi lúc", "en": "Revoked"},
    "units.token_active": {"vi": "Đang dùng", "en": "Active"},
    "units.token_create": {"vi": "Tạo mã mới", "en": "Create token"},
    "units.token_revoke": {"vi": "Thu hồi", "en": "Revoke"},
    "units.token_shown_once": {
        "vi": "Mã mới (chỉ hiện một lần, hãy lưu lại ngay):",
        "en": "New token (shown once, copy it now):",
    },
    "units.token_revoke_confirm": {
        "vi": "Thu hồi mã này? Đơn vị sẽ không gọi REST bằng mã này được nữa.",
        "en": "Revoke this token? The unit can no longer call REST with it.",
    },
    "units.token_revoked_done": {"vi": "Đã thu hồi mã.", "en": "Token revoked."},
    "units.admin_only": {"vi": "Chỉ Quản trị quản lý mã truy cập.", "en": "Only admins manage tokens."},
    "units.no_tokens": {"vi": "Chưa có mã nào.", "en": "No token yet."},
    "units.unavailable": {
        "vi": "Chức năng quản lý đơn vị chưa sẵn sàng trên máy chủ này.",
        "en": "Unit management is not available on this server yet.",
    },
    # status codes (edXML, with the gateway's 07 and 08), kinds, senders, channels
    "status.01": {"vi": "Đã đến", "en": "Arrived"},
    "status.02": {"vi": "Từ chối tiếp nhận", "en": "Rejected"},
    "status.03": {"vi": "Đã tiếp nhận", "en": "Accepted"},
    "status.04": {"vi": "Đã chuyển đơn vị", "en": "Assigned"},
    "status.05": {"vi": "Đang xử lý", "en": "Processing"},
    "status.06": {"vi": "Đã trả lời", "en": "Answered"},
    "status.07": {"vi": "Chuyển cơ quan khác", "en": "Transferred out"},
    "status.08": {"vi": "Người gửi rút đơn", "en": "Withdrawn"},
    "kind.PHAN_ANH": {"vi": "Phản ánh", "en": "Feedback on a matter"},
    "kind.KIEN_NGHI": {"vi": "Kiến nghị", "en": "Recommendation"},
    "kind.HOI_DAP": {"vi": "Hỏi đáp chính sách", "en": "Policy question"},
    "kind.CU_TRI": {"vi": "Kiến nghị cử tri", "en": "Voters' petition"},
    "kind.DBQH": {"vi": "Kiến nghị ĐBQH", "en": "Deputy's petition"},
    "sender.CA_NHAN": {"vi": "Cá nhân", "en": "Individual"},
    "sender.DOANH_NGHIEP": {"vi": "Doanh nghiệp", "en": "Business"},
    "sender.TO_CHUC": {"vi": "Tổ chức", "en": "Organisation"},
    "sender.CU_TRI": {"vi": "Cử tri", "en": "Voters"},
    "sender.DAI_BIEU": {"vi": "Đại biểu", "en": "Deputy"},
    "channel.WEB": {"vi": "Cổng thông tin", "en": "Web portal"},
    "channel.APP": {"vi": "Ứng dụng", "en": "App"},
    "channel.PHONE": {"vi": "Điện thoại", "en": "Phone"},
    "channel.EMAIL": {"vi": "Thư điện tử", "en": "Email"},
    "channel.POST": {"vi": "Bưu chính", "en": "Post"},
    "channel.DIRECT": {"vi": "Trực tiếp", "en": "In person"},
    # errors
    "error.title": {"vi": "Không thực hiện được", "en": "Could not be done"},
    "error.forbidden": {"vi": "Vai trò của bạn không được làm việc này.", "en": "Your role may not do this."},
    "error.not_found": {"vi": "Không tìm thấy trang này.", "en": "Page not found."},
}
CATALOGUE.update(REPORT_TEXTS)  # the Reports page (gateway.console.i18n_reports)


class Translator:
    """``t("key", name=value)``: the text in this language, with ``{name}`` filled in."""

    def __init__(self, lang: str, catalogue: Mapping[str, Mapping[str, str]] = CATALOGUE) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._catalogue = catalogue

    def __call__(self, key: str, **params: object) -> str:
        entry = self._catalogue.get(key)
        if entry is None:
            raise UnknownText(key)
        text = entry[self.lang]
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in self._catalogue


def choose_lang(query_lang: str | None, cookie_lang: str | None) -> str:
    """``?lang=`` first (an explicit switch), then the cookie, then Vietnamese."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGS:
            return candidate
    return DEFAULT_LANG
