"""The ``nhacviec`` command. Each sub-command lives in its own module; heavy libraries load inside commands."""

from __future__ import annotations

import sys

import typer

from cli import (
    calendar,
    deadlines,
    doctor,
    init,
    manual,
    outbox,
    rules,
    run,
    simulate,
    status,
    tasks,
    test_send,
    zalo,
)
from cli import ics as ics_cli
from cli import plan as plan_cli  # not `plan`: that name is the package of plan reading
from cli import preview as preview_cli
from cli import report as report_cli
from cli import reports as reports_cli
from cli import templates as templates_cli  # not `templates`: that name is the package of templates
from cli import units as units_cli
from cli import users as users_cli
from cli import web as web_cli
from cli.click_words import install as install_vietnamese_click_words
from cli.common import err_console, error_text
from plan.errors import UserError

install_vietnamese_click_words()

app = typer.Typer(
    name="nhacviec",
    help="Nhắc việc: biến kế hoạch công tác thành lời nhắc, yêu cầu báo cáo và cảnh báo quá hạn.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("deadline", help='Đọc thử các cụm từ thời hạn ("Quý III/2020", "Trước 31/12/2020"...).')(
    deadlines.deadline
)
app.command(
    "init", help="Tạo cơ sở dữ liệu, nạp danh bạ đơn vị và kế hoạch mẫu (chạy lại nhiều lần vẫn an toàn)."
)(init.init)
app.add_typer(plan_cli.app, name="plan")
app.add_typer(tasks.app, name="tasks")
app.add_typer(rules.app, name="rules")
app.add_typer(calendar.app, name="calendar")
app.add_typer(outbox.app, name="outbox")
app.add_typer(templates_cli.app, name="templates")
app.add_typer(zalo.app, name="zalo")
app.add_typer(report_cli.app, name="report")
app.add_typer(reports_cli.app, name="reports")
app.add_typer(reports_cli.extensions_app, name="extensions")
app.add_typer(units_cli.app, name="units")
app.add_typer(users_cli.app, name="users")
app.add_typer(ics_cli.app, name="ics")
app.command("web", help="Chạy trang quản trị web (mặc định http://127.0.0.1:8000).")(web_cli.web)
app.command("run", help="Chạy dịch vụ: lập lịch, đưa tin đến hạn vào hộp thư đi và gửi đi.")(run.run)
app.command(
    "remind",
    help="Gửi ngay lời nhắc: một nhiệm vụ (--task), các nhiệm vụ của một đơn vị (--unit), hoặc mọi nhiệm vụ sắp đến hạn/quá hạn.",
)(manual.remind)
app.command("digest", help="Gửi ngay bản tin tuần cho các Phó Giám đốc.")(manual.digest)
app.command("report-request", help="Gửi ngay đề nghị báo cáo định kỳ hoặc đột xuất.")(manual.report_request)
app.command("status", help="Tình trạng dịch vụ: lượt gần nhất, lần chạy tới, hộp thư đi, tin lỗi, các kênh.")(
    status.status
)
app.command(
    "preview", help="Ai nhận gì: các tin mỗi kênh sẽ gửi cho một người (--person) hoặc một đơn vị (--unit)."
)(preview_cli.preview)
app.command(
    "doctor",
    help="Kiểm tra sẵn sàng: ai liên lạc được qua kênh nào, nhiệm vụ không tới được đơn vị chủ trì, địa chỉ giữ chỗ, các kênh có trả lời không.",
)(doctor.doctor)
app.command("test-send", help="Gửi một tin thử qua hộp thư đi tới một đơn vị, trưởng đơn vị hoặc lãnh đạo.")(
    test_send.test_send
)
app.command("simulate", help="Xem trước mọi thông báo sẽ gửi trong một khoảng thời gian (không gửi gì).")(
    simulate.simulate
)


def main() -> None:
    """Entry point: a user's mistake prints one clear sentence and exits 1, never a traceback."""
    try:
        app(prog_name="nhacviec")
    except UserError as error:
        err_console.print(f"[bold red]Lỗi:[/] {error_text(error)}", highlight=False)
        sys.exit(1)
    except Exception as error:
        explanation = explain_setup_error(error)
        if explanation is None:
            raise
        err_console.print(f"[bold red]Lỗi:[/] {explanation}", highlight=False)
        sys.exit(1)


def explain_setup_error(error: Exception) -> str | None:
    """A Vietnamese sentence for configuration mistakes (a bad NHACVIEC_* value, an unreachable database)."""
    kind = type(error).__name__
    module = type(error).__module__
    if kind == "ValidationError" and module.startswith("pydantic"):
        fields = [
            f"NHACVIEC_{str(problem['loc'][0]).upper()} ({problem['msg']})"
            for problem in error.errors()  # type: ignore[attr-defined]
            if problem.get("loc")
        ]
        return "Cấu hình không hợp lệ: " + "; ".join(fields or [str(error).splitlines()[0]])
    if module.startswith("sqlalchemy"):
        if kind in ("ArgumentError", "NoSuchModuleError"):
            return "NHACVIEC_DATABASE_URL không hợp lệ (ví dụ: sqlite:///var/nhacviec.db hoặc postgresql+psycopg://...)."
        if kind == "OperationalError":
            reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
            return f"Không kết nối được cơ sở dữ liệu (NHACVIEC_DATABASE_URL): {reason}"
    return None


if __name__ == "__main__":
    main()
