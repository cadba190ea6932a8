"""The words the Office reads for the codes the program stores: one definition for the CLI, the web and messages.

Every code that reaches a person (a notification kind, a task or outbox status, a channel, a rule's
audience, a weekday, a history event) is shown through one of these tables, never as the code itself.
This module sits at the bottom of the layers: it imports nothing of the project, so every layer can use
it. Add a word here, not in a page, a command or a template.

``label(table, code)`` is the one lookup: an unknown code is shown as it is (a new code is a bug to fix
here, not a crash in front of a user).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# -- what a message is about ---------------------------------------------------------------------------

# Notification kinds (rules.model.NotificationKind): the title of a message, and a short word for tables.
KIND_TITLES: Mapping[str, str] = {
    "kickoff": "Bắt đầu thực hiện nhiệm vụ",
    "reminder": "Nhắc hạn nhiệm vụ",
    "checkin": "Cập nhật tiến độ nhiệm vụ",
    "escalation": "Nhiệm vụ quá hạn",
    "report_request": "Đề nghị gửi báo cáo định kỳ",
    "report_reminder": "Nhắc gửi báo cáo định kỳ",
    "report_followup": "Đôn đốc báo cáo chưa gửi",
    "digest": "Bản tin tuần",
    "needs_date": "Nhiệm vụ chưa có thời hạn",
    "closing": "Kết thúc kế hoạch",
    "bundle": "Tổng hợp nhắc việc",  # one message carrying everything for one addressee at one send time
}
KIND_SHORT: Mapping[str, str] = {
    "kickoff": "bắt đầu",
    "reminder": "nhắc trước hạn",
    "checkin": "hỏi tiến độ",
    "escalation": "quá hạn",
    "report_request": "đề nghị báo cáo",
    "report_reminder": "nhắc báo cáo",
    "report_followup": "đôn đốc báo cáo",
    "digest": "bản tin tuần",
    "needs_date": "chưa có hạn",
    "closing": "kết thúc kế hoạch",
    "bundle": "tổng hợp",
}
# Kinds about one task, and kinds about a reporting period.
TASK_KINDS: tuple[str, ...] = ("kickoff", "reminder", "checkin", "escalation")
REPORT_KINDS: tuple[str, ...] = ("report_request", "report_reminder", "report_followup")

# The counts at the top of a bundled message ("3 nhiệm vụ quá hạn, 2 sắp đến hạn, 1 đề nghị báo cáo"),
# in this order; each item of a bundle counts under one of them (delivery's urgency order).
BUNDLE_COUNTS: Mapping[str, str] = {
    "overdue": "nhiệm vụ quá hạn",
    "due_soon": "sắp đến hạn",
    "report_followup": "báo cáo chưa gửi",
    "report_reminder": "nhắc gửi báo cáo",
    "report_request": "đề nghị báo cáo",
    "checkin": "cần cập nhật tiến độ",
    "kickoff": "bắt đầu thực hiện",
    "needs_date": "danh sách nhiệm vụ chưa có hạn",
    "closing": "danh sách việc chưa xong khi kết thúc kế hoạch",
    "digest": "bản tin tuần",
}
# How an email's "Nơi nhận" line names each recipient's part in an item.
RECIPIENT_PARTS: Mapping[str, str] = {"lead": "chủ trì", "coordinating": "phối hợp", "cc": "để biết"}

# Escalation levels of the default ladder.
LEVEL_LABELS: Mapping[int, str] = {1: "Trưởng đơn vị", 2: "Phó Giám đốc phụ trách", 3: "Giám đốc Sở"}

# -- channels ------------------------------------------------------------------------------------------

CHANNEL_LABELS: Mapping[str, str] = {
    "email": "Email",
    "telegram": "Telegram",
    "zalo": "Zalo",
    "zns": "Zalo ZNS",
}
# Whether a channel sends for real or writes what it would send to files (nhacviec status, the web).
CHANNEL_STATE: Mapping[str, str] = {
    "configured": "đã cấu hình",
    "sink": "chưa cấu hình, tin chỉ được ghi ra tệp",
}

# -- the directory and invites -------------------------------------------------------------------------

# Who an address belongs to (store.directory.Target.kind).
RECIPIENT_KINDS: Mapping[str, str] = {"unit": "đơn vị", "head": "trưởng đơn vị", "leader": "lãnh đạo Sở"}
# A contact field of the directory (plan.units.CHANNELS), as a column or a sentence names it.
CONTACT_FIELDS: Mapping[str, str] = {
    "email": "Email",
    "telegram_chat_id": "Telegram",
    "zalo_user_id": "Zalo",
    "phone": "Điện thoại",
}
# Whether a channel reaches a recipient (delivery.readiness.reach).
REACH_STATES: Mapping[str, str] = {
    "ok": "liên lạc được",
    "no_address": "chưa có địa chỉ",
    "placeholder": "địa chỉ giữ chỗ",
    "not_configured": "kênh chưa cấu hình",
}
# An invite code's state (store.invites.state).
INVITE_STATES: Mapping[str, str] = {
    "pending": "chưa dùng",
    "joined": "đã liên kết",
    "unbound": "đã gỡ liên kết",
    "expired": "hết hạn",
    "revoked": "đã huỷ",
}

# -- tasks ---------------------------------------------------------------------------------------------

# How a deadline phrase was read (plan.deadline.DeadlineKind).
DEADLINE_KINDS: Mapping[str, str] = {
    "date": "một ngày cụ thể",
    "window": "một khoảng thời gian",
    "recurring": "định kỳ",
    "continuous": "thường xuyên",
    "event": "theo sự kiện (chưa có ngày)",
    "unscheduled": "chưa có thời hạn",
}
UNDATED_DEADLINE_KINDS: frozenset[str] = frozenset({"unscheduled", "event"})
# An event-relative deadline once the event's date is known (`tasks set-due CODE --event DATE`).
EVENT_DATED = "theo sự kiện (xảy ra ngày {day})"
# What a plan file was read as (plan.importers.KINDS), for `plan check` and the import page.
FILE_KINDS: Mapping[str, str] = {
    "docx": "Word (.docx)",
    "doc": "Word 97-2003 (.doc), chuyển đổi bằng LibreOffice",
    "xlsx": "Excel (.xlsx)",
    "xls": "Excel 97-2003 (.xls), chuyển đổi bằng LibreOffice",
    "pdf": "PDF có lớp chữ",
    "csv": "CSV",
    "yaml": "YAML",
}
# The steps of reading a long plan file, as a progress bar names them.
READING_STEPS: Mapping[str, str] = {
    "open": "Đang mở tệp",
    "convert": "Đang chuyển đổi bằng LibreOffice",
    "pages": "Đang đọc các trang PDF",
    "check": "Đang kiểm tra nhiệm vụ",
}
# The unit of a duration counted from an event ("trong vòng 15 ngày làm việc kể từ ...").
OFFSET_UNITS: Mapping[str, str] = {
    "day": "ngày",
    "working_day": "ngày làm việc",
    "week": "tuần",
    "month": "tháng",
}

# A task's state as a listing shows it (stored statuses plus "overdue", which is derived).
TASK_STATUS: Mapping[str, str] = {
    "open": "đang thực hiện",
    "done": "hoàn thành",
    "overdue": "quá hạn",
    "removed": "đã bỏ",
}

# The dashboard's and digest's classes of a task on a day.
PROGRESS: Mapping[str, str] = {
    "done": "Hoàn thành",
    "on_track": "Đúng tiến độ",
    "due_soon": "Đến hạn trong 7 ngày",
    "overdue": "Quá hạn",
    "needs_date": "Cần đặt hạn",
}

# A task's state at the end of a reporting period (report.figures.STATUSES), in the execution report.
REPORT_STATUS: Mapping[str, str] = {
    "done_on_time": "Hoàn thành đúng hạn",
    "done_late": "Hoàn thành quá hạn",
    "overdue": "Quá hạn, chưa hoàn thành",
    "in_progress": "Đang thực hiện, còn trong hạn",
    "not_yet_due": "Chưa đến thời gian thực hiện",
    "no_date": "Chưa có thời hạn cụ thể",
}
# The state of one period of recurring work at the end of a reporting period (report.figures.PERIOD_STATUSES).
PERIOD_STATUS: Mapping[str, str] = {
    "done_on_time": "hoàn thành đúng hạn",
    "done_late": "hoàn thành quá hạn",
    "overdue": "quá hạn",
    "not_yet_due": "chưa đến hạn",
}
# The kinds of execution report (`nhacviec report build --period`), as a form offers them.
REPORT_PERIODS: Mapping[str, str] = {
    "Q1": "Quý I",
    "H1": "6 tháng đầu năm",
    "9M": "9 tháng",
    "Y": "Cả năm",
    "adhoc": "Đột xuất (đến ngày báo cáo)",
}

# Entries of a task's history (store.models.EventKind and the extension requests).
EVENTS: Mapping[str, str] = {
    "created": "Tạo từ kế hoạch",
    "updated": "Cập nhật khi nạp lại kế hoạch",
    "done": "Hoàn thành",
    "reopened": "Mở lại",
    "extended": "Gia hạn",
    "due_set": "Đặt hạn",
    "removed": "Bỏ khỏi kế hoạch",
    "ext_requested": "Đề nghị gia hạn",
    "ext_rejected": "Không duyệt gia hạn",
}

# Where a change came from.
VIA: Mapping[str, str] = {
    "web": "trang quản trị",
    "cli": "dòng lệnh",
    "telegram": "Telegram",
    "zalo": "Zalo",
    "email-link": "liên kết trong email",
    "init": "khởi tạo",
    "import": "nạp kế hoạch",
}

# -- the outbox ----------------------------------------------------------------------------------------

PLAN_STATUS: Mapping[str, str] = {
    "active": "đang dùng",  # planned and sent
    "archived": "đã lưu trữ",  # kept with its history; plans and sends nothing
}

OUTBOX_STATUS: Mapping[str, str] = {
    "pending": "chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "lỗi (không thử lại)",
    "dead": "hết lượt thử",
    "skipped": "thiếu địa chỉ",
    "written": "ghi ra tệp (chưa cấu hình kênh)",
}
# The scheduler's jobs (scheduler.service: APScheduler job ids), as 'nhacviec status' names their next runs.
SCHEDULER_JOBS: Mapping[str, str] = {
    "pass": "lượt nhắc việc hằng ngày",
    "retry": "gửi lại tin chờ",
    "leadership": "kiểm tra tiến trình dẫn đầu",
    "zalo-keepalive": "giữ token Zalo",
    "heartbeat": "báo hiệu còn chạy",
}
# What became of the messages one send tried (delivery.dispatcher.DispatchSummary).
DISPATCH_OUTCOMES: Mapping[str, str] = {
    "sent": "đã gửi",
    "written": "ghi ra tệp (chưa cấu hình kênh)",
    "pending": "sẽ thử lại",
    "waiting": "chờ kênh hoạt động lại",
    "failed": "lỗi",
    "dead": "hết lượt thử",
    "unrecorded": "chưa ghi được kết quả (sẽ gửi lại)",
}

# -- rules ---------------------------------------------------------------------------------------------

WEEKDAYS: tuple[str, ...] = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
# Rule weekdays as stored ("monday") to their Vietnamese names.
WEEKDAY_CODES: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
WEEKDAY_LABELS: Mapping[str, str] = dict(zip(WEEKDAY_CODES, WEEKDAYS, strict=True))

# Who a rule sends to (rules.model.Who) and in which capacity (rules.model.Role).
AUDIENCES: Mapping[str, str] = {
    "lead": "đơn vị chủ trì",
    "coordinating": "đơn vị phối hợp",
    "office": "Văn phòng Sở",
    "unit_head": "trưởng đơn vị chủ trì",
    "supervisor": "Phó Giám đốc phụ trách",
    "director": "Giám đốc Sở",
    "deputies": "các Phó Giám đốc",
    "reporting_units": "các đơn vị phải báo cáo",
}
ROLES: Mapping[str, str] = {"to": "gửi", "cc": "đồng gửi"}

# Template files: the shared parts (``_layout``...) and what each file of a kind makes (by its name's ending).
TEMPLATE_PARTS: Mapping[str, str] = {
    "_layout": "khung chung của tin",
    "_macros": "đoạn dùng chung",
    "_notices": "thông báo kèm theo",
    "_report": "phần báo cáo định kỳ",
    "bundle_item": "một mục trong tin tổng hợp",
    "_bundle": "khung tin tổng hợp",
    "_text": "đoạn văn dùng chung",
}
TEMPLATE_FILES: Mapping[str, str] = {
    "subject.j2": "tiêu đề",
    "html.j2": "nội dung định dạng",
    "txt.j2": "nội dung văn bản",
}

# The columns of a plan (plan.model's fields), as a problem found in a plan file names them.
PLAN_FIELDS: Mapping[str, str] = {
    "code": "Mã (STT)",
    "section": "Mục",
    "content": "Nội dung",
    "lead": "Đơn vị chủ trì",
    "coordinating": "Đơn vị phối hợp",
    "products": "Sản phẩm",
    "deadline": "Thời hạn",
    "note": "Ghi chú",
    "reporting.units": "Chế độ báo cáo: đơn vị",
    "reporting.via": "Chế độ báo cáo: kênh",
}

# Kinds of unit in the directory (plan/units.py KINDS).
UNIT_KINDS: Mapping[str, str] = {
    "office": "Văn phòng",
    "department": "phòng chuyên môn",
    "inspectorate": "thanh tra",
    "team": "tổ",
    "leadership": "lãnh đạo Sở",
    "group": "nhóm đơn vị",
}

# Where a message template comes from.
TEMPLATE_SOURCES: Mapping[str, str] = {"builtin": "có sẵn", "override": "tuỳ chỉnh", "config": "cấu hình ZNS"}


# Web accounts' roles (store.models.UserRole).
USER_ROLES: Mapping[str, str] = {"admin": "quản trị", "viewer": "xem", "unit": "đơn vị"}
# What the web's manual send page can send.
MANUAL_KINDS: Mapping[str, str] = {
    "remind": "Nhắc việc",
    "digest": "Bản tin tuần",
    "report": "Đề nghị báo cáo",
}


def label(table: Mapping[str, str], code: object) -> str:
    """The word for ``code`` in ``table``; the code itself when the table does not know it."""
    text = str(code)
    return table.get(text, text)


def describe_items(items: Iterable[Any]) -> str:
    """What a message carries, in a few words: "quá hạn IV.4; nhắc trước hạn V.1" (items with a kind,
    a task and a period, as the outbox stores them)."""
    return "; ".join(
        " ".join(part for part in (label(KIND_SHORT, item.kind), item.task or item.period or "") if part)
        for item in items
    )
