"""Vietnamese names, places and organisations the generator draws from.

Realistic rather than authoritative: the province codes are the General Statistics Office codes of
provinces that kept their name after the 2025 merger, the ward codes are five-digit codes in each
province's range. Real-looking data is what exercises the gateway's NFC handling, masking and routing;
an official register is not needed for that.
"""

from __future__ import annotations

from typing import NamedTuple

SURNAMES: tuple[str, ...] = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trịnh",
    "Mai",
    "Lương",
)
"""Họ, roughly in order of frequency."""

MIDDLE_NAMES_MALE: tuple[str, ...] = (
    "Văn",
    "Hữu",
    "Đức",
    "Minh",
    "Quốc",
    "Thành",
    "Công",
    "Xuân",
    "Gia",
    "Trọng",
)
MIDDLE_NAMES_FEMALE: tuple[str, ...] = (
    "Thị",
    "Thu",
    "Ngọc",
    "Thanh",
    "Bích",
    "Hồng",
    "Mai",
    "Diệu",
    "Khánh",
    "Phương",
)

GIVEN_NAMES_MALE: tuple[str, ...] = (
    "Anh",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hùng",
    "Khánh",
    "Long",
    "Nam",
    "Phúc",
    "Quang",
    "Sơn",
    "Tuấn",
    "Việt",
    "Thắng",
    "Hiếu",
    "Lộc",
    "Tùng",
    "Vinh",
)
GIVEN_NAMES_FEMALE: tuple[str, ...] = (
    "Hà",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Nga",
    "Nhung",
    "Oanh",
    "Phương",
    "Thảo",
    "Trang",
    "Tuyết",
    "Yến",
    "Hạnh",
    "Huyền",
    "Loan",
    "Ngân",
    "Quỳnh",
    "Thủy",
    "Vân",
)


class Ward(NamedTuple):
    name: str
    code: str


class Province(NamedTuple):
    """A province (tỉnh, thành phố): name as written after 'tỉnh'/'thành phố', GSO code, some wards."""

    name: str
    prefix: str  # "thành phố" or "tỉnh"
    code: str
    wards: tuple[Ward, ...]
    streets: tuple[str, ...]

    @property
    def full_name(self) -> str:
        """As written inside a sentence: "tỉnh Nghệ An", "thành phố Hà Nội"."""
        return f"{self.prefix} {self.name}"


PROVINCES: tuple[Province, ...] = (
    Province(
        "Hà Nội",
        "thành phố",
        "01",
        (
            Ward("phường Ba Đình", "00004"),
            Ward("phường Hoàn Kiếm", "00070"),
            Ward("phường Cầu Giấy", "00167"),
            Ward("phường Hà Đông", "09552"),
            Ward("xã Sóc Sơn", "08980"),
        ),
        ("phố Kim Mã", "phố Huế", "đường Láng", "phố Trần Duy Hưng", "đường Quang Trung"),
    ),
    Province(
        "Hồ Chí Minh",
        "thành phố",
        "79",
        (
            Ward("phường Sài Gòn", "26740"),
            Ward("phường Tân Định", "26734"),
            Ward("phường Bình Thạnh", "26944"),
            Ward("phường Thủ Đức", "26800"),
            Ward("xã Củ Chi", "27496"),
        ),
        ("đường Nguyễn Huệ", "đường Lê Lợi", "đường Điện Biên Phủ", "đường Võ Văn Ngân", "đường Cộng Hòa"),
    ),
    Province(
        "Hải Phòng",
        "thành phố",
        "31",
        (Ward("phường Hồng Bàng", "11311"), Ward("phường Lê Chân", "11383"), Ward("xã An Lão", "11716")),
        ("đường Lạch Tray", "đường Điện Biên Phủ", "phố Cầu Đất"),
    ),
    Province(
        "Đà Nẵng",
        "thành phố",
        "48",
        (Ward("phường Hải Châu", "20194"), Ward("phường Sơn Trà", "20263"), Ward("xã Hòa Vang", "20320")),
        ("đường Bạch Đằng", "đường Nguyễn Văn Linh", "đường Ngô Quyền"),
    ),
    Province(
        "Cần Thơ",
        "thành phố",
        "92",
        (Ward("phường Ninh Kiều", "31117"), Ward("phường Cái Răng", "31186"), Ward("xã Phong Điền", "31299")),
        ("đường 30 Tháng 4", "đường Trần Hưng Đạo", "đường Mậu Thân"),
    ),
    Province(
        "Thanh Hóa",
        "tỉnh",
        "38",
        (Ward("phường Hạc Thành", "14758"), Ward("phường Sầm Sơn", "14803"), Ward("xã Nga Sơn", "15820")),
        ("đường Lê Lai", "đại lộ Lê Lợi", "đường Bà Triệu"),
    ),
    Province(
        "Nghệ An",
        "tỉnh",
        "40",
        (Ward("phường Thành Vinh", "16681"), Ward("phường Cửa Lò", "16708"), Ward("xã Diễn Châu", "17263")),
        ("đường Lê Duẩn", "đường Nguyễn Du", "đại lộ Lê Nin"),
    ),
    Province(
        "Quảng Ninh",
        "tỉnh",
        "22",
        (
            Ward("phường Hạ Long", "06652"),
            Ward("phường Cẩm Phả", "06994"),
            Ward("phường Móng Cái 1", "06832"),
        ),
        ("đường Trần Hưng Đạo", "đường Hạ Long", "đường Lê Thánh Tông"),
    ),
    Province(
        "Khánh Hòa",
        "tỉnh",
        "56",
        (Ward("phường Nha Trang", "22333"), Ward("phường Cam Ranh", "22435"), Ward("xã Diên Khánh", "22597")),
        ("đường Trần Phú", "đường Thống Nhất", "đường 23 Tháng 10"),
    ),
    Province(
        "Đồng Nai",
        "tỉnh",
        "75",
        (
            Ward("phường Biên Hòa", "25993"),
            Ward("phường Long Khánh", "26068"),
            Ward("xã Nhơn Trạch", "26491"),
        ),
        ("đường Phạm Văn Thuận", "quốc lộ 51", "đường Đồng Khởi"),
    ),
    Province(
        "Huế",
        "thành phố",
        "46",
        (Ward("phường Thuận Hóa", "19774"), Ward("phường Phú Xuân", "19750"), Ward("xã Phú Vang", "20002")),
        ("đường Lê Lợi", "đường Hùng Vương", "đường Nguyễn Huệ"),
    ),
    Province(
        "Hà Tĩnh",
        "tỉnh",
        "42",
        (Ward("phường Thành Sen", "18070"), Ward("phường Hồng Lĩnh", "18115"), Ward("xã Kỳ Anh", "18550")),
        ("đường Phan Đình Phùng", "đường Trần Phú", "đường Hà Huy Tập"),
    ),
    Province(
        "Thái Nguyên",
        "tỉnh",
        "19",
        (
            Ward("phường Phan Đình Phùng", "05443"),
            Ward("phường Phổ Yên", "05854"),
            Ward("xã Đại Từ", "05611"),
        ),
        ("đường Hoàng Văn Thụ", "đường Lương Ngọc Quyến", "đường Quang Trung"),
    ),
    Province(
        "Đắk Lắk",
        "tỉnh",
        "66",
        (Ward("phường Buôn Ma Thuột", "24121"), Ward("phường Buôn Hồ", "24175"), Ward("xã Ea Kar", "24478")),
        ("đường Lê Duẩn", "đường Nguyễn Tất Thành", "đường Phan Bội Châu"),
    ),
    Province(
        "Lâm Đồng",
        "tỉnh",
        "68",
        (
            Ward("phường Xuân Hương - Đà Lạt", "24778"),
            Ward("phường Bảo Lộc 1", "24820"),
            Ward("xã Đức Trọng", "25054"),
        ),
        ("đường Trần Phú", "đường Phan Đình Phùng", "đường Hùng Vương"),
    ),
    Province(
        "Cà Mau",
        "tỉnh",
        "96",
        (Ward("phường An Xuyên", "32002"), Ward("phường Tân Thành", "32014"), Ward("xã Năm Căn", "32221")),
        ("đường Lý Thường Kiệt", "đường Trần Hưng Đạo", "đường Phan Ngọc Hiển"),
    ),
)

COMPANY_FORMS: tuple[str, ...] = (
    "Công ty TNHH",
    "Công ty Cổ phần",
    "Công ty TNHH MTV",
    "Doanh nghiệp tư nhân",
)
COMPANY_TRADES: tuple[str, ...] = (
    "May mặc",
    "Xây dựng",
    "Cơ khí chính xác",
    "Chế biến thủy sản",
    "Giao nhận vận tải",
    "Da giày",
    "Chế biến gỗ",
    "Điện tử",
    "Bảo vệ",
    "Dịch vụ vệ sinh công nghiệp",
)
COMPANY_NAMES: tuple[str, ...] = (
    "Hòa Bình",
    "Sông Hồng",
    "Phương Nam",
    "Bình Minh",
    "Trường Thịnh",
    "An Khang",
    "Thành Đạt",
    "Hưng Phát",
    "Đông Á",
    "Việt Tiến",
)

ORGANISATION_PATTERNS: tuple[str, ...] = (
    "Hội Liên hiệp Phụ nữ {ward}",
    "Hội Cựu chiến binh {ward}",
    "Công đoàn cơ sở {company}",
    "Hợp tác xã nông nghiệp {ward}",
    "Trường Trung cấp nghề {province}",
    "Hội Người cao tuổi {ward}",
    "Trung tâm Bảo trợ xã hội {province}",
)
"""TO_CHUC organisations; formatted with a ward, a company or a province name."""

DEPUTY_POSITIONS: tuple[str, ...] = (
    "Phó Trưởng Đoàn chuyên trách",
    "Ủy viên Ủy ban Xã hội của Quốc hội",
    "Ủy viên Ủy ban Văn hóa và Giáo dục",
    "Đại biểu chuyên trách",
)

EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "yahoo.com.vn", "outlook.com", "vnpt.vn", "fpt.vn")
MOBILE_PREFIXES: tuple[str, ...] = (
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "032",
    "035",
    "038",
    "070",
    "077",
    "081",
    "086",
)

CITIZEN_ID_PROVINCE: dict[str, str] = {province.code: f"0{province.code}" for province in PROVINCES}
"""First three digits of a citizen id (CCCD): the province of birth registration, 0 + GSO code."""

TAX_CODE_PREFIX: dict[str, str] = {"01": "01", "79": "03", "31": "02", "48": "04"}
"""Tax code prefixes of the large cities; elsewhere the generator uses the province code."""
