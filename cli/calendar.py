"""``nhacviec calendar``: the working calendar, and the days off / make-up working days an admin declares."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import WEEKDAY_SHORT, console, open_store, parse_date, settings, today

app = typer.Typer(
    help="Lịch làm việc: ngày nghỉ lễ, ngày nghỉ và ngày làm bù do cơ quan công bố.", no_args_is_help=True
)


@app.command("show", help="Các ngày không làm việc (trừ thứ Bảy, Chủ nhật) và ngày làm bù của một năm.")
def show(year: Annotated[int | None, typer.Option("--year", help="Năm (mặc định: năm nay).")] = None) -> None:
    from datetime import date, timedelta

    from plan.limits import check_year
    from store.calendar import working_calendar
    from store.db import session_scope

    year = check_year(year, "năm --year") if year is not None else today().year
    config = settings()
    with session_scope(open_store()) as session:
        calendar = working_calendar(session, config.calendar_file, config.send_time, config.timezone)
    table = Table(
        "Ngày",
        "Thứ",
        "Làm việc?",
        "Ghi chú",
        title=f"Lịch làm việc năm {year} (giờ gửi {calendar.send_time:%H:%M})",
    )
    day = date(year, 1, 1)
    while day.year == year:
        weekend = day.weekday() >= 5
        working = calendar.is_working_day(day)
        if weekend == working:  # a weekday off, or a weekend day worked
            name = calendar.holiday_name(day) or ("Ngày làm bù" if working else "")
            table.add_row(
                f"{day:%d/%m/%Y}",
                WEEKDAY_SHORT[day.weekday()],
                "có" if working else "nghỉ",
                name,
            )
        day += timedelta(days=1)
    console.print(table)


@app.command("off", help="Khai báo một ngày nghỉ (ví dụ ngày hoán đổi).")
def off(
    day: str, note: Annotated[str | None, typer.Option("--note", help="Căn cứ (số văn bản).")] = None
) -> None:
    _declare(day, "off", note)


@app.command("working", help="Khai báo một ngày làm bù (thường là thứ Bảy).")
def working(
    day: str, note: Annotated[str | None, typer.Option("--note", help="Căn cứ (số văn bản).")] = None
) -> None:
    _declare(day, "working", note)


@app.command("remove", help="Bỏ khai báo của một ngày.")
def remove(day: str) -> None:
    from store.calendar import undeclare_day
    from store.db import session_scope

    value = parse_date(day)
    with session_scope(open_store()) as session:
        undeclare_day(session, value)
    console.print(f"Đã bỏ khai báo ngày {value:%d/%m/%Y}.")


def _declare(day: str, kind: str, note: str | None) -> None:
    from store.calendar import declare_day
    from store.db import session_scope

    value = parse_date(day)
    with session_scope(open_store()) as session:
        declare_day(session, value, kind, note)
    label = "ngày nghỉ" if kind == "off" else "ngày làm bù"
    console.print(f"Đã khai báo {value:%d/%m/%Y} là {label}.")
