"""Deadline phrases with their expected parse, shared by tests/test_deadline.py and bench/bench_deadlines.py.

Plan year 2020 unless a case says otherwise. For kinds other than recurring the
expected occurrences follow from ``due`` ((due,) or ()), so only recurring cases
list them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    phrase: str
    kind: str
    start: str | None = None
    due: str | None = None
    occurrences: tuple[str, ...] | None = None
    year: int = 2020

    def expected_occurrences(self) -> tuple[str, ...]:
        if self.occurrences is not None:
            return self.occurrences
        return (self.due,) if self.due else ()


def D(phrase: str, due: str, year: int = 2020) -> Case:
    return Case(phrase, "date", None, due, year=year)


def W(phrase: str, start: str, due: str | None, year: int = 2020) -> Case:
    return Case(phrase, "window", start, due, year=year)


def R(phrase: str, *occurrences: str, year: int = 2020) -> Case:
    return Case(phrase, "recurring", f"{year}-01-01", occurrences[-1], occurrences, year)


def C(phrase: str, start: str = "2020-01-01", due: str = "2020-12-31", year: int = 2020) -> Case:
    return Case(phrase, "continuous", start, due, year=year)


def E(phrase: str) -> Case:
    return Case(phrase, "event")


def U(phrase: str) -> Case:
    return Case(phrase, "unscheduled")


MONTH_ENDS_2020 = (
    "2020-01-31",
    "2020-02-29",
    "2020-03-31",
    "2020-04-30",
    "2020-05-31",
    "2020-06-30",
    "2020-07-31",
    "2020-08-31",
    "2020-09-30",
    "2020-10-31",
    "2020-11-30",
    "2020-12-31",
)
QUARTER_ENDS_2020 = ("2020-03-31", "2020-06-30", "2020-09-30", "2020-12-31")

# The phrases of the sample plan (config/ke-hoach-cchc-2020.yaml), plan year 2020.
SEED_CASES: tuple[Case, ...] = (
    W("Trong tháng 01/2020", "2020-01-01", "2020-01-31"),
    W("Năm 2020", "2020-01-01", "2020-12-31"),
    D("Trước 31/12/2020", "2020-12-30"),
    U("Theo Kế hoạch"),
    W("Trong năm 2020", "2020-01-01", "2020-12-31"),
    W("Quý I/2020", "2020-01-01", "2020-03-31"),
    D("Trước tháng 12/2020", "2020-11-30"),
    E("Sau khi có các quy định của Chính phủ và các Bộ, ngành Trung ương, UBND Tỉnh."),
    W("Quý III/2020", "2020-07-01", "2020-09-30"),
    C("Thường xuyên trong năm 2020"),
    W("Qúy III/2020", "2020-07-01", "2020-09-30"),
    W("Tháng 11/2020", "2020-11-01", "2020-11-30"),
    W("Tháng 6/2020", "2020-06-01", "2020-06-30"),
    W("Tháng 12/2020", "2020-12-01", "2020-12-31"),
)

MONTH_CASES: tuple[Case, ...] = (
    W("Trong tháng\n01/2020", "2020-01-01", "2020-01-31"),
    W("Tháng 2/2020", "2020-02-01", "2020-02-29"),
    W("Tháng 2/2021", "2021-02-01", "2021-02-28"),
    W("tháng 6", "2020-06-01", "2020-06-30"),
    W("Tháng 6 năm 2020", "2020-06-01", "2020-06-30"),
    W("Tháng 6-2020", "2020-06-01", "2020-06-30"),
    W("Tháng 6.2020", "2020-06-01", "2020-06-30"),
    W("T6/2020", "2020-06-01", "2020-06-30"),
    W("tháng12/2020", "2020-12-01", "2020-12-31"),
    W("06/2020", "2020-06-01", "2020-06-30"),
    W("Trong tháng 9", "2020-09-01", "2020-09-30"),
    W("Tháng 3, 4/2021", "2021-03-01", "2021-04-30"),
    W("tháng 3 và tháng 4 năm 2021", "2021-03-01", "2021-04-30"),
    W("Tháng 3-4/2021", "2021-03-01", "2021-04-30"),
    W("từ tháng 3 đến tháng 5/2021", "2021-03-01", "2021-05-31"),
    W("từ tháng 11 đến tháng 2/2021", "2020-11-01", "2021-02-28"),
    W("Tháng 6 và tháng 12/2020", "2020-06-01", "2020-12-31"),
    W("Dự kiến tháng 6/2020 (tùy tình hình)", "2020-06-01", "2020-06-30"),
)

QUARTER_CASES: tuple[Case, ...] = (
    W("Quý II/2020", "2020-04-01", "2020-06-30"),
    W("Quý IV/2020", "2020-10-01", "2020-12-31"),
    W("quý 3 năm 2021", "2021-07-01", "2021-09-30"),
    W("Quí IV/2020", "2020-10-01", "2020-12-31"),
    W("Quý 1/2021", "2021-01-01", "2021-03-31"),
    W("Q3/2020", "2020-07-01", "2020-09-30"),
    W("quý3/2020", "2020-07-01", "2020-09-30"),
    W("Quý III.2020", "2020-07-01", "2020-09-30"),
    W("Quý III - 2020", "2020-07-01", "2020-09-30"),
    W("QUÝ II/2020", "2020-04-01", "2020-06-30"),
    W("Quy III/2020", "2020-07-01", "2020-09-30"),
    W("Trong quý I năm 2020", "2020-01-01", "2020-03-31"),
    W("quý II", "2020-04-01", "2020-06-30"),
    W("Quý II-III/2021", "2021-04-01", "2021-09-30"),
    W("Quý II và III năm 2021", "2021-04-01", "2021-09-30"),
    W("Quý I, II/2020", "2020-01-01", "2020-06-30"),
    W("từ quý II đến quý IV/2020", "2020-04-01", "2020-12-31"),
    W("Quý IV/2020 - Quý I/2021", "2020-10-01", "2021-03-31"),
    W("Quý II/2020; Quý IV/2020", "2020-04-01", "2020-12-31"),
    W("Quý II/2020\nQuý IV/2020", "2020-04-01", "2020-12-31"),
    W("  Quý   III /  2020 ", "2020-07-01", "2020-09-30"),
    W("Hoàn thành trong Quý III/2020", "2020-07-01", "2020-09-30"),
    W("Thời hạn: Quý III/2020", "2020-07-01", "2020-09-30"),
    W("Quý III/2020 (trước 30/9)", "2020-07-01", "2020-09-30"),
)

YEAR_PART_CASES: tuple[Case, ...] = (
    W("6 tháng đầu năm 2020", "2020-01-01", "2020-06-30"),
    W("6 tháng cuối năm", "2020-07-01", "2020-12-31"),
    W("9 tháng đầu năm", "2020-01-01", "2020-09-30"),
    W("3 tháng cuối năm 2021", "2021-10-01", "2021-12-31"),
    W("Sáu tháng đầu năm 2020", "2020-01-01", "2020-06-30"),
    W("Nửa cuối năm 2020", "2020-07-01", "2020-12-31"),
    W("Năm 2021", "2021-01-01", "2021-12-31"),
    W("Trong năm", "2020-01-01", "2020-12-31"),
    W("Cả năm 2020", "2020-01-01", "2020-12-31"),
    W("2021-2025", "2021-01-01", "2025-12-31"),
    W("giai đoạn 2021-2025", "2021-01-01", "2025-12-31"),
    W("Năm 2020 - 2021", "2020-01-01", "2021-12-31"),
    W("Từ năm 2021 đến năm 2025", "2021-01-01", "2025-12-31"),
    W("đầu tháng 6/2020", "2020-06-01", "2020-06-10"),
    W("giữa tháng 6/2020", "2020-06-11", "2020-06-20"),
    W("cuối tháng 2/2020", "2020-02-21", "2020-02-29"),
    W("giữa quý II", "2020-05-01", "2020-05-31"),
    W("cuối quý III/2020", "2020-09-01", "2020-09-30"),
    W("cuối năm 2020", "2020-10-01", "2020-12-31"),
    W("đầu năm 2021", "2021-01-01", "2021-03-31"),
    W("Năm học 2020-2021", "2020-09-01", "2021-05-31"),
)

RANGE_CASES: tuple[Case, ...] = (
    W("Từ 01/7 đến 31/12/2020", "2020-07-01", "2020-12-31"),
    W("từ ngày 15/3/2020 đến ngày 30/6/2020", "2020-03-15", "2020-06-30"),
    W("15-20/12/2020", "2020-12-15", "2020-12-20"),
    W("ngày 15 đến 20/12/2020", "2020-12-15", "2020-12-20"),
    W("từ ngày 15 đến ngày 20/12", "2020-12-15", "2020-12-20"),
    W("từ 15/11/2020 đến 20/2", "2020-11-15", "2021-02-20"),
    W("Trong thời gian từ 1/7 đến 31/12/2020", "2020-07-01", "2020-12-31"),
    W("Từ 01/7/2020 đến hết quý III/2020", "2020-07-01", "2020-09-30"),
    W("từ ngày 01/7/2020", "2020-07-01", None),
    W("Bắt đầu từ tháng 9/2020", "2020-09-01", None),
    W("kể từ ngày 01/7/2020", "2020-07-01", None),
    W("Từ quý III/2020", "2020-07-01", None),
    W("năm 2020 trở đi", "2020-01-01", None),
    W("Năm 2020 và các năm tiếp theo", "2020-01-01", None),
    W("sau 15/3/2020", "2020-03-16", None),
    W("Sau quý I/2020", "2020-04-01", None),
)

DATE_CASES: tuple[Case, ...] = (
    D("31/12/2020", "2020-12-31"),
    D("Ngày 31/12/2020", "2020-12-31"),
    D("ngày 31 tháng 12 năm 2020", "2020-12-31"),
    D("31-12-2020", "2020-12-31"),
    D("31.12.2020", "2020-12-31"),
    D("31.12.20", "2020-12-31"),
    D("ngày31/12/2020", "2020-12-31"),
    D("15/3 năm 2020", "2020-03-15"),
    D("Trước 30/6", "2020-06-29"),
    D("Trước ngày 30/6/2020", "2020-06-29"),
    D("Hoàn thành trước 30/6/2020", "2020-06-29"),
    D("Trước ngày 15 tháng 12 năm 2020", "2020-12-14"),
    D("Trước 01/01/2021", "2020-12-31"),
    D("trước 1/3/2020", "2020-02-29"),
    D("Trước quý III/2020", "2020-06-30"),
    D("Trước năm 2021", "2020-12-31"),
    D("trước tháng 6", "2020-05-31"),
    D("Trước 16h30 ngày 5/8", "2020-08-05"),
    D("Trước 17h00 ngày 15/12/2020", "2020-12-15"),
    D("trước 16 giờ 30 ngày 20/12/2020", "2020-12-20"),
    D("Trước 16:30 ngày 20/12/2020", "2020-12-20"),
    D("16 giờ 30 ngày 5/8/2020", "2020-08-05"),
    D("Vào lúc 8 giờ ngày 15/3/2020", "2020-03-15"),
    D("Chiều ngày 15/3/2020", "2020-03-15"),
    D("Chậm nhất ngày 15/9/2020", "2020-09-15"),
    D("chậm nhất là ngày 15/9/2020", "2020-09-15"),
    D("Muộn nhất 31/12", "2020-12-31"),
    D("Đến hết ngày 30/6/2020", "2020-06-30"),
    D("đến 30/6/2020", "2020-06-30"),
    D("Đến hết năm 2020", "2020-12-31"),
    D("Chậm nhất trong tháng 6/2020", "2020-06-30"),
    D("hết quý I/2020", "2020-03-31"),
    D("Từ nay đến hết năm 2020", "2020-12-31"),
    D("Chậm nhất trước ngày 20/12/2020", "2020-12-19"),
    D("Thời hạn: 15/10/2020", "2020-10-15"),
    D("Dự kiến ngày 20/11/2020", "2020-11-20"),
    D("Trước  31 / 12 / 2020", "2020-12-30"),
    D("Trước 31–12–2020", "2020-12-30"),
)

RECURRING_CASES: tuple[Case, ...] = (
    R("Hằng tháng", *MONTH_ENDS_2020),
    R("Hàng tháng", *MONTH_ENDS_2020),
    R("Hằng quý", *QUARTER_ENDS_2020),
    R("Hàng năm", "2020-12-31"),
    R("Hằng năm", "2021-12-31", year=2021),
    R("Định kỳ 6 tháng", "2020-06-30", "2020-12-31"),
    R("Định kỳ hằng quý", *QUARTER_ENDS_2020),
    R("Báo cáo định kỳ 03 tháng", *QUARTER_ENDS_2020),
    R("Mỗi quý", *QUARTER_ENDS_2020),
    R("6 tháng/lần", "2020-06-30", "2020-12-31"),
    R("Định kỳ 3 tháng 1 lần", *QUARTER_ENDS_2020),
    R("Trước ngày 20 hằng tháng", *(f"2020-{m:02d}-19" for m in range(1, 13))),
    R("Hằng tháng, trước ngày 25", *(f"2020-{m:02d}-24" for m in range(1, 13))),
    R("Ngày 25 hằng tháng", *(f"2020-{m:02d}-25" for m in range(1, 13))),
    R("Ngày 31 hằng tháng", *MONTH_ENDS_2020),
    R("Trước ngày 1 hằng tháng", *MONTH_ENDS_2020),
    R("Trước ngày 10/11 hằng năm", "2020-11-09"),
    R("Trước 15/12 hằng năm", "2020-12-14"),
    R("Ngày 15 tháng 12 hằng năm", "2020-12-15"),
    R("Trước ngày 15/6 và 15/12 hằng năm", "2020-06-14", "2020-12-14"),
    R("Ngày 10 của tháng cuối quý", "2020-03-10", "2020-06-10", "2020-09-10", "2020-12-10"),
    R("Trước ngày 15 của tháng cuối quý", "2020-03-14", "2020-06-14", "2020-09-14", "2020-12-14"),
    R("Ngày 15 tháng đầu quý sau", "2020-01-15", "2020-04-15", "2020-07-15", "2020-10-15"),
    R(
        "Định kỳ hàng quý, 6 tháng, 9 tháng, hàng năm hoặc đột xuất báo cáo (qua Văn phòng Sở)",
        *QUARTER_ENDS_2020,
    ),
    R("Định kỳ hằng quý và đột xuất", *QUARTER_ENDS_2020),
    R("dinh ky 6 thang", "2020-06-30", "2020-12-31"),
    R("Tháng 12 hằng năm", "2020-12-31"),
    R("Quý I hằng năm", "2020-03-31"),
    R("Trong tháng 6 và tháng 12 hằng năm", "2020-06-30", "2020-12-31"),
    R("Trước ngày 15 tháng 1 hằng năm", "2020-01-14"),
    R("Trước ngày 5 hằng tháng", *(f"2020-{m:02d}-04" for m in range(1, 13))),
)

CONTINUOUS_CASES: tuple[Case, ...] = (
    C("Thường xuyên"),
    C("Thường xuyên trong năm 2021", "2021-01-01", "2021-12-31"),
    C("Thường xuyên, liên tục"),
    C("Hằng ngày"),
    C("Liên tục"),
    C("Thường xuyên trong quý III/2020", "2020-07-01", "2020-09-30"),
    C("Thực hiện thường xuyên"),
    C("Thường xuyên hằng năm"),
    C("Thường xuyên", "2021-01-01", "2021-12-31", year=2021),
)

EVENT_CASES: tuple[Case, ...] = (
    E("Sau khi Luật được ban hành"),
    E("Khi có văn bản hướng dẫn"),
    E("Ngay sau khi có quyết định"),
    E("Trước khi tổ chức Hội nghị"),
    E("Kể từ ngày Luật có hiệu lực"),
    E("Kể từ khi có quyết định"),
    E("Chậm nhất 10 ngày kể từ ngày ký"),
    E("Trong vòng 30 ngày kể từ ngày ký"),
    E("Sau Tết Nguyên đán"),
    E("Sau khi UBND tỉnh phê duyệt"),
    E("Sau khi có kết quả đánh giá hằng năm"),
    E("Từ ngày văn bản có hiệu lực"),
)

UNSCHEDULED_CASES: tuple[Case, ...] = (
    U("Theo kế hoạch của UBND tỉnh"),
    U("Theo Kế hoạch số 15/KH-UBND ngày 20/01/2020"),
    U("Đột xuất"),
    U("Khi có yêu cầu"),
    U("Theo yêu cầu của cấp trên"),
    U("Theo chỉ đạo của UBND tỉnh"),
    U("Khi cần thiết"),
    U("Chưa xác định"),
    U("Định kỳ và đột xuất"),
    U("Sau khi có yêu cầu"),
)

# Phrases typed without diacritics, in capitals, or with odd spacing and separators.
TYPING_CASES: tuple[Case, ...] = (
    W("Trong thang 01/2020", "2020-01-01", "2020-01-31"),
    D("truoc 31/12/2020", "2020-12-30"),
    D("TRƯỚC 31/12/2020", "2020-12-30"),
    C("Thuong xuyen trong nam 2020"),
    C("THƯỜNG XUYÊN"),
    R("hang thang", *MONTH_ENDS_2020),
    R("HẰNG QUÝ", *QUARTER_ENDS_2020),
    U("theo ke hoach"),
    U("ĐỘT XUẤT"),
    E("sau khi co huong dan cua Bo"),
    W("6 thang dau nam 2020", "2020-01-01", "2020-06-30"),
    W("tu ngay 1/7/2020 den ngay 31/12/2020", "2020-07-01", "2020-12-31"),
    W("NĂM 2020", "2020-01-01", "2020-12-31"),
    W("Tháng\t6/2020", "2020-06-01", "2020-06-30"),
    W("Quý III/2020.", "2020-07-01", "2020-09-30"),
    W("- Quý III/2020;", "2020-07-01", "2020-09-30"),
)

TABLE_CASES: tuple[Case, ...] = (
    MONTH_CASES
    + QUARTER_CASES
    + YEAR_PART_CASES
    + RANGE_CASES
    + DATE_CASES
    + RECURRING_CASES
    + CONTINUOUS_CASES
    + EVENT_CASES
    + UNSCHEDULED_CASES
    + TYPING_CASES
)

# (phrase, words the Vietnamese reason must contain)
ERROR_CASES: tuple[tuple[str, str], ...] = (
    ("", "để trống"),
    ("   \n ", "để trống"),
    ("Trước Tết", "Không hiểu thời hạn"),
    ("abc", "Không hiểu thời hạn"),
    ("Trong tháng", "Không hiểu thời hạn"),
    ("Trong 15 ngày", "Không hiểu thời hạn"),
    ("Tuần đầu tháng 6", "Không hiểu thời hạn"),
    ("31/02/2020", "ngày không tồn tại (31/2/2020)"),
    ("29/02/2021", "ngày không tồn tại (29/2/2021)"),
    ("Trước 30/02/2020", "ngày không tồn tại (30/2/2020)"),
    ("ngày 31 tháng 4", "ngày không tồn tại (31/4/2020)"),
    ("Quý 5/2020", "quý không tồn tại (quý 5)"),
    ("tháng 13/2020", "tháng không tồn tại (tháng 13)"),
    ("ngày 15", "thiếu tháng"),
    ("năm 1800", "năm 1800 nằm ngoài khoảng"),
    ("Năm học 2020-2022", "năm học không hợp lệ"),
    ("Định kỳ", "không rõ chu kỳ"),
    ("Ngày 30/2 hằng năm", "ngày không tồn tại (30/2)"),
    ("Ngày 32 hằng tháng", "ngày không tồn tại (ngày 32)"),
    ("Định kỳ 13 tháng", "số tháng không hợp lệ"),
)
