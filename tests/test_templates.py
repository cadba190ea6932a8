"""Message templates: every kind on every channel from the planner's real notifications, escaping, channel
limits, ZNS parameters, and admin overrides refused when broken (sandbox, strict variables)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from typer.testing import CliRunner

from config import CONFIG_DIR
from plan.deadline import DeadlineKind
from planner.digest import build_digest
from planner.model import Notification, Recipient, StatusChange, TaskInput
from templates.context import (
    describe_recipient,
    message_context,
    sample_context,
    sample_directory,
    shorten,
    vn_day,
)
from templates.render import (
    TELEGRAM_LIMIT,
    TELEGRAM_TAGS,
    ZALO_LIMIT,
    Renderer,
    TemplateError,
    fit_param,
    length,
    make_environment,
    split_html,
    validate,
)
from tests.support.planning_fixtures import directory, sample_reporting, sample_tasks, simulate, with_changes

YEAR = simulate()
RENDERER = Renderer()
CHANNELS = ("email", "telegram", "zalo")
KINDS = (
    "kickoff",
    "reminder",
    "checkin",
    "escalation",
    "report_request",
    "report_reminder",
    "report_followup",
    "digest",
    "needs_date",
)
LEAKS = re.compile(r"\bNone\b|Undefined|\{\{|\{%|\}\}")


def first(kind: str, task: str | None = None, level: int | None = None) -> Notification:
    return next(
        n
        for n in YEAR
        if n.kind == kind and (task is None or n.task == task) and (level is None or n.level == level)
    )


def context_for(notification: Notification, recipient: Recipient | None = None, **kwargs):  # type: ignore[no-untyped-def]
    recipient = recipient or notification.recipients[0]
    digest = None
    if notification.kind == "digest":
        day = notification.data["day"]
        digest = build_digest(
            sample_tasks(), day, units=notification.data["units"], reporting=(sample_reporting(),)
        )
    return message_context(notification, recipient, directory(), digest=digest, **kwargs)


def render(notification: Notification, channel: str, recipient: Recipient | None = None, **kwargs):  # type: ignore[no-untyped-def]
    return RENDERER.render(notification.kind, channel, context_for(notification, recipient, **kwargs))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(f"{tag}.{name}" for name, _ in attrs)


def tags_of(markup: str) -> Tags:
    parser = Tags()
    parser.feed(markup)
    parser.close()
    return parser


def body(rendered, channel: str) -> str:  # type: ignore[no-untyped-def]
    return rendered.html if channel == "telegram" else rendered.text


# -- every kind, every channel, from real notifications -------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_on_every_channel_from_the_sample_year(kind: str, channel: str) -> None:
    notification = first(kind)
    rendered = render(notification, channel)
    text = body(rendered, channel)
    assert "Kính gửi: " in text
    assert rendered.subject and "\n" not in rendered.subject
    assert "Văn phòng Sở" in text  # whom to contact
    task = notification.data.get("task")
    if task is not None:
        assert task.code in rendered.subject and task.code in text
        assert f'"{task.deadline_text}"' in text.replace("&#34;", '"')
    if channel == "email":
        assert rendered.html is not None and "Kính gửi: <b>" in rendered.html
        assert rendered.html.startswith("<!DOCTYPE html>") and "<style" not in rendered.html
    if channel == "telegram":
        assert length(rendered.html) <= TELEGRAM_LIMIT
        parsed = tags_of(rendered.html)
        assert set(parsed.tags) <= TELEGRAM_TAGS
        assert parsed.attributes <= {"a.href"}
        assert "<" not in rendered.text  # the plain copy
    if channel == "zalo":
        assert length(rendered.text) <= ZALO_LIMIT and "<" not in rendered.text


def test_a_reminder_says_what_who_when_and_how_many_working_days_are_left() -> None:
    notification = first("reminder", "IV.4")
    assert notification.at.date() == date(2020, 11, 10)
    rendered = render(notification, "email")
    assert rendered.subject == "[Nhắc việc] Nhiệm vụ IV.4 còn 14 ngày làm việc đến hạn 30/11/2020"
    text = rendered.text
    assert text.startswith("Kính gửi: Phòng Tổ chức cán bộ\n")
    assert "Còn 14 ngày làm việc (20 ngày) đến hạn Thứ Hai, 30/11/2020." in text
    assert (
        "Nhiệm vụ IV.4: Tổ chức thực hiện các lớp đào tạo, bồi dưỡng cán bộ, công chức năm 2020 "
        "theo kế hoạch của UBND tỉnh, Sở GD&ĐT." in text
    )
    assert "Sản phẩm: Kế hoạch triển khai; Báo cáo kết quả thực hiện\n" in text
    assert "Chủ trì: Phòng Tổ chức cán bộ\n" in text
    assert "Phối hợp: Các phòng chuyên môn, nghiệp vụ Sở; Các đơn vị, trường học trực thuộc\n" in text
    assert 'Hạn: 30/11/2020 (theo kế hoạch: "Trước tháng 12/2020")' in text
    assert "Khi hoàn thành, trả lời /xong IV.4 trên Telegram hoặc báo Văn phòng Sở." in text
    assert "Mọi vướng mắc xin liên hệ Văn phòng Sở (email van-phong@nhacviec.example" in text
    cc = next(r for r in notification.recipients if r.role == "cc")
    assert "(Gửi để biết và phối hợp theo dõi.)" in render(notification, "email", cc).text


def test_escalation_wording_rises_with_the_level() -> None:
    level1 = render(first("escalation", "IV.4", 1), "email")
    assert level1.subject == "[Quá hạn] Nhiệm vụ IV.4 (Phòng Tổ chức cán bộ) quá hạn 1 ngày làm việc"
    assert level1.text.startswith("Kính gửi: Đồng chí Hoàng Văn E, Trưởng phòng Tổ chức cán bộ\n")
    assert "đã quá hạn 1 ngày làm việc (1 ngày, hạn 30/11/2020)" in level1.text
    assert "Đề nghị đồng chí chỉ đạo hoàn thành ngay" in level1.text

    level2 = render(first("escalation", "IV.4", 2), "email")
    assert level2.subject.startswith("[Quá hạn - báo cáo Phó Giám đốc phụ trách] Nhiệm vụ IV.4")
    assert level2.text.startswith("Kính gửi: Đồng chí Trần Thị B, Phó Giám đốc Sở\n")
    assert (
        "(đơn vị đồng chí phụ trách)" in level2.text and "đã quá hạn 5 ngày làm việc (7 ngày" in level2.text
    )

    repeats = [n for n in YEAR if n.kind == "escalation" and n.task == "IV.4" and n.level == 3]
    assert [n.at.date() for n in repeats] == [date(2020, 12, 14), date(2020, 12, 21), date(2020, 12, 28)]
    top = render(repeats[0], "email")
    assert top.text.startswith("Kính gửi: Đồng chí Nguyễn Văn A, Giám đốc Sở\n")
    assert "Kính đề nghị Giám đốc Sở chỉ đạo." in top.text and "nhắc lại" not in top.subject
    again = render(repeats[1], "telegram")
    assert "báo cáo Giám đốc Sở" in again.html and "nhắc lại lần 1" in again.html


def test_an_extended_task_shows_the_new_date_and_the_plans_own() -> None:
    extended = simulate(with_changes("IV.4", StatusChange(date(2020, 12, 3), "extended", date(2020, 12, 18))))
    notification = next(
        n for n in extended if n.kind == "reminder" and n.task == "IV.4" and n.data["due"].day == 18
    )
    text = render(notification, "email").text
    assert (
        'Hạn: 18/12/2020 (đã gia hạn, hạn ban đầu 30/11/2020; theo kế hoạch: "Trước tháng 12/2020")' in text
    )


def test_report_messages_name_the_period_its_cutoff_and_the_units_still_owing() -> None:
    followup = first("report_followup")
    assert followup.period == "2020-Q1"
    rendered = render(followup, "email")
    assert rendered.subject == (
        "[Báo cáo định kỳ] Chưa nhận được Báo cáo quý I năm 2020 (đã qua ngày chốt số liệu 14/03/2020)"
    )
    assert "Đã qua ngày chốt số liệu của Báo cáo quý I năm 2020 (Thứ Bảy, 14/03/2020)" in rendered.text
    assert (
        "chưa nhận được báo cáo của: Các phòng chuyên môn, nghiệp vụ Sở; Các đơn vị, trường học trực thuộc"
        in rendered.text
    )
    merged = next(n for n in YEAR if n.kind == "report_request" and n.period == "2020-H1")
    text = render(merged, "zalo").text
    assert "Báo cáo: Báo cáo 6 tháng đầu năm 2020 (gồm cả Báo cáo quý II năm 2020)" in text
    assert "Kỳ báo cáo: từ 15/12/2019 đến 14/06/2020" in text


def test_needs_date_lists_the_tasks_without_a_date_with_the_plans_phrase() -> None:
    text = render(first("needs_date"), "email").text
    assert "Nhiệm vụ II.2: Rà soát và đề xuất phương án đơn giản hóa TTHC" in text
    assert 'Hạn: chưa xác định (theo kế hoạch: "Theo Kế hoạch")' in text
    assert "Nhiệm vụ IV.8:" in text and "nhacviec tasks set-due" in text


# -- escaping, links ---------------------------------------------------------------------------------------

NASTY = 'Rà soát <script>alert("x")</script> & cập nhật'


def nasty_reminder() -> Notification:
    notification = first("reminder", "IV.4")
    task = replace(notification.data["task"], content=NASTY)
    return replace(notification, data={**notification.data, "task": task})


def test_task_text_is_escaped_in_html_and_kept_literal_in_text() -> None:
    notification = nasty_reminder()
    email = render(notification, "email")
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "&amp; cập nhật" in email.html
    assert NASTY in email.text
    telegram = render(notification, "telegram")
    assert (
        "<script>" not in telegram.html
        and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; cập nhật" in (telegram.html)
    )
    assert set(tags_of(telegram.html).tags) <= TELEGRAM_TAGS
    assert NASTY in telegram.text
    assert NASTY in render(notification, "zalo").text


def test_the_done_link_is_a_button_when_given_and_absent_otherwise() -> None:
    url = "https://nhacviec.example/xong/IV.4?sig=ab&exp=1"
    notification = first("reminder", "IV.4")
    email = render(notification, "email", links={"done_url": url})
    assert 'href="https://nhacviec.example/xong/IV.4?sig=ab&amp;exp=1"' in email.html
    assert ">Đã hoàn thành</a>" in email.html
    assert f'bấm "Đã hoàn thành":\n{url}' in email.text
    telegram = render(notification, "telegram", links={"done_url": url})
    assert '<a href="https://nhacviec.example/xong/IV.4?sig=ab&amp;exp=1">Đã hoàn thành</a>' in telegram.html
    without = render(notification, "telegram", links={"done_url": None})
    assert "href" not in without.html and "<code>/xong IV.4</code> hoặc báo Văn phòng Sở." in without.html


# -- channel limits ------------------------------------------------------------------------------------


def undated_task(number: int) -> TaskInput:
    return TaskInput(
        plan="CCHC-2020",
        code=f"IX.{number}",
        section="IX",
        content=f"Nhiệm vụ bổ sung số {number}: " + "rà soát, cập nhật và báo cáo kết quả thực hiện " * 3,
        deadline_text="Theo Kế hoạch",
        kind=DeadlineKind.UNSCHEDULED,
        start=None,
        due=None,
        occurrences=(),
        lead=("VP",),
        coordinating=("PCMNV",),
    )


def test_long_lists_are_shortened_to_fit_telegram_and_zalo() -> None:
    notification = first("needs_date")
    many = replace(notification, data={**notification.data, "tasks": [undated_task(n) for n in range(1, 61)]})
    telegram = render(many, "telegram")
    shown = telegram.html.count("• <b>IX.")
    assert length(telegram.html) <= TELEGRAM_LIMIT and 0 < shown < 60
    assert f"… và {60 - shown} nhiệm vụ khác" in telegram.html
    assert "telegram_parts" not in telegram.extra
    zalo = render(many, "zalo")
    listed = zalo.text.count("\n- IX.")
    assert length(zalo.text) <= ZALO_LIMIT and f"… và {60 - listed} nhiệm vụ khác" in zalo.text
    assert render(many, "email").text.count("Nhiệm vụ IX.") == 60  # email keeps everything


def test_a_message_too_long_even_when_shortened_is_split_for_telegram_and_cut_for_zalo() -> None:
    notification = first("reminder", "IV.4")
    long_task = replace(notification.data["task"], content="Nội dung rất dài & chi tiết. " * 300)
    long = replace(notification, data={**notification.data, "task": long_task})
    telegram = render(long, "telegram")
    parts = telegram.extra["telegram_parts"]
    assert len(parts) >= 3 and telegram.html == parts[0]
    for part in parts:
        parsed = tags_of(part)
        assert length(part) <= TELEGRAM_LIMIT
        assert part.count("<b>") == part.count("</b>") and part.count("<i>") == part.count("</i>")
        assert set(parsed.tags) <= TELEGRAM_TAGS
    assert re.sub(r"\s", "", "".join(parts)).count("chitiết.") == 300  # nothing lost across the parts
    zalo = render(long, "zalo")
    assert length(zalo.text) <= ZALO_LIMIT and zalo.text.endswith("\n…")


def test_split_html_reopens_a_tag_cut_across_parts() -> None:
    markup = "<b>" + "\n".join(f"dòng {n}" for n in range(200)) + "</b>"
    parts = split_html(markup, 300)
    assert len(parts) > 1
    assert all(part.startswith("<b>") and part.endswith("</b>") and len(part) <= 300 for part in parts)


# -- ZNS ---------------------------------------------------------------------------------------------------


def test_zns_parameters_are_strings_named_as_configured(tmp_path: Path) -> None:
    zns = tmp_path / "zns.yaml"
    zns.write_text(
        "reminder:\n"
        "  template_id: 246810\n"
        "  params:\n"
        "    ma_nhiem_vu: {path: task.code, type: code}\n"
        "    han: {path: due, type: time}\n"
        "    so_ngay: {path: working_days_left, type: amount}\n"
        "    don_vi: {path: recipient.name, type: customer_name}\n"
        "    noi_dung: {path: task.content, type: custom_label}\n",
        encoding="utf-8",
    )
    rendered = Renderer(zns_file=zns).render("reminder", "zns", context_for(first("reminder", "IV.4")))
    assert rendered.extra["zns"] == {
        "template_id": "246810",
        "template_data": {
            "ma_nhiem_vu": "IV.4",
            "han": "30/11/2020",
            "so_ngay": "14",
            "don_vi": "Phòng Tổ chức cán bộ",
            "noi_dung": "Tổ chức thực hiện các lớp đào…",  # 30 characters, custom_label
        },
    }
    assert "IV.4" in rendered.text  # the Zalo text goes along, for an OA fallback
    with pytest.raises(TemplateError, match="Chưa có mẫu ZNS cho loại thông báo 'kickoff'"):
        Renderer(zns_file=zns).render("kickoff", "zns", context_for(first("kickoff")))


def test_a_zns_parameter_pointing_nowhere_is_refused_with_the_file_and_parameter(tmp_path: Path) -> None:
    zns = tmp_path / "zns.yaml"
    zns.write_text(
        "escalation:\n  template_id: '1'\n  params:\n    han: {path: task.hạn_chót, type: time}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError) as error:
        Renderer(zns_file=zns)
    assert str(zns) in str(error.value) and "tham số 'han'" in str(error.value)
    assert "hạn_chót" in str(error.value)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("task.code", "cần 'type'"),  # every parameter names its registered type (its limit)
        ("{path: task.code, type: ten_tu_dat}", "cần 'type'"),
        ("{path: due, type: gender}", "không rút gọn được"),  # a date in a 5-character type is never cut
        ("{path: task.content, type: time}", "không đúng dạng"),  # text where Zalo wants a date
        ("{path: days_overdue, type: otp}", None),  # a number fits an OTP's 10 characters
    ],
)
def test_a_zns_parameter_whose_data_cannot_fit_its_type_is_refused_at_start(
    tmp_path: Path, spec: str, says: str | None
) -> None:
    zns = tmp_path / "zns.yaml"
    zns.write_text(f"escalation:\n  template_id: '1'\n  params:\n    p: {spec}\n", encoding="utf-8")
    if says is None:
        Renderer(zns_file=zns)
        return
    with pytest.raises(TemplateError) as error:
        Renderer(zns_file=zns)
    assert "tham số 'p'" in str(error.value) and says in str(error.value)


def test_a_date_in_a_type_of_another_format_is_refused(tmp_path: Path) -> None:
    zns = tmp_path / "zns.yaml"
    zns.write_text(
        "escalation:\n  template_id: '1'\n  params:\n    p: {path: due, type: otp}\n", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match="không đúng dạng của loại 'otp'"):
        Renderer(zns_file=zns)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Phòng Giáo dục Mầm non và Giáo dục Tiểu học", 30, "Phòng Giáo dục Mầm non và…"),
        ("Ngắn", 30, "Ngắn"),
        ("  nhiều   khoảng   trắng  ", 30, "nhiều khoảng trắng"),
        ("Chuyên-đề-bồi-dưỡng-nghiệp-vụ-quản-lý", 10, "Chuyên-đề…"),  # one long word: cut inside it
        ("II.4.b, II.4.c và IV.1", 12, "II.4.b…"),  # no dangling comma
    ],
)
def test_zns_values_are_shortened_at_a_word_boundary(text: str, limit: int, expected: str) -> None:
    assert fit_param(text, limit) == expected
    assert len(fit_param(text, limit)) <= limit


def test_a_decomposed_vietnamese_name_is_never_cut_between_a_letter_and_its_accent() -> None:
    decomposed = unicodedata.normalize(
        "NFD", "Trường THPT chuyên Hoàng Văn Thụ"
    )  # as some Word files store it
    assert len(decomposed) > len("Trường THPT chuyên Hoàng Văn Thụ")

    for limit in range(2, 33):
        fitted = fit_param(decomposed, limit)
        assert len(fitted) <= limit
        assert fitted == unicodedata.normalize("NFC", fitted)
        assert not unicodedata.combining(fitted[0])
        assert unicodedata.normalize("NFC", "Trường THPT chuyên Hoàng Văn Thụ").startswith(fitted.rstrip("…"))


def test_the_shipped_zns_file_uses_only_context_paths() -> None:
    renderer = Renderer(zns_file=CONFIG_DIR / "zns.yaml")
    for kind in KINDS:
        data = renderer.render(kind, "zns", context_for(first(kind))).extra["zns"]["template_data"]
        assert data and all(isinstance(value, str) and value for value in data.values()), (kind, data)


# -- overrides -----------------------------------------------------------------------------------------


def override(root: Path, relative: str, text: str) -> Path:
    file = root / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return file


def test_an_override_with_an_undefined_variable_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    override(tmp_path, "email/reminder.txt.j2", "Kính gửi: {{ recipient.addressee }}\n{{ khong_co }}\n")
    with pytest.raises(TemplateError) as error:
        Renderer(overrides_dir=tmp_path)
    message = str(error.value)
    assert f"{tmp_path / 'email/reminder.txt.j2'}, dòng 2: biến 'khong_co' không có" in message


def test_an_override_with_a_syntax_error_is_refused(tmp_path: Path) -> None:
    override(tmp_path, "telegram/kickoff.html.j2", "<b>{{ task.code }</b>\n")
    problems = validate(tmp_path)
    assert [(p.path, p.line) for p in problems] == [(tmp_path / "telegram/kickoff.html.j2", 1)]
    assert problems[0].message.startswith("lỗi cú pháp Jinja")
    with pytest.raises(TemplateError, match=r"kickoff\.html\.j2"):
        Renderer(overrides_dir=tmp_path)


def test_the_sandbox_refuses_reaching_python_internals(tmp_path: Path) -> None:
    override(tmp_path, "email/checkin.html.j2", "<p>x</p>\n{{ ''.__class__.__mro__ }}\n")
    override(tmp_path, "zalo/digest.txt.j2", "{{ digest.counts.__class__.__init__.__globals__ }}\n")
    problems = validate(tmp_path)
    assert [(p.path.name, p.line) for p in problems] == [("checkin.html.j2", 2), ("digest.txt.j2", 1)]
    assert all("không an toàn" in p.message for p in problems)


def test_overrides_are_checked_for_channel_rules_and_unknown_names(tmp_path: Path) -> None:
    override(tmp_path, "telegram/reminder.html.j2", "<p>{{ task.code }}</p>\n")
    override(
        tmp_path,
        "telegram/escalation.html.j2",
        "{% for i in range(3000) %}<b>{{ task.code }}</b>\n{% endfor %}",
    )
    override(tmp_path, "email/remider.txt.j2", "{{ task.code }}\n")
    messages = {p.path.name: p.message for p in validate(tmp_path)}
    assert "thẻ <p>" in messages["reminder.html.j2"]
    assert "vượt giới hạn 4096" in messages["escalation.html.j2"]
    assert "không có mẫu gốc nào cùng tên" in messages["remider.txt.j2"]


def test_a_broken_shared_partial_is_reported_once_under_its_own_name(tmp_path: Path) -> None:
    override(tmp_path, "_text.j2", "{% macro greeting() %}{{ recipient.chuc_vu }}{% endmacro %}\n")
    problems = validate(tmp_path)
    assert len(problems) == 1 and problems[0].path == tmp_path / "_text.j2"
    assert "'chuc_vu'" in problems[0].message


def test_an_admins_own_partial_is_checked_through_the_templates_that_include_it(tmp_path: Path) -> None:
    override(tmp_path, "email/_chu_ky.txt.j2", "{{ office.ten_goi }}\n")
    override(
        tmp_path,
        "email/kickoff.txt.j2",
        "Kính gửi: {{ recipient.addressee }}\n{% include 'email/_chu_ky.txt.j2' %}\n",
    )
    problems = validate(tmp_path)
    assert [p.path.name for p in problems] == ["kickoff.txt.j2"]
    assert "'ten_goi'" in problems[0].message and "_chu_ky.txt.j2" in problems[0].message


def test_a_valid_override_takes_precedence_and_is_listed(tmp_path: Path) -> None:
    override(tmp_path, "email/reminder.subject.j2", "Nhắc hạn {{ task.code }} ({{ due|vn_date }})\n")
    override(tmp_path, "telegram/reminder.html.j2", "<b>{{ task.code }}</b> hạn {{ due|vn_day }}\n")
    renderer = Renderer(overrides_dir=tmp_path)
    notification = first("reminder", "IV.4")
    context = context_for(notification)
    assert renderer.render("reminder", "email", context).subject == "Nhắc hạn IV.4 (30/11/2020)"
    assert renderer.render("reminder", "telegram", context).html == "<b>IV.4</b> hạn Thứ Hai, 30/11/2020"
    assert "Kính gửi" in renderer.render("reminder", "email", context).text  # other parts stay built in
    sources = {(t.kind, t.channel, t.path.name): t.source for t in renderer.templates()}
    assert sources[("reminder", "email", "reminder.subject.j2")] == "override"
    assert sources[("reminder", "email", "reminder.txt.j2")] == "builtin"


def test_a_missing_override_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="thư mục mẫu không tồn tại"):
        Renderer(overrides_dir=tmp_path / "khong-co")


# -- strictness of the built-in templates ----------------------------------------------------------------


def test_rendering_runs_in_a_strict_sandbox() -> None:
    env = make_environment()
    assert isinstance(env, SandboxedEnvironment) and env.undefined is StrictUndefined
    assert env.autoescape("email/reminder.html.j2") and env.autoescape("telegram/reminder.html.j2")
    assert not env.autoescape("email/reminder.txt.j2") and not env.autoescape("zalo/reminder.txt.j2")


def test_builtin_templates_leak_no_blank_none_or_template_syntax() -> None:
    chosen = []
    for kind in KINDS:
        of_kind = [n for n in YEAR if n.kind == kind]
        chosen += [of_kind[0], of_kind[-1]]
    chosen += [first("escalation", level=level) for level in (2, 3)]
    for notification in chosen:
        for recipient in {(r.code, r.role): r for r in notification.recipients}.values():
            for channel in CHANNELS:
                rendered = render(notification, channel, recipient)
                for part in (rendered.subject, rendered.text, rendered.html or ""):
                    assert not LEAKS.search(part), (notification.key, recipient, channel, part)
    assert validate(Path(__file__).resolve().parents[1] / "templates") == []


def test_sample_contexts_render_every_kind_on_every_channel() -> None:
    for kind in KINDS:
        for channel in CHANNELS:
            rendered = RENDERER.render(kind, channel, sample_context(kind, channel))
            assert "Kính gửi: " in body(rendered, channel) and not LEAKS.search(body(rendered, channel))


# -- context ------------------------------------------------------------------------------------------------


def test_recipients_are_addressed_by_name_and_title() -> None:
    units = directory()
    assert describe_recipient("TCCB.head", "to", units)["addressee"] == (
        "Đồng chí Hoàng Văn E, Trưởng phòng Tổ chức cán bộ"
    )
    assert describe_recipient("VP.head", "cc", units)["title"] == "Chánh Văn phòng Sở"
    assert describe_recipient("TTRA.head", "to", units)["title"] == "Chánh Thanh tra Sở"
    assert describe_recipient("LDS.head", "to", units)["addressee"] == "Đồng chí Nguyễn Văn A, Giám đốc Sở"
    assert describe_recipient("PGD2", "to", units)["name"] == "Lê Văn C"
    assert describe_recipient("DVTH", "to", units)["addressee"] == "Các đơn vị, trường học trực thuộc"
    assert describe_recipient("TCCB.head", "to", sample_directory())["name"] == "Hoàng Văn E"


def test_dates_and_shortening_read_the_vietnamese_way() -> None:
    assert vn_day(date(2020, 11, 30)) == "Thứ Hai, 30/11/2020"
    assert vn_day(date(2020, 12, 6)) == "Chủ nhật, 06/12/2020"
    assert shorten("Xây dựng Kế hoạch đào tạo, bồi dưỡng cán bộ", 25) == "Xây dựng Kế hoạch đào…"
    assert shorten("Ngắn", 25) == "Ngắn"


# -- the command ------------------------------------------------------------------------------------------


def invoke(*args: str):  # type: ignore[no-untyped-def]
    from cli.templates import app

    return CliRunner().invoke(app, list(args))


def test_cli_validate_lists_problems_and_exits_1(tmp_path: Path) -> None:
    override(tmp_path, "zalo/reminder.txt.j2", "{{ task.code }\n")
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 1
    assert "reminder.txt.j2" in result.output and "lỗi cú pháp" in result.output
    ok = invoke("validate")
    assert ok.exit_code == 0 and "đều hợp lệ" in ok.output


def test_cli_preview_renders_the_sample_and_a_real_task(run_cli) -> None:  # type: ignore[no-untyped-def]
    sample = invoke("preview", "reminder", "--channel", "telegram")
    assert sample.exit_code == 0 and "<b>Nhắc hạn nhiệm vụ IV.4</b>" in sample.output
    assert run_cli("init").exit_code == 0
    real = invoke("preview", "escalation", "--task", "iv.4", "--at", "05/12/2020")
    assert real.exit_code == 0, real.output
    assert "Tiêu đề: [Quá hạn - báo cáo Phó Giám đốc phụ trách] Nhiệm vụ IV.4" in real.output
    assert "Kính gửi: Đồng chí Trần Thị B, Phó Giám đốc Sở" in real.output
    missing = invoke("preview", "kickoff", "--task", "IV.4")
    assert missing.exit_code == 1 and "Không có thông báo loại 'kickoff'" in str(missing.exception)


def test_a_reminder_for_an_overdue_task_says_it_is_overdue_on_every_channel() -> None:
    from datetime import date

    from delivery.manual import reminder_notifications
    from planner.calendar import WorkingCalendar  # noqa: F401  (the calendar fixture's type)
    from templates.context import message_context
    from templates.render import Renderer
    from tests.support.planning_fixtures import calendar, default_rules, directory, sample_tasks

    rule = next(r for r in default_rules() if r.id == "reminder")
    task = next(t for t in sample_tasks() if t.code == "IV.4")
    moment = calendar().at_send_time(date(2020, 12, 3))
    [notification] = reminder_notifications([task], rule, directory(), calendar(), moment)
    renderer = Renderer()
    for recipient in notification.recipients[:2]:  # email and telegram to TCCB
        rendered = renderer.render(
            "reminder", str(recipient.channel), message_context(notification, recipient, directory())
        )
        text = (rendered.subject or "") + (rendered.text or "") + (rendered.html or "")
        assert "quá hạn 3 ngày làm việc" in text
        assert "Còn -" not in text and "còn -" not in text
