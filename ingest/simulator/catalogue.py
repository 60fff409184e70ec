"""Procedure catalogue of the simulated province: procedures by field, with
their statutory limits, how they are offered online, fees, and how often they
stop for financial obligations (nghĩa vụ tài chính).

Codes and names follow the national procedure database's style (mã TTHC
`1.00xxxx`); limits are the common statutory ones, in working days (or
working hours for same-day certification). Land (Đất đai, `DD`) has the
longest limits and the most payment stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from schemas.events import OnlineLevel, TimeLimit, TimeUnit

LAND = "DD"


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    name: str
    field_code: str
    field_name: str
    limit: TimeLimit
    online_level: OnlineLevel
    fee: bool  # a fee or charge is due (lệ phí)
    obligation: float = 0.0  # share of dossiers that stop for a financial obligation

    @property
    def land(self) -> bool:
        return self.field_code == LAND

    def limit_time(self, day_length: timedelta) -> timedelta:
        """The limit as working time (N working days = N × the working day)."""
        if self.limit.unit is TimeUnit.WORKING_HOURS:
            return timedelta(hours=self.limit.value)
        return day_length * self.limit.value


def _p(
    code: str,
    name: str,
    field: tuple[str, str],
    limit: float,
    online: str,
    fee: bool,
    obligation: float = 0.0,
    unit: TimeUnit = TimeUnit.WORKING_DAYS,
) -> Procedure:
    return Procedure(
        code,
        name,
        field[0],
        field[1],
        TimeLimit(value=limit, unit=unit),
        OnlineLevel(online),
        fee,
        obligation,
    )


# Fields (lĩnh vực).
HT = ("HT", "Hộ tịch")
CT = ("CT", "Chứng thực")
DD = (LAND, "Đất đai")
BTXH = ("BTXH", "Bảo trợ xã hội")
HKD = ("HKD", "Thành lập và hoạt động của hộ kinh doanh")
XD = ("XD", "Hoạt động xây dựng")
GD = ("GD", "Giáo dục và Đào tạo")
DT = ("DT", "Đầu tư tại Việt Nam")
LD = ("LD", "Việc làm")
LT = ("LT", "Lưu thông hàng hóa trong nước")
ATTP = ("ATTP", "An toàn thực phẩm")
VB = ("VB", "Văn bằng, chứng chỉ")
DB = ("DB", "Đường bộ")
DN = ("DN", "Thành lập và hoạt động của doanh nghiệp")
MT = ("MT", "Môi trường")
NV = ("NV", "Ngoại vụ")
LLTP = ("LLTP", "Lý lịch tư pháp")
CC = ("CC", "Công chứng")
KCB = ("KCB", "Khám bệnh, chữa bệnh")
DUOC = ("DUOC", "Dược phẩm")

HOURS = TimeUnit.WORKING_HOURS

# (procedure, weight in the unit's volume)
Offer = tuple[Procedure, float]

COMMUNE: tuple[Offer, ...] = (
    (_p("1.001193", "Đăng ký khai sinh", HT, 1, "full", False), 18),
    (_p("1.000894", "Đăng ký kết hôn", HT, 1, "partial", False), 6),
    (_p("1.000656", "Đăng ký khai tử", HT, 1, "full", False), 4),
    (_p("1.004746", "Xác nhận tình trạng hôn nhân", HT, 3, "full", True), 8),
    (_p("1.004884", "Cấp bản sao trích lục hộ tịch", HT, 1, "full", True), 6),
    (
        _p(
            "2.000815",
            "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
            CT,
            4,
            "partial",
            True,
            unit=HOURS,
        ),
        25,
    ),
    (_p("2.000884", "Chứng thực chữ ký", CT, 4, "partial", True, unit=HOURS), 8),
    (_p("2.001035", "Chứng thực hợp đồng, giao dịch về động sản", CT, 2, "partial", True), 3),
    (_p("1.003554", "Hòa giải tranh chấp đất đai", DD, 30, "partial", False), 3),
    (_p("1.004241", "Xác nhận nguồn gốc, hiện trạng sử dụng đất", DD, 10, "partial", False), 6),
    (_p("1.001776", "Trợ cấp xã hội hằng tháng", BTXH, 10, "partial", False), 4),
)

DISTRICT: tuple[Offer, ...] = (
    (
        _p(
            "1.003003",
            "Đăng ký biến động quyền sử dụng đất, tài sản gắn liền với đất",
            DD,
            10,
            "partial",
            True,
            0.6,
        ),
        22,
    ),
    (
        _p(
            "1.004227",
            "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
            DD,
            20,
            "partial",
            True,
            0.8,
        ),
        10,
    ),
    (_p("1.004203", "Chuyển mục đích sử dụng đất", DD, 15, "partial", True, 0.9), 6),
    (_p("1.002993", "Tách thửa hoặc hợp thửa đất", DD, 15, "partial", True, 0.3), 8),
    (_p("1.003010", "Đính chính Giấy chứng nhận đã cấp", DD, 10, "partial", False), 3),
    (_p("2.000720", "Đăng ký thành lập hộ kinh doanh", HKD, 3, "full", True), 16),
    (_p("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", XD, 15, "partial", True), 8),
    (_p("1.001022", "Thay đổi, cải chính, bổ sung thông tin hộ tịch", HT, 3, "partial", True), 5),
    (_p("1.005097", "Chuyển trường đối với học sinh trung học cơ sở", GD, 3, "full", False), 4),
    (
        _p(
            "2.000843",
            "Chứng thực bản sao giấy tờ do cơ quan nước ngoài cấp",
            CT,
            1,
            "partial",
            True,
        ),
        8,
    ),
)

DEPARTMENTS: dict[str, tuple[Offer, ...]] = {
    "H44.03": (
        (_p("1.009645", "Điều chỉnh Giấy chứng nhận đăng ký đầu tư", DT, 10, "full", False), 4),
        (_p("1.000105", "Cấp giấy phép lao động cho người nước ngoài", LD, 5, "full", True), 6),
    ),
    "H44.07": (
        (_p("2.000633", "Cấp Giấy phép bán lẻ sản phẩm rượu", LT, 10, "full", True), 5),
        (
            _p(
                "2.000289",
                "Cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu",
                LT,
                15,
                "partial",
                True,
            ),
            2,
        ),
        (
            _p(
                "2.000591",
                "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
                ATTP,
                20,
                "partial",
                True,
            ),
            3,
        ),
    ),
    "H44.08": (
        (_p("1.005092", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", VB, 1, "full", True), 6),
        (
            _p(
                "1.005099",
                "Chuyển trường đối với học sinh trung học phổ thông",
                GD,
                3,
                "full",
                False,
            ),
            3,
        ),
    ),
    "H44.09": (
        (
            _p(
                "1.002804",
                "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
                DB,
                5,
                "full",
                True,
            ),
            12,
        ),
        (_p("1.002835", "Cấp phù hiệu xe ô tô kinh doanh vận tải", DB, 2, "full", False), 3),
    ),
    "H44.10": (
        (_p("2.001610", "Đăng ký thành lập công ty trách nhiệm hữu hạn", DN, 3, "full", True), 6),
        (_p("2.002040", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", DN, 3, "full", True), 8),
        (_p("1.009742", "Điều chỉnh chủ trương đầu tư", DT, 25, "partial", False), 1),
    ),
    "H44.12": (
        (
            _p(
                "1.004238",
                "Đăng ký biến động đất đai đối với tổ chức",
                DD,
                10,
                "partial",
                True,
                0.5,
            ),
            6,
        ),
        (
            _p(
                "1.004269",
                "Cấp Giấy chứng nhận quyền sử dụng đất cho tổ chức",
                DD,
                20,
                "partial",
                True,
                0.7,
            ),
            3,
        ),
        (_p("1.010728", "Cấp giấy phép môi trường", MT, 20, "partial", True), 3),
    ),
    "H44.13": (
        (
            _p("1.003586", "Cho phép tổ chức hội nghị, hội thảo quốc tế", NV, 15, "partial", False),
            1,
        ),
    ),
    "H44.15": (
        (
            _p(
                "2.000488",
                "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
                LLTP,
                10,
                "full",
                True,
            ),
            12,
        ),
        (_p("2.000778", "Đăng ký hành nghề công chứng", CC, 10, "partial", True), 1),
    ),
    "H44.17": (
        (
            _p(
                "1.012271", "Cấp giấy phép hành nghề khám bệnh, chữa bệnh", KCB, 20, "partial", True
            ),
            4,
        ),
        (_p("1.004616", "Cấp Chứng chỉ hành nghề dược", DUOC, 10, "partial", True), 3),
    ),
}
