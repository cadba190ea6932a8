"""Words the pages show for the codes stored in the database (event kinds, channels, deadline kinds)."""

from __future__ import annotations

EVENTS = {
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

VIA = {
    "web": "trang quản trị",
    "cli": "dòng lệnh",
    "telegram": "Telegram",
    "email-link": "liên kết trong email",
    "init": "khởi tạo",
    "import": "nạp kế hoạch",
}

DEADLINE_KINDS = {
    "date": "một ngày cụ thể",
    "window": "một khoảng thời gian",
    "recurring": "định kỳ",
    "continuous": "thường xuyên",
    "event": "theo sự kiện (chưa có ngày)",
    "unscheduled": "chưa có thời hạn",
}

FLASH = {
    "done": "Đã ghi nhận nhiệm vụ hoàn thành.",
    "reopened": "Đã mở lại nhiệm vụ.",
    "extended": "Đã gia hạn nhiệm vụ.",
    "due_set": "Đã đặt hạn cho nhiệm vụ.",
    "ext_requested": "Đã gửi đề nghị gia hạn; hạn chỉ thay đổi khi Văn phòng duyệt.",
}
