"""A message's wording as a clerk writes it: a subject, an opening and a closing sentence in plain text with a
few named placeholders ("{mã nhiệm vụ}", "{hạn}"...), turned into template overrides for every channel.

The clerk never sees Jinja: what they type is text, any ``{{``/``{%`` in it stays text, and only the
placeholders below become values. The generated files (email subject, text and HTML; Telegram; Zalo) keep
the built-in layout (greeting, task block, completion link, signature) around the two sentences, and carry
the wording they came from in a first comment line, so the form shows it again. Task kinds only: the other
kinds' bodies (reports, the digest) are tables, not sentences.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from plan.errors import UserError
from vocabulary import TASK_KINDS

# placeholder -> (the Jinja expression it stands for, what it means)
PLACEHOLDERS: Mapping[str, tuple[str, str]] = {
    "mã nhiệm vụ": ("task.code", "mã nhiệm vụ, ví dụ IV.4"),
    "nội dung": ("task.content", "nội dung nhiệm vụ như trong kế hoạch"),
    "hạn": ('(due|vn_date) if due else "chưa có hạn"', "hạn đang áp dụng (ngày/tháng/năm)"),
    "ngày bắt đầu": ('(task.start|vn_date) if task.start else "—"', "ngày bắt đầu thực hiện"),
    "đơn vị chủ trì": ("task.lead_text", "tên đơn vị chủ trì"),
    "kế hoạch": ("plan", "mã kế hoạch"),
    "văn phòng": ("office.name", "tên Văn phòng Sở"),
    "tháng": ("day|vn_month", "tháng gửi tin (tháng/năm)"),
    "số ngày quá hạn": ("working_days_overdue|default(0)", "số ngày làm việc đã quá hạn"),
}
KINDS: tuple[str, ...] = TASK_KINDS
MARK = "{#- wording: "
_PLACEHOLDER = re.compile(r"\{([^\W\d_][\w ]{0,39})\}")  # a name: letters and spaces
MAX_CHARS = {"subject": 200, "opening": 1000, "closing": 1000}
FIELDS = {"subject": "tiêu đề", "opening": "câu mở đầu", "closing": "câu kết"}


@dataclass(frozen=True)
class Wording:
    subject: str
    opening: str
    closing: str

    def to_json(self) -> str:
        return json.dumps(
            {"subject": self.subject, "opening": self.opening, "closing": self.closing}, ensure_ascii=False
        )


# What the form shows before a clerk saves anything: the built-in messages' sentences, as plain text.
DEFAULTS: Mapping[str, Wording] = {
    "kickoff": Wording(
        "[Nhắc việc] Bắt đầu thực hiện nhiệm vụ {mã nhiệm vụ} (hạn {hạn})",
        "Theo Kế hoạch {kế hoạch}, nhiệm vụ {mã nhiệm vụ} bắt đầu thời gian thực hiện từ {ngày bắt đầu} đến {hạn}. "
        "{văn phòng} xin thông báo để đơn vị chủ động triển khai.",
        "",
    ),
    "reminder": Wording(
        "[Nhắc việc] Nhiệm vụ {mã nhiệm vụ}: hạn {hạn}",
        "{văn phòng} xin nhắc: nhiệm vụ {mã nhiệm vụ} theo Kế hoạch {kế hoạch} có hạn {hạn}.",
        "Đề nghị đơn vị khẩn trương hoàn thành và gửi sản phẩm đúng hạn. Nếu không thể hoàn thành đúng hạn, "
        "xin báo {văn phòng} để trình Lãnh đạo Sở xem xét gia hạn.",
    ),
    "checkin": Wording(
        "[Nhắc việc] Đề nghị cập nhật tiến độ nhiệm vụ {mã nhiệm vụ} tháng {tháng}",
        "Nhiệm vụ {mã nhiệm vụ} là nhiệm vụ thực hiện thường xuyên. Đầu tháng {tháng}, {văn phòng} đề nghị đơn vị "
        "cập nhật tiến độ: kết quả đã đạt được trong tháng trước, việc sẽ làm trong tháng này và khó khăn, "
        "vướng mắc (nếu có).",
        "",
    ),
    "escalation": Wording(
        "[Quá hạn] Nhiệm vụ {mã nhiệm vụ} ({đơn vị chủ trì}) quá hạn {số ngày quá hạn} ngày làm việc",
        "Nhiệm vụ {mã nhiệm vụ} do {đơn vị chủ trì} chủ trì đã quá hạn {số ngày quá hạn} ngày làm việc "
        "(hạn {hạn}) nhưng chưa được báo hoàn thành.",
        "Đề nghị chỉ đạo hoàn thành ngay. Nếu có khó khăn, vướng mắc, xin báo cáo lý do và đề xuất thời hạn mới "
        "qua {văn phòng} để trình Lãnh đạo Sở xem xét.",
    ),
}


def check(wording: Wording) -> dict[str, str]:
    """Each field's problem, in one Vietnamese sentence (empty when the wording can be used)."""
    problems: dict[str, str] = {}
    for name, text in (
        ("subject", wording.subject),
        ("opening", wording.opening),
        ("closing", wording.closing),
    ):
        if not text.strip() and name != "closing":
            problems[name] = f"Cần nhập {FIELDS[name]}."
        elif len(text) > MAX_CHARS[name]:
            problems[name] = (
                f"{FIELDS[name].capitalize()} dài quá {MAX_CHARS[name]} ký tự; hãy viết ngắn lại."
            )
        elif name == "subject" and "\n" in text.strip():
            problems[name] = "Tiêu đề chỉ được một dòng."
        else:
            unknown = [
                m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1).strip() not in PLACEHOLDERS
            ]
            if unknown:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                problems[name] = f"Không có chỗ điền {{{unknown[0]}}}; chỉ dùng được: {known}."
    return problems


def _jinja(text: str, markup: bool) -> str:
    """``text`` as template source: literal everywhere except the placeholders (HTML-escaped if ``markup``)."""
    pieces: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1).strip()
        if name not in PLACEHOLDERS:
            continue
        pieces.append(_literal(text[last : match.start()], markup))
        pieces.append("{{ " + PLACEHOLDERS[name][0] + " }}")
        last = match.end()
    pieces.append(_literal(text[last:], markup))
    return "".join(pieces)


def _literal(text: str, markup: bool) -> str:
    if markup:
        text = html.escape(text, quote=False)
    if not any(token in text for token in ("{{", "{%", "{#", "}}", "%}", "#}")):
        return text
    return "{% raw %}" + text.replace("{% endraw %}", "{ % endraw % }") + "{% endraw %}"


def files(kind: str, wording: Wording) -> dict[str, str]:
    """The override files (``channel/name`` -> source) that say ``wording`` for ``kind`` on every channel."""
    if kind not in KINDS:
        raise UserError(f"Chỉ sửa lời văn được cho thông báo về một nhiệm vụ ({', '.join(KINDS)}).")
    mark = MARK + wording.to_json().replace("#}", "# }") + " -#}\n"
    subject = " ".join(wording.subject.split())
    opening_text, closing_text = (
        _jinja(wording.opening.strip(), False),
        _jinja(wording.closing.strip(), False),
    )
    opening_html, closing_html = _jinja(wording.opening.strip(), True), _jinja(wording.closing.strip(), True)
    para = '<p style="margin:0 0 12px 0;">'
    closing_block = f"{closing_text}\n" if closing_text else ""
    return {
        f"email/{kind}.subject.j2": mark + _jinja(subject, False) + "\n",
        f"email/{kind}.txt.j2": (
            mark
            + '{% extends "email/_layout.txt.j2" %}\n{% import "_text.j2" as t with context %}\n{% block body %}\n'
            + f"{opening_text}\n\n{{{{ t.task_block(task) }}}}\n\n{closing_block}{{{{ t.done_action() }}}}\n"
            + "{% endblock %}\n"
        ),
        f"email/{kind}.html.j2": (
            mark
            + '{% extends "email/_layout.html.j2" %}\n{% import "email/_macros.html.j2" as m with context %}\n'
            + "{% block heading %}{{ kind_label }} {{ task.code }}{% endblock %}\n{% block body %}\n"
            + f"{para}{opening_html}</p>\n{{{{ m.task_table(task) }}}}\n"
            + (f"{para}{closing_html}</p>\n" if closing_html else "")
            + "{{ m.done_action() }}\n{% endblock %}\n"
        ),
        f"telegram/{kind}.html.j2": (
            mark
            + '{% import "telegram/_macros.html.j2" as tg with context %}\n'
            + "<b>{{ kind_label }} {{ task.code }}</b>\n{{ tg.greeting() }}\n\n"
            + f"{opening_html}\n\n{{{{ tg.task_block(task) }}}}\n\n"
            + (f"{closing_html}\n" if closing_html else "")
            + "{{ tg.done_action() }}\n{{ tg.footer() }}\n"
        ),
        f"zalo/{kind}.txt.j2": (
            mark
            + '{% extends "zalo/_layout.txt.j2" %}\n{% import "_text.j2" as t with context %}\n'
            + "{% block title %}{{ kind_label|upper }} {{ task.code }}{% endblock %}\n{% block body %}\n"
            + f"{opening_text}\n\n{{{{ t.task_block(task) }}}}\n\n{closing_block}{{{{ t.done_action() }}}}\n"
            + "{% endblock %}\n"
        ),
    }


def read(source: str) -> Wording | None:
    """The wording a generated file came from (its first line), or None for a file written by hand."""
    if not source.startswith(MARK):
        return None
    line = source.split("\n", 1)[0].removeprefix(MARK).removesuffix(" -#}").replace("# }", "#}")
    try:
        data = json.loads(line)
        return Wording(str(data["subject"]), str(data["opening"]), str(data["closing"]))
    except (ValueError, KeyError, TypeError):
        return None
