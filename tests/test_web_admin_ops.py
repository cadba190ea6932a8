"""The admin's operations pages: the outbox and its retries, manual sends, the unit directory, plan import."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store import outbox
from store.db import session_scope
from store.models import EventKind, OutboxMessage, OutboxStatus, Plan, Task, TaskEvent
from store.users import add_user
from tests.support.smtp_server import running_smtp_server
from tests.support.web_pages import (
    BAD_CSV,
    CLEAN_CSV,
    FAST,
    HEADER,
    PASSWORD,
    UNKNOWN_UNIT_CSV,
    client_for,
    csrf_of,
    text_of,
)
from web.routes import manual, plan_import, units
from web.routes import outbox as outbox_routes


@pytest.fixture
def engine(web_engine: Engine) -> Engine:
    """The sample plan with I.1 and IV.4 done, an admin and a TCCB account (tests/support/web_pages.py)."""
    return web_engine


DEAD_KEY = "reminder/CCHC-2020:IV.3/2020-11-20|TCCB|email"


def client(engine: Engine, who: str | None = "chanh.vp") -> TestClient:
    """A client signed in as ``who`` (None: anonymous)."""
    return client_for(engine, who)


@pytest.fixture
def viewer(engine: Engine) -> Engine:
    with session_scope(engine) as db:
        add_user(db, "xem", PASSWORD, "viewer", hasher=FAST)
    return engine


def _dead_letter(engine: Engine) -> None:
    at = datetime(2020, 11, 20, 0, 30, tzinfo=UTC)
    row = {
        "key": DEAD_KEY,
        "notification_key": DEAD_KEY.split("|")[0],
        "kind": "reminder",
        "rule": "reminder",
        "plan": "CCHC-2020",
        "task": "IV.3",
        "channel": "email",
        "recipient": "TCCB",
        "recipient_name": "Phòng Tổ chức cán bộ",
        "address": "tccb@nhacviec.example",
        "subject": "[Nhắc việc] Nhiệm vụ IV.3",
        "body_text": "Nội dung",
        "status": OutboxStatus.PENDING,
        "due_at": at,
        "next_attempt_at": at,
        "extra": {},
    }
    with session_scope(engine) as db:
        assert outbox.enqueue(db, [outbox.NewMessage.single(row)]) == 1
        message = db.exec(select(OutboxMessage).where(OutboxMessage.key == DEAD_KEY)).one()
        message.status = OutboxStatus.DEAD
        message.attempts = 5
        message.last_error = "421 máy chủ thư bận, đã thử 5 lần"
        db.add(message)


def _status(engine: Engine, key: str) -> str:
    with session_scope(engine) as db:
        return db.exec(select(OutboxMessage.status).where(OutboxMessage.key == key)).one()


def _outbox_size(engine: Engine) -> int:
    with session_scope(engine) as db:
        return len(outbox.list_messages(db))


# --- outbox --------------------------------------------------------------------------------------


def test_outbox_lists_a_dead_lettered_message_with_its_error_and_retry_puts_it_back_to_pending(
    engine: Engine,
) -> None:
    _dead_letter(engine)
    admin = client(engine)
    page = admin.get("/outbox?status=dead")
    assert page.status_code == 200
    row = re.search(
        rf'<tr data-key="{re.escape(DEAD_KEY)}" data-status="dead">.*?</tr>', page.text, re.DOTALL
    )
    assert row is not None
    assert "421 máy chủ thư bận, đã thử 5 lần" in text_of(row.group())
    assert "Hết lượt thử: 1" in text_of(page.text)
    form = {"csrf": csrf_of(admin, "/outbox"), "key": DEAD_KEY}
    response = admin.post("/outbox/retry", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/outbox?ok=one"
    assert _status(engine, DEAD_KEY) == OutboxStatus.PENDING
    assert "Đã đưa tin trở lại hàng chờ gửi." in admin.get("/outbox?ok=one").text


def test_retry_all_requeues_every_failed_and_dead_message(engine: Engine) -> None:
    _dead_letter(engine)
    admin = client(engine)
    response = admin.post("/outbox/retry-all", data={"csrf": csrf_of(admin, "/outbox")})
    assert response.headers["location"] == "/outbox?ok=all"
    assert _status(engine, DEAD_KEY) == OutboxStatus.PENDING


# --- manual sends --------------------------------------------------------------------------------


def test_manual_remind_preview_shows_recipients_and_the_text_and_sends_nothing(engine: Engine) -> None:
    admin = client(engine)
    form = {"csrf": csrf_of(admin, "/manual"), "kind": "remind", "task": "VII.6"}
    page = admin.post("/manual/preview", data=form)
    assert page.status_code == 200, text_of(page.text)
    recipients = re.findall(r'<tr data-recipient="([^"]+)" data-channel="(\w+)">', page.text)
    assert ("VP", "email") in recipients
    shown = text_of(page.text)
    assert "van-phong@nhacviec.example" in shown
    assert "Nhiệm vụ VII.6" in shown and "Nội dung tin đầu tiên" in shown
    assert 'action="/manual/send"' in page.text
    assert _outbox_size(engine) == 0


def test_manual_remind_confirm_sends_the_reminder_through_a_real_smtp_server(
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_smtp_server() as server:
        monkeypatch.setenv("NHACVIEC_SMTP_HOST", server.host)
        monkeypatch.setenv("NHACVIEC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("NHACVIEC_SMTP_TLS", "none")
        admin = client(engine)
        form = {"csrf": csrf_of(admin, "/manual"), "kind": "remind", "task": "VII.6"}
        page = admin.post("/manual/send", data=form)
        assert page.status_code == 200, text_of(page.text)
        received = list(server.messages)
    addresses = {r for m in received for r in m.recipients}
    assert "van-phong@nhacviec.example" in addresses
    assert {str(m.message["X-Nhacviec-Key"]).split("|")[0] for m in received} == {
        "manual/remind/CCHC-2020:VII.6/2020-11-25"
    }
    assert "đã gửi" in text_of(page.text)
    with session_scope(engine) as db:
        emails = [m for m in outbox.list_messages(db) if m.channel == "email"]
    assert emails and {m.status for m in emails} == {OutboxStatus.SENT}


def test_manual_remind_of_an_unknown_task_is_refused_beside_the_form(engine: Engine) -> None:
    admin = client(engine)
    form = {"csrf": csrf_of(admin, "/manual"), "kind": "remind", "task": "XX.9"}
    page = admin.post("/manual/preview", data=form)
    assert page.status_code == 400
    assert "Không có nhiệm vụ mã 'XX.9'" in text_of(page.text)


# --- units ---------------------------------------------------------------------------------------


def test_units_page_lists_the_office_with_its_email_and_telegram_chats(viewer: Engine) -> None:
    page = client(viewer, "xem").get("/units")
    assert page.status_code == 200
    row = re.search(r'<tr data-unit="VP">.*?</tr>', page.text, re.DOTALL)
    assert row is not None
    shown = text_of(row.group())
    assert "Văn phòng Sở" in shown and "van-phong@nhacviec.example" in shown
    assert "Đơn vị: -1001000000001" in shown and "Trưởng đơn vị: -1001000000201" in shown


def test_a_unit_account_cannot_see_the_units_page(engine: Engine) -> None:
    assert client(engine, "tccb").get("/units").status_code == 403


# --- plan import ---------------------------------------------------------------------------------


def _upload(admin: TestClient, text: str, name: str = "ke-hoach-2021.csv") -> str:
    data = {"csrf": csrf_of(admin, "/import"), "year": "2021", "plan": "KT-2021"}
    files = {"file": (name, text.encode("utf-8"), "text/csv")}
    page = admin.post("/import", data=data, files=files)
    assert page.status_code == 200, text_of(page.text)
    return page.text


def _plan_tasks(engine: Engine) -> list[str]:
    with session_scope(engine) as db:
        plan = db.exec(select(Plan).where(Plan.code == "KT-2021")).first()
        if plan is None:
            return []
        return sorted(t.code for t in db.exec(select(Task).where(Task.plan_id == plan.id)))


def test_import_of_a_csv_with_a_problem_shows_the_row_and_cannot_be_confirmed(engine: Engine) -> None:
    admin = client(engine)
    page = _upload(admin, BAD_CSV)
    problem = re.search(r'<tr class="problem" data-row="4">.*?</tr>', page, re.DOTALL)
    assert problem is not None
    assert "Không hiểu thời hạn: “Lúc nào tiện”" in text_of(problem.group())
    assert 'action="/import/confirm"' not in page
    forged = admin.post(
        "/import/confirm", data={"csrf": csrf_of(admin, "/import"), "token": "x" * 43, "year": "2021"}
    )
    assert forged.status_code == 404
    assert _plan_tasks(engine) == []


def test_an_unknown_unit_is_kept_as_written_suggested_and_added_when_the_admin_chooses(
    engine: Engine,
) -> None:
    admin = client(engine)
    page = _upload(admin, UNKNOWN_UNIT_CSV)
    named = [text_of(m) for m in re.findall(r'<li class="unknown-unit"[^>]*>.*?</li>', page, re.DOTALL)]
    assert named == ["Chưa có đơn vị 'Phòng Vũ trụ' trong danh bạ (nhiệm vụ I.1); nhiệm vụ vẫn được nhập, "
                     "hãy thêm đơn vị vào danh bạ ('plan import --add-units' hoặc 'units add')."]  # fmt: skip
    assert "Phòng Vũ trụ (chưa có trong danh bạ)" in text_of(page)
    assert "TCCB" in text_of(re.search(r'<tr data-code="I.2">.*?</tr>', page, re.DOTALL).group())  # type: ignore[union-attr]
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None and 'name="add_units"' in page  # not a problem: it can be imported
    form = {"csrf": csrf_of(admin, "/import"), "token": token.group(1), "year": "2021", "plan": "KT-2021"}
    done = admin.post("/import/confirm", data={**form, "add_units": "1"})
    assert done.status_code == 200, text_of(done.text)
    assert "Đã thêm vào danh bạ: Phòng Vũ trụ (VT)" in text_of(done.text)
    assert _plan_tasks(engine) == ["I.1", "I.2"]
    with session_scope(engine) as db:
        problems = [p.message for p in outbox.config_problems(db)]
    assert any("'Phòng Vũ trụ' (VT)" in message and "chưa có địa chỉ" in message for message in problems)
    units_page = text_of(admin.get("/units").text)
    assert "Phòng Vũ trụ" in units_page


def test_import_of_a_clean_csv_previews_then_imports_on_confirmation(engine: Engine) -> None:
    admin = client(engine)
    page = _upload(admin, CLEAN_CSV)
    assert re.findall(r'<tr data-code="([^"]+)">', page) == ["I.1", "I.2"]
    assert _plan_tasks(engine) == []
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf": csrf_of(admin, "/import"), "token": token.group(1), "year": "2021", "plan": "KT-2021"}
    done = admin.post("/import/confirm", data=form)
    assert done.status_code == 200, text_of(done.text)
    assert "2 mới, 0 cập nhật" in text_of(done.text)
    assert _plan_tasks(engine) == ["I.1", "I.2"]
    with session_scope(engine) as db:
        created = db.exec(
            select(TaskEvent.actor, TaskEvent.via)
            .join(Task, col(Task.id) == TaskEvent.task_id)
            .join(Plan, col(Plan.id) == Task.plan_id)
            .where(Plan.code == "KT-2021", TaskEvent.kind == EventKind.CREATED)
        ).all()
    assert sorted(created) == [("chanh.vp", "web"), ("chanh.vp", "web")]
    again = admin.post("/import/confirm", data=form)  # the uploaded file is gone once imported
    assert again.status_code == 404


def test_a_revised_plan_shows_its_diff_and_asks_before_confirming(engine: Engine) -> None:
    admin = client(engine)
    token = re.search(r'name="token" value="([^"]+)"', _upload(admin, CLEAN_CSV))
    assert token is not None
    form = {"csrf": csrf_of(admin, "/import"), "token": token.group(1), "year": "2021", "plan": "KT-2021"}
    assert admin.post("/import/confirm", data=form).status_code == 200
    with session_scope(engine) as db:
        from store.tasks import find_task, mark_done

        mark_done(db, find_task(db, "I.2", "KT-2021"), on=datetime(2021, 6, 20).date(), actor="t", via="test")
    revised = HEADER + (
        "I,Công tác chỉ đạo,,,,\n"
        "1,Xây dựng quy chế làm việc,Quy chế,Văn phòng Sở,,Trước 31/03/2021\n"
        "2,Ban hành kế hoạch kiểm tra nội bộ năm 2021,Kế hoạch,Văn phòng Sở,Phòng TCCB,Trước 31/12/2021\n"
        "3,Tổng hợp báo cáo quý,Báo cáo,Văn phòng Sở,,Trong tháng 7/2021\n"
    )
    page = _upload(admin, revised, "ke-hoach-2021-sua.csv")
    changes = {(m[0], m[1]) for m in re.findall(r'<tr data-change="(\w+)" data-code="([^"]+)"', page)}
    assert changes == {("new", "I.1"), ("renumbered", "I.3"), ("changed", "I.3"), ("uncertain", "I.2")}
    changed = text_of(re.search(r'<tr data-change="changed".*?</tr>', page, re.DOTALL).group())  # type: ignore[union-attr]
    assert (
        "deadline : Trong tháng 6/2021 → Trong tháng 7/2021" in changed
        and "30/06/2021 → 31/07/2021" in changed
    )
    assert 'name="match:I.2"' in page and '<option value="I.1">' in page
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf": csrf_of(admin, "/import"), "token": token.group(1), "year": "2021", "plan": "KT-2021"}
    unanswered = admin.post("/import/confirm", data=form)
    assert unanswered.status_code == 400 and "--match I.1=I.2" in text_of(unanswered.text)
    assert _plan_tasks(engine) == ["I.1", "I.2"]
    done = admin.post("/import/confirm", data={**form, "match:I.2": "I.1"})
    assert done.status_code == 200, text_of(done.text)
    assert _plan_tasks(engine) == ["I.1", "I.2", "I.3"]
    with session_scope(engine) as db:
        from store.tasks import find_task

        assert find_task(db, "I.3", "KT-2021").status == "done"  # the quarterly report kept its status
        assert find_task(db, "I.2", "KT-2021").content.startswith("Ban hành kế hoạch kiểm tra nội bộ")
        assert find_task(db, "I.1", "KT-2021").status == "open"


# --- permissions ---------------------------------------------------------------------------------


POSTS = [
    "/outbox/retry",
    "/outbox/retry-all",
    "/manual/preview",
    "/manual/send",
    "/import",
    "/import/confirm",
]


@pytest.mark.parametrize("path", POSTS)
def test_a_viewer_gets_403_on_every_post(viewer: Engine, path: str) -> None:
    _dead_letter(viewer)
    reader = client(viewer, "xem")
    data = {"csrf": csrf_of(reader, "/outbox"), "key": DEAD_KEY, "kind": "remind", "task": "VII.6"}
    response = reader.post(path, data=data)
    assert response.status_code == 403
    assert "Chỉ quản trị viên" in text_of(response.text)
    assert _status(viewer, DEAD_KEY) == OutboxStatus.DEAD


def test_every_post_route_of_these_pages_checks_the_csrf_token() -> None:
    from web.deps import csrf_protect

    for module in (outbox_routes, manual, units, plan_import):
        for route in module.router.routes:
            if "POST" in getattr(route, "methods", set()):
                dependencies = [d.dependency for d in route.dependencies]  # type: ignore[attr-defined]
                assert csrf_protect in dependencies, route.path  # type: ignore[attr-defined]


def test_uploaded_files_are_kept_in_a_private_folder() -> None:
    assert plan_import.upload_root().stat().st_mode & 0o077 == 0
