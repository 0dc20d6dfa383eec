"""What citizens write to MOLISA about, per field (lĩnh vực): subjects, facts, questions, proposals.

Each topic is a subject phrase (fits after "Phản ánh về", "Hỏi về"…), a paragraph of facts, a question
for policy questions (hỏi đáp) and a proposal for the other kinds. Placeholders are filled by the
generator: {company}, {province}, {ward}, {day}, {month}, {months}, {years}, {amount}, {year}, {count}.
The texts are written for the simulator; their shape follows what the national portal publishes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_FIRST_PERSON = re.compile(r"\btôi\b", re.IGNORECASE)


class Topic(NamedTuple):
    subject: str
    facts: str
    question: str
    proposal: str
    procedure_code: str | None = None
    """A real-looking administrative procedure code (mã thủ tục hành chính) when the topic is one."""

    @property
    def first_person(self) -> bool:
        """Told by the citizen concerned ("tôi", "con tôi"): only an individual sender can write it."""
        return _FIRST_PERSON.search(self.facts) is not None


TOPICS: dict[str, tuple[Topic, ...]] = {
    "VIEC_LAM": (
        Topic(
            "chế độ trợ cấp thất nghiệp khi nghỉ việc",
            "Người lao động đã đóng bảo hiểm thất nghiệp {years} năm tại {company}, nghỉ việc từ tháng "
            "{month}/"
            "{year} và đã nộp hồ sơ tại Trung tâm Dịch vụ việc làm {province} nhưng sau {months} tháng vẫn "
            "chưa nhận được quyết định hưởng trợ cấp thất nghiệp.",
            "Xin hỏi thời hạn giải quyết hồ sơ và cách tính mức hưởng trợ cấp thất nghiệp hằng tháng?",
            "Đề nghị chỉ đạo Trung tâm Dịch vụ việc làm giải quyết hồ sơ đúng thời hạn.",
            "1.001978",
        ),
        Topic(
            "việc đưa người lao động đi làm việc ở nước ngoài theo hợp đồng",
            "Gia đình đã nộp {amount} triệu đồng cho một doanh nghiệp dịch vụ để con đi làm việc tại Nhật "
            "Bản, "
            "nhưng đã {months} tháng vẫn chưa được xuất cảnh, doanh nghiệp không trả lại tiền.",
            "Xin hỏi doanh nghiệp được thu những khoản tiền nào và người lao động được hoàn trả ra sao?",
            "Đề nghị kiểm tra giấy phép hoạt động của doanh nghiệp và buộc hoàn trả tiền cho người lao động.",
        ),
        Topic(
            "vay vốn hỗ trợ tạo việc làm từ Quỹ quốc gia về việc làm",
            "Hộ gia đình tại {ward} có nhu cầu vay {amount} triệu đồng để mở xưởng may, tạo việc làm cho "
            "{count} lao động địa phương, nhưng chưa được hướng dẫn thủ tục.",
            "Xin hỏi điều kiện, mức vay tối đa và lãi suất cho vay hỗ trợ tạo việc làm?",
            "Đề nghị tăng nguồn vốn ủy thác cho vay giải quyết việc làm tại địa phương.",
        ),
    ),
    "GIAO_DUC_NGHE_NGHIEP": (
        Topic(
            "miễn, giảm học phí cho học sinh học nghề sau trung học cơ sở",
            "Con tôi tốt nghiệp trung học cơ sở năm {year}, đang học trung cấp nghề điện công nghiệp tại "
            "{province} nhưng nhà trường vẫn thu học phí {amount} triệu đồng mỗi năm.",
            "Xin hỏi học sinh tốt nghiệp trung học cơ sở học trung cấp có được miễn học phí không?",
            "Đề nghị hướng dẫn các trường thực hiện thống nhất chính sách miễn học phí.",
        ),
        Topic(
            "liên thông từ trung cấp lên cao đẳng",
            "Người học đã có bằng trung cấp nghề hàn từ năm {year}, nay muốn học liên thông lên cao đẳng "
            "nhưng trường yêu cầu học lại toàn bộ các mô-đun.",
            "Xin hỏi việc công nhận kết quả học tập khi học liên thông được thực hiện thế nào?",
            "Đề nghị có quy định rõ về công nhận mô-đun đã học khi liên thông.",
        ),
        Topic(
            "hỗ trợ đào tạo nghề cho lao động nông thôn",
            "Tại {ward} có {count} lao động nông thôn đăng ký học nghề trồng nấm nhưng lớp học chưa được mở "
            "vì thiếu kinh phí hỗ trợ.",
            "Xin hỏi lao động nông thôn được hỗ trợ chi phí đào tạo nghề ở mức nào?",
            "Đề nghị bố trí kinh phí để mở lớp đào tạo nghề trong năm {year}.",
        ),
    ),
    "LAO_DONG_TIEN_LUONG": (
        Topic(
            "việc công ty chậm trả lương nhiều tháng",
            "{company} đã chậm trả lương cho khoảng {count} công nhân trong {months} tháng liên tiếp, "
            "tổng số tiền nợ khoảng {amount} triệu đồng, công nhân nhiều lần đề nghị nhưng không được giải "
            "quyết.",
            "Xin hỏi người lao động cần làm gì để được trả đủ tiền lương và tiền lãi do chậm trả?",
            "Đề nghị thanh tra lao động kiểm tra và buộc doanh nghiệp trả đủ lương cho người lao động.",
        ),
        Topic(
            "áp dụng mức lương tối thiểu vùng",
            "{company} tại {province} trả lương cho lao động phổ thông thấp hơn mức lương tối thiểu vùng áp "
            "dụng từ năm {year}, với lý do đã tính cả tiền chuyên cần.",
            "Xin hỏi tiền chuyên cần có được tính vào mức lương để so sánh với lương tối thiểu vùng không?",
            "Đề nghị hướng dẫn rõ các khoản được tính khi so sánh với lương tối thiểu vùng.",
        ),
        Topic(
            "làm thêm giờ vượt quá giới hạn",
            "Công nhân {company} phải làm thêm {count} giờ mỗi tháng, vượt quá giới hạn luật định, và tiền "
            "làm thêm giờ vào ngày nghỉ hằng tuần không được trả đủ 200%.",
            "Xin hỏi giới hạn số giờ làm thêm trong tháng, trong năm và cách tính tiền làm thêm giờ?",
            "Đề nghị kiểm tra việc tổ chức làm thêm giờ tại doanh nghiệp.",
        ),
    ),
    "BAO_HIEM_XA_HOI": (
        Topic(
            "việc doanh nghiệp nợ đóng bảo hiểm xã hội",
            "{company} khấu trừ tiền bảo hiểm xã hội vào lương hằng tháng nhưng không nộp cho cơ quan bảo "
            "hiểm xã hội trong {months} tháng, người lao động nghỉ việc không được chốt sổ.",
            "Xin hỏi người lao động có được chốt sổ bảo hiểm xã hội khi doanh nghiệp còn nợ không?",
            "Đề nghị có biện pháp xử lý doanh nghiệp trốn đóng, nợ đóng bảo hiểm xã hội.",
            "1.011812",
        ),
        Topic(
            "hưởng bảo hiểm xã hội một lần",
            "Tôi đã đóng bảo hiểm xã hội bắt buộc {years} năm, nghỉ việc từ năm {year} và hiện không tham "
            "gia "
            "bảo hiểm xã hội nữa.",
            "Xin hỏi theo Luật Bảo hiểm xã hội năm 2024, tôi có được nhận bảo hiểm xã hội một lần không?",
            "Đề nghị hướng dẫn cụ thể điều kiện hưởng bảo hiểm xã hội một lần cho người tham gia trước năm "
            "2025.",
        ),
        Topic(
            "cách tính lương hưu",
            "Người lao động đã đóng bảo hiểm xã hội {years} năm, trong đó có thời gian làm công việc nặng "
            "nhọc, "
            "độc hại, dự kiến nghỉ hưu vào năm {year}.",
            "Xin hỏi tỷ lệ hưởng lương hưu và mức bình quân tiền lương được tính như thế nào?",
            "Đề nghị xem xét điều chỉnh tỷ lệ hưởng lương hưu cho lao động nữ làm nghề nặng nhọc.",
        ),
    ),
    "AN_TOAN_VE_SINH_LAO_DONG": (
        Topic(
            "tai nạn lao động chưa được bồi thường",
            "Ngày {day}/{month}/{year}, một công nhân của {company} bị máy dập cắt đứt hai ngón tay khi đang "
            "làm việc; đến nay doanh nghiệp chưa chi trả tiền bồi thường và chưa giới thiệu đi giám định.",
            "Xin hỏi người bị tai nạn lao động được bồi thường, trợ cấp những khoản nào?",
            "Đề nghị điều tra vụ tai nạn lao động và buộc doanh nghiệp thực hiện đủ trách nhiệm.",
        ),
        Topic(
            "môi trường làm việc bụi, ồn vượt mức cho phép",
            "Nhà xưởng của {company} tại {ward} có bụi gỗ và tiếng ồn rất lớn, công nhân không được cấp "
            "khẩu trang, nút tai và chưa được khám sức khỏe định kỳ trong năm {year}.",
            "Xin hỏi doanh nghiệp có bắt buộc quan trắc môi trường lao động hằng năm không?",
            "Đề nghị kiểm tra công tác an toàn, vệ sinh lao động tại doanh nghiệp.",
        ),
        Topic(
            "huấn luyện an toàn khi làm việc trên cao",
            "Tại các công trình xây dựng ở {province}, nhiều công nhân làm việc trên giàn giáo không có dây "
            "an toàn và chưa được huấn luyện an toàn lao động.",
            "Xin hỏi người làm việc trên cao phải được huấn luyện nhóm nào và bao lâu một lần?",
            "Đề nghị tăng cường thanh tra an toàn lao động tại các công trình xây dựng.",
        ),
    ),
    "NGUOI_CO_CONG": (
        Topic(
            "xác nhận liệt sĩ cho người thân hy sinh trong kháng chiến",
            "Bác ruột tôi nhập ngũ năm 1972, hy sinh tại mặt trận phía Nam, gia đình còn giấy báo tử nhưng "
            "hồ "
            "sơ đề nghị công nhận liệt sĩ nộp tại {ward} từ năm {year} vẫn chưa có kết quả.",
            "Xin hỏi hồ sơ, thủ tục công nhận liệt sĩ trong trường hợp chỉ còn giấy báo tử?",
            "Đề nghị xem xét, giải quyết dứt điểm hồ sơ công nhận liệt sĩ.",
            "1.010801",
        ),
        Topic(
            "trợ cấp cho người hoạt động kháng chiến bị nhiễm chất độc hóa học",
            "Cha tôi tham gia kháng chiến tại chiến trường B, có con bị dị dạng, dị tật nhưng hồ sơ đề nghị "
            "hưởng trợ cấp đã nộp {months} tháng chưa được giải quyết.",
            "Xin hỏi điều kiện và mức trợ cấp đối với con đẻ của người hoạt động kháng chiến bị nhiễm chất "
            "độc hóa học?",
            "Đề nghị rà soát, giải quyết chế độ cho các trường hợp còn tồn đọng tại {province}.",
        ),
        Topic(
            "điều chỉnh mức trợ cấp ưu đãi người có công",
            "Cử tri là thân nhân liệt sĩ, thương binh cho rằng mức trợ cấp ưu đãi hiện nay còn thấp so với "
            "mức sống tại {province}.",
            "Xin hỏi khi nào mức chuẩn trợ cấp ưu đãi người có công được điều chỉnh?",
            "Đề nghị nghiên cứu nâng mức chuẩn trợ cấp ưu đãi người có công với cách mạng.",
        ),
    ),
    "BAO_TRO_XA_HOI": (
        Topic(
            "trợ cấp xã hội hằng tháng cho người cao tuổi",
            "Mẹ tôi năm nay 78 tuổi, sống tại {ward}, không có lương hưu nhưng chưa được hưởng trợ cấp xã "
            "hội "
            "hằng tháng vì địa phương cho rằng phải đủ 80 tuổi.",
            "Xin hỏi người từ đủ 75 tuổi không có lương hưu có được hưởng trợ cấp xã hội không?",
            "Đề nghị hướng dẫn địa phương thực hiện đúng độ tuổi hưởng trợ cấp xã hội.",
            "1.001776",
        ),
        Topic(
            "trợ cấp cho người khuyết tật đặc biệt nặng",
            "Gia đình có con bị khuyết tật đặc biệt nặng, đã được xác định mức độ khuyết tật từ năm {year} "
            "nhưng chưa được hưởng kinh phí hỗ trợ chăm sóc hằng tháng.",
            "Xin hỏi gia đình trực tiếp chăm sóc người khuyết tật đặc biệt nặng được hỗ trợ bao nhiêu?",
            "Đề nghị giải quyết kịp thời chế độ cho người khuyết tật tại địa phương.",
        ),
        Topic(
            "hỗ trợ hộ gia đình bị thiệt hại do bão lũ",
            "Sau cơn bão tháng {month}/{year}, {count} hộ dân tại {ward} bị sập, tốc mái nhà nhưng đến nay "
            "mới nhận được hỗ trợ lương thực, chưa có hỗ trợ làm lại nhà ở.",
            "Xin hỏi mức hỗ trợ đối với hộ gia đình có nhà ở bị sập, trôi do thiên tai?",
            "Đề nghị sớm phân bổ kinh phí hỗ trợ khẩn cấp cho các hộ bị thiệt hại.",
        ),
    ),
    "TRE_EM": (
        Topic(
            "tình trạng bạo lực đối với trẻ em tại địa phương",
            "Tại {ward} có trường hợp một trẻ em {count} tuổi thường xuyên bị người thân đánh đập, hàng xóm "
            "đã báo chính quyền nhưng trẻ chưa được can thiệp, hỗ trợ.",
            "Xin hỏi khi phát hiện trẻ em bị bạo lực thì người dân cần báo cho cơ quan nào?",
            "Đề nghị chỉ đạo can thiệp kịp thời, bảo vệ an toàn cho trẻ em.",
        ),
        Topic(
            "hỗ trợ trẻ em mồ côi cả cha và mẹ",
            "Cháu tôi mồ côi cả cha và mẹ từ năm {year}, hiện do bà nội trên 70 tuổi nuôi dưỡng tại "
            "{province}.",
            "Xin hỏi trẻ em mồ côi được hưởng những chính sách trợ giúp nào?",
            "Đề nghị xem xét hỗ trợ học phí và trợ cấp nuôi dưỡng cho cháu.",
        ),
        Topic(
            "trẻ em bỏ học đi làm thuê",
            "Nhiều trẻ em dưới 15 tuổi tại {ward} bỏ học đi làm thuê tại các xưởng may, cơ sở sản xuất, "
            "làm việc nhiều giờ trong ngày.",
            "Xin hỏi doanh nghiệp có được sử dụng người dưới 15 tuổi làm việc không?",
            "Đề nghị kiểm tra việc sử dụng lao động chưa thành niên tại các cơ sở sản xuất.",
        ),
    ),
    "BINH_DANG_GIOI": (
        Topic(
            "phân biệt đối xử với lao động nữ mang thai",
            "{company} không ký tiếp hợp đồng lao động với công nhân nữ khi biết họ đang mang thai tháng thứ "
            "{months}.",
            "Xin hỏi doanh nghiệp có được từ chối gia hạn hợp đồng với lao động nữ đang mang thai không?",
            "Đề nghị xử lý nghiêm hành vi phân biệt đối xử vì lý do giới tính, thai sản.",
        ),
        Topic(
            "chế độ thai sản của lao động nam khi vợ sinh con",
            "Tôi là lao động nam đang đóng bảo hiểm xã hội tại {company}, vợ tôi sinh con vào tháng {month}/"
            "{year} bằng phương pháp phẫu thuật.",
            "Xin hỏi lao động nam được nghỉ bao nhiêu ngày và hưởng chế độ thai sản như thế nào?",
            "Đề nghị tăng số ngày nghỉ chăm con của lao động nam.",
        ),
        Topic(
            "quấy rối tình dục tại nơi làm việc",
            "Một số nữ công nhân tại {company} bị quản lý tổ quấy rối tình dục bằng lời nói, tin nhắn nhưng "
            "không dám tố cáo vì sợ mất việc.",
            "Xin hỏi người lao động bị quấy rối tình dục tại nơi làm việc có thể khiếu nại ở đâu?",
            "Đề nghị hướng dẫn doanh nghiệp ban hành quy định phòng, chống quấy rối tình dục.",
        ),
    ),
    "PHONG_CHONG_TE_NAN_XA_HOI": (
        Topic(
            "cai nghiện ma túy tự nguyện tại gia đình",
            "Gia đình có con nghiện ma túy, muốn đăng ký cai nghiện tự nguyện tại gia đình, cộng đồng ở "
            "{ward} nhưng chưa được hướng dẫn.",
            "Xin hỏi thủ tục đăng ký cai nghiện tự nguyện và chi phí gia đình phải đóng?",
            "Đề nghị hỗ trợ kinh phí cai nghiện cho gia đình khó khăn.",
        ),
        Topic(
            "hoạt động mại dâm trá hình tại cơ sở massage",
            "Tại {ward}, {province} có {count} cơ sở massage hoạt động đến khuya, nghi có hoạt động mại dâm "
            "trá hình, ảnh hưởng đến an ninh trật tự.",
            "Xin hỏi cơ quan nào có thẩm quyền kiểm tra, xử lý các cơ sở kinh doanh này?",
            "Đề nghị kiểm tra, xử lý nghiêm các cơ sở vi phạm.",
        ),
        Topic(
            "hỗ trợ nạn nhân bị mua bán trở về",
            "Một phụ nữ tại {ward} bị lừa bán sang nước ngoài năm {year}, nay đã trở về nhưng chưa được hỗ "
            "trợ học nghề, tìm việc làm.",
            "Xin hỏi nạn nhân bị mua bán được hưởng những chế độ hỗ trợ nào?",
            "Đề nghị hỗ trợ học nghề và tạo việc làm cho nạn nhân bị mua bán trở về.",
        ),
    ),
}

GENERAL_TOPICS: tuple[Topic, ...] = (
    Topic(
        "thái độ tiếp công dân của cán bộ một cửa",
        "Khi đến bộ phận một cửa tại {ward} nộp hồ sơ, công dân bị cán bộ hướng dẫn thiếu nhiệt tình và "
        "yêu cầu bổ sung giấy tờ nhiều lần.",
        "Xin hỏi công dân cần phản ánh thái độ của cán bộ ở đâu?",
        "Đề nghị chấn chỉnh thái độ phục vụ của cán bộ tiếp nhận hồ sơ.",
    ),
    Topic(
        "việc tra cứu kết quả giải quyết hồ sơ trực tuyến",
        "Hồ sơ nộp trực tuyến trên Cổng Dịch vụ công quốc gia từ tháng {month}/{year} vẫn hiển thị trạng "
        "thái đang xử lý, không rõ cơ quan nào đang giữ hồ sơ.",
        "Xin hỏi làm thế nào để biết hồ sơ đang được xử lý ở đâu?",
        "Đề nghị cập nhật trạng thái hồ sơ kịp thời trên Cổng Dịch vụ công quốc gia.",
    ),
)
"""Topics for petitions that carry no FieldCode: the portal could not classify them."""
