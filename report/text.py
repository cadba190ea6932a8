"""The words of the execution report, drafted once for the .docx, the .xlsx and the web preview (pure).

The letterhead (issuing body, document symbol, place, addressee, signer) comes from the settings and the
directory; everything else is drafted from :class:`report.figures.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from planner.occurrences import period_words
from report.figures import Counts, PeriodLine, Report, TaskLine, UnitLine, period_label
from vocabulary import PERIOD_STATUS, REPORT_STATUS, label


@dataclass(frozen=True)
class Letterhead:
    """The administrative header and footer of the report (Decree 30/2020/NĐ-CP's layout)."""

    authority: str = "UBND tỉnh Hoà Bình"  # the governing body, above the issuer
    issuer: str = "Sở Giáo dục và Đào tạo"
    symbol: str = "BC-SGDĐT"  # "Số:      /BC-SGDĐT"
    place: str = "Hoà Bình"
    recipient: str = "Sở Nội vụ"  # "Kính gửi"
    signer_title: str = "Giám đốc"
    signer_name: str = ""


def official_date(place: str, day: date) -> str:
    """ "Hoà Bình, ngày 05 tháng 3 năm 2020": days below 10 and months 1 and 2 take a leading zero."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _plan_name(title: str) -> str:
    """ "Kế hoạch thực hiện Cải cách hành chính năm 2020" -> "Cải cách hành chính năm 2020"."""
    name = title.strip()
    for prefix in ("Kế hoạch", "kế hoạch"):
        name = name.removeprefix(prefix).strip()
    for prefix in ("thực hiện", "Thực hiện", "triển khai", "Triển khai"):
        name = name.removeprefix(prefix).strip()
    return name or title


def title_lines(report: Report) -> tuple[str, str]:
    """ "BÁO CÁO" and "Kết quả thực hiện Kế hoạch ... (quý I năm 2020)"."""
    return (
        "BÁO CÁO",
        f"Kết quả thực hiện Kế hoạch {_plan_name(report.plan_title)} ({period_label(report.period)})",
    )


def day(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _change(before: int, after: int) -> str:
    if after > before:
        return f"tăng từ {before} lên {after}"
    if after < before:
        return f"giảm từ {before} xuống {after}"
    return f"vẫn là {after}"


def period_phrase(report: Report) -> str:
    """ "trong quý I năm 2020", "trong 6 tháng đầu năm 2020", "trong năm 2020", "tính đến ngày 04/05/2020"."""
    if report.period.kind == "adhoc":
        return f"tính đến ngày {day(report.period.cutoff)}"
    return f"trong {period_label(report.period)}"


def opening(report: Report, letterhead: Letterhead) -> str:
    return (
        f"Thực hiện {report.plan_title} (sau đây gọi là Kế hoạch), {letterhead.issuer} báo cáo kết quả "
        f"thực hiện Kế hoạch {period_phrase(report)} như sau:"
    )


def general(report: Report) -> list[str]:
    """ "1. Tình hình chung": the counts of the period and of the whole plan."""
    c: Counts = report.counts
    closing = (
        "ngày chốt số liệu của kỳ báo cáo" if report.as_of == report.period.cutoff else "ngày lập báo cáo"
    )
    paragraphs = [
        f"Kế hoạch có {c.total} nhiệm vụ thuộc {len(report.sections)} nội dung. "
        f"Số liệu tính đến ngày {day(report.as_of)} ({closing})."
    ]
    if c.due_in_period:
        paragraphs.append(
            f"Trong kỳ có {c.due_in_period} nhiệm vụ đến hạn, trong đó: {c.due_done_on_time} nhiệm vụ "
            f"hoàn thành đúng hạn, {c.due_done_late} nhiệm vụ hoàn thành quá hạn, {c.due_overdue} nhiệm vụ "
            "quá hạn chưa hoàn thành."
        )
    else:
        paragraphs.append("Trong kỳ không có nhiệm vụ nào đến hạn.")
    whole = (
        f"Tính chung toàn bộ Kế hoạch: đã hoàn thành {c.done}/{c.total} nhiệm vụ ({c.done_on_time} đúng "
        f"hạn, {c.done_late} quá hạn); {c.in_progress} nhiệm vụ đang thực hiện, còn trong hạn; "
        f"{c.overdue} nhiệm vụ quá hạn chưa hoàn thành; {c.not_yet_due} nhiệm vụ chưa đến thời gian "
        f"thực hiện; {c.no_date} nhiệm vụ chưa có thời hạn cụ thể."
    )
    if c.recurring:
        whole += " " + recurring_sentence(c)
    if c.extended:
        whole += f" Có {c.extended} nhiệm vụ được gia hạn."
    if c.extension_requests_pending:
        whole += f" {c.extension_requests_pending} đề nghị gia hạn đang chờ duyệt."
    paragraphs.append(whole)
    return paragraphs


def recurring_sentence(c: Counts) -> str:
    """How recurring work is counted, and its periods in the report's window (report.figures' rule)."""
    periods = (
        f"{c.periods} kỳ thuộc kỳ báo cáo: {c.periods_done_on_time} kỳ {PERIOD_STATUS['done_on_time']}, "
        f"{c.periods_done_late} kỳ {PERIOD_STATUS['done_late']}, {c.periods_overdue} kỳ quá hạn chưa hoàn "
        f"thành, {c.periods_not_yet_due} kỳ {PERIOD_STATUS['not_yet_due']}"
        if c.periods
        else "chưa có kỳ nào thuộc kỳ báo cáo"
    )
    return (
        f"Kế hoạch có {c.recurring} nhiệm vụ thực hiện định kỳ ({periods}); mỗi nhiệm vụ định kỳ được "
        "tính là hoàn thành khi mọi kỳ đã đến hạn đều hoàn thành, là quá hạn khi còn kỳ quá hạn chưa hoàn "
        "thành (kết quả từng kỳ tại Phụ lục)."
    )


def comparison(report: Report) -> list[str]:
    """ "2. So sánh với kỳ trước"."""
    previous, before = report.previous, report.previous_counts
    if previous is None or before is None:
        return ["Đây là kỳ báo cáo đầu tiên của Kế hoạch trong năm nên chưa có số liệu để so sánh."]
    now = report.counts
    as_of = min(report.at, previous.cutoff)
    return [
        f"So với {period_label(previous)} (số liệu đến ngày {day(as_of)}): số nhiệm vụ đã hoàn thành "
        f"{_change(before.done, now.done)}, trong đó hoàn thành đúng hạn "
        f"{_change(before.done_on_time, now.done_on_time)}; "
        f"số nhiệm vụ quá hạn chưa hoàn thành {_change(before.overdue, now.overdue)}; số nhiệm vụ đến hạn "
        f"{_change(before.due_in_period, now.due_in_period)}."
    ]


def closing_sentence(report: Report, letterhead: Letterhead) -> str:
    return (
        f"Trên đây là báo cáo kết quả thực hiện Kế hoạch {period_phrase(report)} của {letterhead.issuer}./."
    )


NO_DIFFICULTY = "Trong kỳ không có đề nghị gia hạn hay nhiệm vụ quá hạn nào được ghi nhận."
NO_RECOMMENDATION = "(Văn phòng bổ sung kiến nghị, đề xuất nếu có.)"

# The appendix table: one row per task in plan order, a row per section.
APPENDIX_HEADERS: tuple[str, ...] = (
    "STT",
    "Nhiệm vụ",
    "Đơn vị chủ trì",
    "Sản phẩm",
    "Thời hạn theo Kế hoạch",
    "Hạn thực hiện",
    "Tình trạng",
    "Ngày hoàn thành, ghi chú",
    "Gia hạn, lý do",
)


def _words(periods: list[PeriodLine]) -> str:
    return ", ".join(p.words for p in periods)


def periods_line(line: TaskLine) -> str:
    """Recurring work's periods in the report's window, in one line: "Hằng tháng: 2/3 kỳ hoàn thành,
    1 kỳ quá hạn (tháng 02/2026)"; "" for a task done once."""
    if not line.recurring:
        return ""
    if not line.periods:
        return f"{line.deadline_text}: chưa có kỳ nào thuộc kỳ báo cáo"
    done = line.periods_with("done_on_time", "done_late")
    late = line.periods_with("done_late")
    overdue = line.periods_with("overdue")
    waiting = line.periods_with("not_yet_due")
    parts = [f"{len(done)}/{len(line.periods)} kỳ hoàn thành"]
    if late:
        parts[0] += f" (trong đó {len(late)} kỳ {PERIOD_STATUS['done_late']}: {_words(late)})"
    if overdue:
        parts.append(f"{len(overdue)} kỳ {PERIOD_STATUS['overdue']} ({_words(overdue)})")
    if waiting:
        parts.append(f"{len(waiting)} kỳ {PERIOD_STATUS['not_yet_due']} ({_words(waiting)})")
    return f"{line.deadline_text}: {', '.join(parts)}"


def periods_detail(line: TaskLine) -> str:
    """The appendix's row under a recurring task: :func:`periods_line`, then the day each period was done."""
    text = periods_line(line)
    done = line.periods_with("done_on_time", "done_late")
    if done:
        text += ". Ngày hoàn thành: " + "; ".join(
            f"{p.words} ngày {day(p.done_on)}" + (f" ({p.done_note})" if p.done_note else "") for p in done
        )
    return text + "." if text else ""


def status_text(line: TaskLine) -> str:
    """The status cell's first line: "Quá hạn, chưa hoàn thành (76 ngày)"."""
    status = label(REPORT_STATUS, line.status)
    if line.status == "overdue":
        status += f" ({line.overdue_days} ngày)"
    return status


def _done_cell(line: TaskLine) -> str:
    """The day the task was done (recurring work: its last period in the window, when it counts as done;
    each period's day is in the row under it)."""
    done = day(line.done_on)
    if line.done_note:
        done = f"{done} ({line.done_note})" if done else line.done_note
    return done


def appendix_row(line: TaskLine) -> tuple[str, ...]:
    done = _done_cell(line)
    extensions = "; ".join(
        f"{'Đặt hạn' if e.kind == 'due_set' else 'Gia hạn'}"
        + (f" kỳ {period_words(e.period)}" if e.period else "")
        + f" ngày {day(e.on)}"
        + (f" đến {day(e.new_due)}" if e.new_due else "")
        + (f": {e.reason}" if e.reason else "")
        for e in line.extensions
    )
    effective = day(line.effective_due)
    deciding = [p.words for p in line.periods if p.effective_due == line.effective_due][:1]
    if line.due and line.effective_due and line.effective_due != line.due:
        deciding.append(f"{day(line.due)} là ngày nghỉ")
    if deciding:
        effective += f" ({'; '.join(deciding)})"
    status = status_text(line)
    return (
        line.number,
        line.content,
        ", ".join(line.lead_names),
        "; ".join(line.products),
        line.deadline_text,
        effective or "Chưa có",
        status,
        done,
        extensions,
    )


def appendix_rows(report: Report) -> list[tuple[str, tuple[str, ...]]]:
    """``("section", (code, title))`` and ``("task", cells)`` rows, in the plan's order; a recurring task's
    row is followed by ``("periods", (text,))``, its periods (:func:`periods_detail`), across the table."""
    rows: list[tuple[str, tuple[str, ...]]] = []
    current: str | None = None
    for line in report.tasks:
        if line.section != current:
            current = line.section
            if current is not None:
                rows.append(("section", (current, report.sections.get(current, ""))))
        rows.append(("task", appendix_row(line)))
        if line.recurring:
            rows.append(("periods", (periods_detail(line),)))
    return rows


UNIT_HEADERS: tuple[str, ...] = (
    "STT",
    "Đơn vị",
    "Nhiệm vụ chủ trì",
    "Đến hạn trong kỳ",
    "Hoàn thành đúng hạn (tỷ lệ)",
    "Hoàn thành quá hạn",
    "Quá hạn: cuối kỳ / đến ngày báo cáo",
    "Báo cáo định kỳ gửi đúng hạn",
)


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def reports_cell(unit: UnitLine) -> str:
    if unit.reports_due is None:
        return "—"
    cell = f"{unit.reports_on_time}/{unit.reports_due}"
    if unit.reports_late:
        cell += f" (muộn {unit.reports_late})"
    if unit.reports_missing:
        cell += f" (chưa gửi {unit.reports_missing})"
    return cell


def unit_row(number: int, unit: UnitLine) -> tuple[str, ...]:
    on_time = str(unit.done_on_time)
    if unit.on_time_percent is not None:
        on_time += f" ({percent(unit.on_time_percent)}%)"
    return (
        str(number),
        unit.name,
        str(unit.led),
        str(unit.due_in_period),
        on_time,
        str(unit.done_late),
        f"{unit.overdue_at_period_end} / {unit.overdue_now}",
        reports_cell(unit),
    )
