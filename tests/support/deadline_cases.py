"""Deadline phrases with their expected parse, shared by tests/test_deadline.py and bench/bench_deadlines.py.

Plan year 2020 unless a case says otherwise. For kinds other than recurring the
expected occurrences follow from ``due`` ((due,) or ()), so only recurring cases
list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Case:
    phrase: str
    kind: str
    start: str | None = None
    due: str | None = None
    occurrences: tuple[str, ...] | None = None
    year: int = 2020
    offset: tuple[int, str] | None = None  # an event's duration: (amount, unit)

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


def E(phrase: str, offset: tuple[int, str] | None = None) -> Case:
    return Case(phrase, "event", offset=offset)


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
    W("Quý III/2020 (trước 30/9)", "2020-07-01", "2020-09-29"),
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
    E("Chậm nhất 10 ngày kể từ ngày ký", (10, "day")),
    E("Trong vòng 30 ngày kể từ ngày ký", (30, "day")),
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


# --------------------------------------------------------------------------- issue 11: the language of real documents
# Written from how Vietnamese administrative documents (ministries' circulars, provincial and department plans,
# schools' plans) phrase their deadlines. Plan year 2025 unless a case says otherwise.


def d(phrase: str, due: str, year: int = 2025) -> Case:
    return D(phrase, due, year)


def w(phrase: str, start: str, due: str | None, year: int = 2025) -> Case:
    return W(phrase, start, due, year)


def r(phrase: str, *occurrences: str, year: int = 2025) -> Case:
    return R(phrase, *occurrences, year=year)


def e(phrase: str, amount: int, unit: str) -> Case:
    return Case(phrase, "event", year=2025, offset=(amount, unit))


def _weekly(year: int, weekday: int) -> tuple[str, ...]:
    """Every ``weekday`` (0 = Monday) of ``year``, ISO."""
    day = date(year, 1, 1) + timedelta(days=(weekday - date(year, 1, 1).weekday()) % 7)
    days = []
    while day.year == year:
        days.append(day.isoformat())
        day += timedelta(days=7)
    return tuple(days)


# Times of day in every notation: a time keeps the day ("trước 17h00 ngày 15/8" is due Aug 15).
TIME_CASES: tuple[Case, ...] = (
    d("Trước 17h00 ngày 15/8/2025", "2025-08-15"),
    d("Trước 17 giờ 00 ngày 15/8/2025", "2025-08-15"),
    d("Trước 17h00' ngày 15/8/2025", "2025-08-15"),
    d("Trước 17h00’ ngày 15/8/2025", "2025-08-15"),
    d("Trước 17:00 ngày 15/8/2025", "2025-08-15"),
    d("trước 17h ngày 15/8", "2025-08-15"),
    d("Trước 17 giờ, ngày 15/8/2025", "2025-08-15"),
    d("Trước 16 giờ 30 phút ngày 20/8/2025", "2025-08-20"),
    d("17g00 ngày 20/8/2025", "2025-08-20"),
    d("Vào hồi 14h00 ngày 20/8/2025", "2025-08-20"),
    d("Vào lúc 08 giờ 00, ngày 22/8/2025", "2025-08-22"),
    d("Sáng ngày 15/8/2025", "2025-08-15"),
    d("Chiều 15/8/2025", "2025-08-15"),
    d("Buổi sáng ngày 15/8/2025", "2025-08-15"),
    d("Trước 11h30 trưa ngày 12/9/2025", "2025-09-12"),
    d("Trước 8h sáng ngày 12/9/2025", "2025-09-12"),
    d("Chậm nhất 16h30 ngày 20/8/2025", "2025-08-20"),
    d("Trước 17h00, thứ Sáu, ngày 15/8/2025", "2025-08-15"),
    d("Trước 17h00 ngày 15/8/2025 (thứ Sáu)", "2025-08-15"),
    d("Thứ Sáu, ngày 15 tháng 8 năm 2025", "2025-08-15"),
    d("8h30 - 11h30 ngày 15/8/2025", "2025-08-15"),
    d("Từ 7h30 đến 11h30 ngày 15/8/2025", "2025-08-15"),
    d("14h00 ngày 15/8/2025 (thứ Sáu)", "2025-08-15"),
    d("Ngày 15/10/2025 (thứ Tư)", "2025-10-15"),
)

# Day ranges and lists inside one month, dates with dashes or dots, "đến sáng/chiều ...".
DAY_LIST_CASES: tuple[Case, ...] = (
    w("từ 12 đến hết 20/8", "2025-08-12", "2025-08-20"),
    w("Từ ngày 12 đến hết ngày 20/8/2025", "2025-08-12", "2025-08-20"),
    w("các ngày 3, 4 và 5/9/2025", "2025-09-03", "2025-09-05"),
    w("trong hai ngày 8 và 9/10", "2025-10-08", "2025-10-09"),
    w("Trong 02 ngày 8, 9/10/2025", "2025-10-08", "2025-10-09"),
    w("Trong các ngày 18-22/8/2025", "2025-08-18", "2025-08-22"),
    w("Ngày 18, 19/8/2025", "2025-08-18", "2025-08-19"),
    w("Từ ngày 18 - 22/8/2025", "2025-08-18", "2025-08-22"),
    w("18/8/2025 - 22/8/2025", "2025-08-18", "2025-08-22"),
    w("Từ thứ Hai (18/8) đến thứ Sáu (22/8/2025)", "2025-08-18", "2025-08-22"),
    w("Từ 01/8/2025 đến trước ngày 15/8/2025", "2025-08-01", "2025-08-14"),
    r("Ngày 18/8 và ngày 22/8/2025", "2025-08-18", "2025-08-22"),
    r("ngày 15/6 và 15/12/2025", "2025-06-15", "2025-12-15"),
    r("Trước ngày 15/6 và 15/12", "2025-06-14", "2025-12-14"),
    r("Trước ngày 20/7/2025 và trước ngày 20/10/2025", "2025-07-19", "2025-10-19"),
    d("12-8", "2025-08-12"),
    d("12.8.2025", "2025-08-12"),
    d("Ngày 12-8-2025", "2025-08-12"),
    d("đến sáng 20/8", "2025-08-20"),
    d("Đến chiều ngày 20/8/2025", "2025-08-20"),
    d("Cả ngày 15/8/2025", "2025-08-15"),
    d("Ngày 05/9/2025 (Khai giảng năm học mới)", "2025-09-05"),
)

# Windows written as sentences, "từ ngày ... đến hết năm", "các năm 2026-2030".
SENTENCE_WINDOW_CASES: tuple[Case, ...] = (
    w("bắt đầu từ 01/7 và kết thúc trước 30/9/2025", "2025-07-01", "2025-09-29"),
    w("Bắt đầu từ ngày 01/7/2025, kết thúc ngày 30/9/2025", "2025-07-01", "2025-09-30"),
    w("Từ ngày 01/7/2025 và kết thúc ngày 30/9/2025", "2025-07-01", "2025-09-30"),
    w("Bắt đầu triển khai từ tháng 7/2025, kết thúc vào tháng 12/2025", "2025-07-01", "2025-12-31"),
    w("Triển khai từ tháng 7, hoàn thành trước 30/9/2025", "2025-07-01", "2025-09-29"),
    w("Từ tháng 9/2025, hoàn thành trong tháng 11/2025", "2025-09-01", "2025-11-30"),
    w("từ ngày 15/3/2025 đến hết năm", "2025-03-15", "2025-12-31"),
    w("Từ ngày 15/3 đến hết năm 2025", "2025-03-15", "2025-12-31"),
    w("Từ tháng 6 đến hết năm", "2025-06-01", "2025-12-31"),
    w("từ 15/7 đến hết quý III", "2025-07-15", "2025-09-30"),
    w("Từ tháng 9/2025 đến tháng 5/2026", "2025-09-01", "2026-05-31"),
    w("các năm 2026-2030", "2026-01-01", "2030-12-31"),
    w("Trong các năm 2026 - 2030", "2026-01-01", "2030-12-31"),
    w("Giai đoạn 2026-2030", "2026-01-01", "2030-12-31"),
    w("Các tháng 6, 7, 8/2025", "2025-06-01", "2025-08-31"),
    w("Cuối tháng 8 đầu tháng 9/2025", "2025-08-21", "2025-09-10"),
    w("Trung tuần tháng 9/2025", "2025-09-11", "2025-09-20"),
    w("Hạ tuần tháng 9/2025", "2025-09-21", "2025-09-30"),
    w("Thượng tuần tháng 10/2025", "2025-10-01", "2025-10-10"),
    w("Trong năm 2025 (từ tháng 6 đến hết năm)", "2025-06-01", "2025-12-31"),
    w("Từ năm 2026", "2026-01-01", None),
    w("Năm 2026 và những năm tiếp theo", "2026-01-01", None),
    w("Năm học 2025-2026 và các năm học tiếp theo", "2025-09-01", None),
)

# Relative years and months: recurring when the phrase repeats with the period, dated when it names one year.
RELATIVE_CASES: tuple[Case, ...] = (
    r("Trước ngày 15/12 của năm báo cáo", "2025-12-14"),
    r("Chậm nhất ngày 15 tháng 12 năm báo cáo", "2025-12-15"),
    r("Ngày 15/01 năm sau của năm báo cáo", "2025-01-15"),
    r("Trước ngày 5 của tháng sau", *(f"2025-{m:02d}-04" for m in range(1, 13))),
    r("Ngày 10 tháng tiếp theo", *(f"2025-{m:02d}-10" for m in range(1, 13))),
    r("Trước ngày 25 của tháng báo cáo", *(f"2025-{m:02d}-24" for m in range(1, 13))),
    r("Trước ngày 10 của tháng đầu quý sau", "2025-01-09", "2025-04-09", "2025-07-09", "2025-10-09"),
    r(
        "Báo cáo định kỳ 6 tháng: chậm nhất ngày 18 của tháng cuối kỳ báo cáo",
        "2025-06-18",
        "2025-12-18",
    ),
    r(
        "Hằng quý, chậm nhất ngày 20 tháng cuối kỳ báo cáo",
        "2025-03-20",
        "2025-06-20",
        "2025-09-20",
        "2025-12-20",
    ),
    d("Trước ngày 15/01 năm sau", "2026-01-14"),
    d("Chậm nhất ngày 31/3 năm sau", "2026-03-31"),
    w("Quý I năm sau", "2026-01-01", "2026-03-31"),
    w("Trong năm tiếp theo", "2026-01-01", "2026-12-31"),
    w("Tháng 01 năm kế tiếp", "2026-01-01", "2026-01-31"),
    w("Trong năm nay", "2025-01-01", "2025-12-31"),
    w("Tháng 6 năm kế hoạch", "2025-06-01", "2025-06-30"),
    r("Ngày 15 hằng tháng năm 2025", *(f"2025-{m:02d}-15" for m in range(1, 13))),
    r("Định kỳ hằng năm (giai đoạn 2021-2025)", "2025-12-31"),
    r("chậm nhất là ngày 15 tháng 01 của năm sau năm báo cáo", "2025-01-15"),
    r("báo cáo định kỳ 6 tháng (trước ngày 15/6) và hằng năm (trước ngày 15/12)", "2025-06-14", "2025-12-14"),
)

# Recurring cut-offs on a day of the month or of the period, and qualifiers after the date.
CUTOFF_CASES: tuple[Case, ...] = (
    r("chậm nhất ngày 18 của tháng cuối quý", "2025-03-18", "2025-06-18", "2025-09-18", "2025-12-18"),
    r("Trước ngày 10 hằng tháng", *(f"2025-{m:02d}-09" for m in range(1, 13))),
    r("Trước 16h00 ngày 10 hằng tháng", *(f"2025-{m:02d}-10" for m in range(1, 13))),
    r("Định kỳ hằng tháng (trước ngày 25)", *(f"2025-{m:02d}-24" for m in range(1, 13))),
    r("Hằng năm, trước 31/10", "2025-10-30"),
    r("Ngày 20 hằng tháng (đối với báo cáo tháng)", *(f"2025-{m:02d}-20" for m in range(1, 13))),
    r("Trước 15/6 và 15/12 hằng năm", "2025-06-14", "2025-12-14"),
    r("Chậm nhất ngày 14 tháng cuối quý", "2025-03-14", "2025-06-14", "2025-09-14", "2025-12-14"),
    r("Ngày 15 của tháng cuối mỗi quý", "2025-03-15", "2025-06-15", "2025-09-15", "2025-12-15"),
    r("Sáng thứ Hai hằng tuần", *_weekly(2025, 0)),
    r("Trước thứ Sáu hằng tuần", *_weekly(2025, 3)),
    d("Chậm nhất ngày 31/01 đối với báo cáo năm", "2025-01-31"),
    d("Trước ngày 15/12/2025 (theo dấu bưu điện)", "2025-12-14"),
    d("Trước ngày 15/12/2025, tính theo dấu bưu điện", "2025-12-14"),
    d("Trước 17h00 ngày 15/8/2025 (tính theo dấu bưu điện)", "2025-08-15"),
    d("Trước 15/7/2025 (đối với báo cáo 6 tháng)", "2025-07-14"),
    d("Gửi báo cáo về Sở trước 15/12/2025 để tổng hợp", "2025-12-14"),
    d("Trước ngày 20/12/2025 để tổng hợp, báo cáo UBND tỉnh", "2025-12-19"),
    r(
        "Trước ngày 20/6 đối với báo cáo 6 tháng, trước ngày 20/12 đối với báo cáo năm",
        "2025-06-19",
        "2025-12-19",
    ),
    r("Báo cáo 6 tháng gửi trước ngày 15/6; báo cáo năm gửi trước ngày 15/12", "2025-06-14", "2025-12-14"),
    r("Báo cáo 6 tháng trước ngày 10/6; báo cáo năm trước ngày 10/12", "2025-06-09", "2025-12-09"),
    r(
        "Báo cáo quý: chậm nhất ngày 18 của tháng cuối quý; báo cáo năm: trước ngày 15/12",
        "2025-03-18",
        "2025-06-18",
        "2025-09-18",
        "2025-12-14",
        "2025-12-18",
    ),
    d("Báo cáo năm: trước ngày 15/12", "2025-12-14"),
    d("Hạn cuối: 15/10/2025", "2025-10-15"),
)

# Leading verbs and wrappers, a deadline in parentheses, earliest opening, durations relative to an event.
WRAPPER_CASES: tuple[Case, ...] = (
    d("trình UBND tỉnh trước 30/9/2025", "2025-09-29"),
    d("Trình UBND tỉnh phê duyệt trước ngày 30/9/2025", "2025-09-29"),
    d("Báo cáo kết quả về Sở trước ngày 15/12/2025", "2025-12-14"),
    d("báo cáo chậm nhất ngày 20/12/2025", "2025-12-20"),
    d("dự kiến tổ chức ngày 20/8/2025", "2025-08-20"),
    d("Dự kiến tổ chức vào ngày 20/8/2025", "2025-08-20"),
    d("Khai giảng ngày 05/9/2025", "2025-09-05"),
    d("Sở Tư pháp trình trước 30/9/2025", "2025-09-29"),
    w("Tổ chức trong tháng 8/2025", "2025-08-01", "2025-08-31"),
    w("Tổng kết năm học trong tháng 5/2026", "2026-05-01", "2026-05-31"),
    d("Báo cáo kết quả (trước 15/12/2025)", "2025-12-14"),
    d("Nộp hồ sơ (chậm nhất ngày 30/9/2025)", "2025-09-30"),
    w("Quý III/2025 (trước 30/9)", "2025-07-01", "2025-09-29"),
    w("Tháng 12/2025 (trước ngày 20/12)", "2025-12-01", "2025-12-19"),
    w("Tháng 10/2025 (trình HĐND tỉnh tại kỳ họp cuối năm)", "2025-10-01", "2025-10-31"),
    w("sớm nhất từ ngày 01/10/2025", "2025-10-01", None),
    w("Sớm nhất là ngày 01/10/2025", "2025-10-01", None),
    w("Không sớm hơn ngày 01/10/2025", "2025-10-01", None),
    d("Không muộn hơn ngày 15/10/2025", "2025-10-15"),
    d("Không quá ngày 15/10/2025", "2025-10-15"),
    e("trong vòng 15 ngày làm việc kể từ ngày nhận được văn bản", 15, "working_day"),
    e("Trong thời hạn 30 ngày kể từ ngày Quyết định có hiệu lực", 30, "day"),
    e("Chậm nhất 5 ngày trước khi tổ chức hội nghị", -5, "day"),
    e("Không quá 15 ngày kể từ ngày ký", 15, "day"),
    e("05 ngày làm việc sau khi kết thúc hội nghị", 5, "working_day"),
    e("Sau 02 tuần kể từ ngày khai giảng", 2, "week"),
    e("Trong vòng 03 tháng kể từ ngày ban hành", 3, "month"),
    e("Chậm nhất 15 ngày trước ngày tổ chức", -15, "day"),
    e("trong thời hạn 05 ngày làm việc kể từ ngày nhận được hồ sơ hợp lệ", 5, "working_day"),
    w("có hiệu lực thi hành kể từ ngày 15 tháng 8 năm 2025", "2025-08-15", None),
    w("Tháng 4/2025 (hoàn thành trước 30/4)", "2025-04-01", "2025-04-29"),
)

LANGUAGE_CASES: tuple[Case, ...] = (
    TIME_CASES + DAY_LIST_CASES + SENTENCE_WINDOW_CASES + RELATIVE_CASES + CUTOFF_CASES + WRAPPER_CASES
)

# Readings that are not certain: refused with a reason (words the Vietnamese reason must contain), never a guess.
REFUSED_CASES: tuple[tuple[str, str], ...] = (
    ("Trước 17h00 ngày thứ Năm, 15/8/2025", "ghi thứ Năm nhưng ngày 15/8/2025 là thứ Sáu"),
    ("Trình UBND tỉnh trước 15/8/2025 (thứ Năm)", "ghi thứ Năm nhưng ngày 15/8/2025 là thứ Sáu"),
    ("Từ thứ Hai (18/8) đến thứ Năm (22/8/2025)", "ghi thứ Năm nhưng ngày 22/8/2025 là thứ Sáu"),
    ("trong ba ngày 8 và 9/10", "ghi 3 ngày nhưng nêu 2 ngày"),
    ("28-2/3/2025", "ngày bắt đầu sau ngày kết thúc"),
    ("Quý III/2025 (trước 30/10)", "không khớp nhau"),
    ("Trước 30/9/2025 (để tổng hợp báo cáo Bộ trước 15/10/2025)", "không khớp nhau"),
    ("Ngày 30/12/2025 và 05/01/2026", "không phải tất cả đều trong năm kế hoạch 2025"),
    ("Trước ngày 20/7/2025 (báo cáo 6 tháng) và trước ngày 20/01/2026 (báo cáo năm)", "năm kế hoạch 2025"),
    ("Ngày 15 hằng tháng năm 2026", "định kỳ trong năm 2026, không phải năm kế hoạch 2025"),
    ("Hằng quý, chậm nhất ngày 18 tháng cuối quý và ngày 18/12", "hãy tách thành từng thời hạn"),
    ("trong vòng 15 ngày làm việc kể từ ngày 01/7/2025", "tính 15 ngày làm việc từ một ngày cụ thể"),
    ("Chậm nhất 10 ngày kể từ ngày 15/8/2025", "tính 10 ngày từ một ngày cụ thể"),
    ("Chậm nhất ngày 18 của tháng cuối kỳ báo cáo", "không rõ chu kỳ"),
    ("Tháng 9 hoặc tháng 10/2025", "Không hiểu thời hạn"),
    ("Quý III hoặc quý IV/2025", "Không hiểu thời hạn"),
    ("Hoàn thành việc A trong tháng 8, việc B trong tháng 9", "Không hiểu thời hạn"),
    ("Trước ngày khai giảng năm học mới (05/9/2025)", "Không hiểu thời hạn"),
    ("Từ ngày 01/7/2025 khi Luật có hiệu lực", "Không hiểu thời hạn"),
    ("Trước kỳ họp HĐND tỉnh cuối năm", "Không hiểu thời hạn"),
    ("Báo cáo năm trước 15/12/2025", "Không hiểu thời hạn"),
    ("Nhân dịp 20/11/2025", "Không hiểu thời hạn"),
    ("Học kỳ I năm học 2025-2026", "Không hiểu thời hạn"),
    ("Trong tháng tới", "Không hiểu thời hạn"),
    ("Tuần đầu tháng 9/2025", "Không hiểu thời hạn"),
    ("Trước Tết Nguyên đán Ất Tỵ", "Không hiểu thời hạn"),
    ("Hằng tháng, riêng tháng 12 trước ngày 20/12", "có ngoại lệ (riêng, trừ); hãy tách thành từng thời hạn"),
    ("Định kỳ hằng quý (trừ quý IV)", "có ngoại lệ"),
    ("Hằng năm, vào dịp khai giảng", "gắn với một dịp"),
    ("Báo cáo 6 tháng trước ngày 10/6 và tháng 12", "Không hiểu thời hạn"),
)

# Every phrase with its expected reading (the seed's phrases are kept apart: SEED_CASES).
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
    + LANGUAGE_CASES
)
