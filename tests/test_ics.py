"""Calendar feeds: RFC 5545 text read back by a small parser, one event per due date, tokens kept as hashes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from cli.ics import app as ics_app
from config.settings import Settings
from plan.deadline import DeadlineKind
from planner.model import StatusChange, TaskInput
from store.db import make_engine, session_scope, upgrade_schema
from store.ics import IcsTokenError, create_token, revoke_token, verify_token
from store.models import IcsToken, Unit
from store.tasks import extend, find_task, mark_done
from tests.support.web_support import sample_engine
from web.app import create_app
from web.config import WebSettings
from web.ics import escape_text, fold, task_events

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2020, 11, 25, 9, 0, tzinfo=TZ)
PLAN = "CCHC-2020"
# The tasks Phòng TCCB leads, with their due dates; IV.8 ("Sau khi có các quy định ...") has none.
TCCB_DUE = {
    "III.1": "20201231",
    "III.2": "20201231",
    "III.3": "20201231",
    "IV.1": "20201231",
    "IV.2": "20201231",
    "IV.3": "20200331",
    "IV.4": "20201130",
    "IV.5": "20201231",
    "IV.6": "20201231",
    "IV.7": "20201231",
}
_template: dict[str, Path] = {}


@pytest.fixture
def engine(run_cli, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = sample_engine(run_cli, tmp_path_factory, _template)
    yield engine
    engine.dispose()


def client(engine: Engine, base_url: str | None = None) -> TestClient:
    settings = Settings(base_url=base_url)
    web = WebSettings(secret=SecretStr("web-secret-for-the-tests-0123456789abcdef"))
    return TestClient(create_app(settings, engine, web_settings=web, clock=lambda: NOW))


def new_token(engine: Engine, unit: str | None) -> tuple[int, str]:
    with session_scope(engine) as session:
        made = create_token(session, unit, created_by="test")
        assert made.record.id is not None
        return made.record.id, made.token


# --- a tiny RFC 5545 reader ----------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line ends with CRLF, no bare LF
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The calendar's properties and its events, each a mapping of "NAME;PARAMS" to the raw value."""
    calendar: dict[str, str] = {}
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    in_alarm = False
    for line in lines[1:-1]:
        name, _, value = line.partition(":")
        if line in ("BEGIN:VALARM", "END:VALARM"):  # an event's reminder: read by its own tests
            in_alarm = line == "BEGIN:VALARM"
        elif in_alarm:
            continue
        elif line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        else:
            target = calendar if current is None else current
            assert name not in target, f"{name} twice"
            target[name] = value
    assert current is None
    return calendar, events


def feed(engine: Engine, unit: str, token: str, base_url: str | None = None) -> str:
    response = client(engine, base_url).get(f"/ics/{unit}.ics", params={"token": token})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return response.content.decode("utf-8")


# --- feeds ---------------------------------------------------------------------------------------


def test_a_units_feed_has_one_all_day_event_per_task_it_leads_on_its_due_date(engine: Engine) -> None:
    _, token = new_token(engine, "TCCB")
    calendar, events = parse(feed(engine, "TCCB", token))
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"].startswith("-//nhacviec//")
    assert unescape(calendar["X-WR-CALNAME"]) == "Hạn việc TCCB 2020"  # short: a phone shows ~20 characters
    events = [e for e in events if "Phối hợp" not in e.get("CATEGORIES", "")]  # those it coordinates: below
    by_code = {unescape(e["SUMMARY"]).split("]")[0].removeprefix("["): e for e in events}
    assert len(events) == len(by_code) == 10
    assert {code: e["DTSTART;VALUE=DATE"] for code, e in by_code.items()} == TCCB_DUE
    iv4 = by_code["IV.4"]
    assert iv4["DTEND;VALUE=DATE"] == "20201201"  # the day after: one whole day
    assert iv4["UID"] == "CCHC-2020-IV.4@nhacviec"
    assert iv4["DTSTAMP"] == "20201125T020000Z"
    assert len({e["UID"] for e in events}) == 10


def test_vietnamese_text_is_intact_and_escaped(engine: Engine) -> None:
    _, token = new_token(engine, "TCCB")
    text = feed(engine, "TCCB", token)
    _, events = parse(text)
    iv4 = next(e for e in events if e["UID"] == "CCHC-2020-IV.4@nhacviec")
    description = unescape(iv4["DESCRIPTION"])
    assert description.split("\n") == [
        "Nhiệm vụ IV.4 (kế hoạch CCHC-2020): Tổ chức thực hiện các lớp đào tạo, bồi dưỡng cán bộ, công chức "
        "năm 2020 theo kế hoạch của UBND tỉnh, Sở GD&ĐT.",
        "Thời hạn theo kế hoạch: Trước tháng 12/2020",
        "Chủ trì: Phòng Tổ chức cán bộ",
        "Phối hợp: Các phòng chuyên môn, nghiệp vụ Sở, Các đơn vị, trường học trực thuộc",
        "Sản phẩm: Kế hoạch triển khai;; Báo cáo kết quả thực hiện",
    ]
    assert "đào tạo\\, bồi dưỡng" in iv4["DESCRIPTION"]  # commas, semicolons and newlines are escaped
    assert "triển khai\\;\\; Báo cáo" in iv4["DESCRIPTION"] and "\\n" in iv4["DESCRIPTION"]
    assert unescape(iv4["SUMMARY"]).startswith("[IV.4] Tổ chức thực hiện các lớp đào tạo")
    assert iv4["CATEGORIES"] == "Phòng Tổ chức cán bộ"
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75  # folded, and never inside a UTF-8 character (decoded above)


def test_uids_stay_and_the_date_moves_when_a_task_is_extended(engine: Engine) -> None:
    _, token = new_token(engine, "TCCB")
    before = {e["UID"]: e for e in parse(feed(engine, "TCCB", token))[1]}
    with session_scope(engine) as session:
        task = find_task(session, "IV.4", PLAN)
        extend(
            session,
            task,
            to=date(2020, 12, 20),
            reason="Chờ UBND tỉnh",
            on=date(2020, 11, 25),
            actor="t",
            via="t",
        )
    after = {e["UID"]: e for e in parse(feed(engine, "TCCB", token))[1]}
    assert set(after) == set(before)
    moved = after["CCHC-2020-IV.4@nhacviec"]
    assert moved["DTSTART;VALUE=DATE"] == "20201220"
    assert "Hạn hiện hành: 20/12/2020 (đã điều chỉnh so với kế hoạch)" in unescape(moved["DESCRIPTION"])


def test_the_whole_plan_feed_has_every_dated_task_and_links_to_the_web_pages(engine: Engine) -> None:
    _, token = new_token(engine, None)
    _, events = parse(feed(engine, "all", token, base_url="https://nhacviec.example.vn/"))
    assert len(events) == 33  # 35 tasks, II.2 and IV.8 have no date
    iv4 = next(e for e in events if e["UID"] == "CCHC-2020-IV.4@nhacviec")
    assert iv4["URL"] == "https://nhacviec.example.vn/tasks/CCHC-2020/IV.4"
    vii5 = next(e for e in events if e["UID"] == "CCHC-2020-VII.5@nhacviec")
    assert vii5["CATEGORIES"] == "Văn phòng Sở,Thanh tra Sở"
    # A leadership token opens any unit's feed too.
    led = [e for e in parse(feed(engine, "TCCB", token))[1] if "Phối hợp" not in e.get("CATEGORIES", "")]
    assert len(led) == 10


def test_a_done_task_stays_in_the_feed_marked_done(engine: Engine) -> None:
    _, token = new_token(engine, "TCCB")
    with session_scope(engine) as session:
        mark_done(session, find_task(session, "IV.3", PLAN), on=date(2020, 3, 20), actor="t", via="t")
    iv3 = next(e for e in parse(feed(engine, "TCCB", token))[1] if e["UID"] == "CCHC-2020-IV.3@nhacviec")
    assert unescape(iv3["SUMMARY"]).startswith("Đã hoàn thành — [IV.3]")
    assert unescape(iv3["DESCRIPTION"]).endswith("Đã hoàn thành ngày 20/03/2020.")


@pytest.mark.parametrize(
    ("path", "token_for"),
    [
        ("/ics/TCCB.ics", None),  # no token
        ("/ics/TCCB.ics", "wrong"),
        ("/ics/KHTC.ics", "TCCB"),  # another unit's token
        ("/ics/all.ics", "TCCB"),  # a unit's token does not open the whole plan
        ("/ics/XYZ.ics", "ALL"),  # no such unit
        ("/ics/TCCB", "TCCB"),  # not a calendar
    ],
)
def test_a_feed_without_the_right_token_is_not_found(
    engine: Engine, path: str, token_for: str | None
) -> None:
    params = {}
    if token_for == "wrong":
        params["token"] = "x" * 43
    elif token_for is not None:
        params["token"] = new_token(engine, None if token_for == "ALL" else token_for)[1]
    response = client(engine).get(path, params=params)
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.text


def test_a_revoked_token_is_not_found(engine: Engine) -> None:
    token_id, token = new_token(engine, "TCCB")
    feed(engine, "TCCB", token)
    with session_scope(engine) as session:
        revoke_token(session, token_id)
    assert client(engine).get("/ics/TCCB.ics", params={"token": token}).status_code == 404


def test_only_the_tokens_hash_is_stored(engine: Engine) -> None:
    _, token = new_token(engine, "TCCB")
    with session_scope(engine) as session:
        rows = list(session.exec(select(IcsToken)))
        assert [row.token_hash for row in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert all(token not in str(value) for row in rows for value in row.model_dump().values())
        assert verify_token(session, token, "TCCB") is not None
        assert verify_token(session, rows[0].token_hash, "TCCB") is None  # the hash itself opens nothing
    assert len(token) >= 43  # 32 random bytes


def test_ics_cli_creates_lists_and_revokes_tokens(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NHACVIEC_BASE_URL", "https://nhacviec.example.vn")
    runner = CliRunner()
    created = runner.invoke(ics_app, ["create", "Phòng TCCB"])
    assert created.exit_code == 0, created.output
    url = re.search(r"https://nhacviec\.example\.vn/ics/TCCB\.ics\?token=([\w-]+)", created.output)
    assert url is not None
    token = url.group(1)
    assert "Đã tạo mã lịch số 1 cho đơn vị TCCB." in created.output
    assert runner.invoke(ics_app, ["create", "--all"]).exit_code == 0
    listing = runner.invoke(ics_app, ["list"]).output
    assert re.search(r"1\s+│\s+TCCB\s+│.*đang dùng", listing) and re.search(r"2\s+│\s+cả kế hoạch", listing)
    assert token not in listing
    assert len(parse(feed(engine, "TCCB", token))[1]) == 10
    revoked = runner.invoke(ics_app, ["revoke", "1"])
    assert revoked.exit_code == 0 and "Đã thu hồi mã lịch số 1 (TCCB)." in revoked.output
    assert "đã thu hồi" in runner.invoke(ics_app, ["list"]).output
    assert client(engine).get("/ics/TCCB.ics", params={"token": token}).status_code == 404
    twice = runner.invoke(ics_app, ["revoke", "1"])
    assert str(twice.exception) == "Mã lịch số 1 đã bị thu hồi trước đó."
    both = runner.invoke(ics_app, ["create", "TCCB", "--all"])
    assert str(both.exception).startswith("Hãy ghi một đơn vị")


def test_tokens_are_created_checked_and_revoked_on_each_database(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        session.add(Unit(code="TCCB", name="Phòng Tổ chức cán bộ", kind="department"))
    unit_id, unit_token = new_token(engine, "TCCB")
    _, all_token = new_token(engine, None)
    with session_scope(engine) as session:
        assert verify_token(session, unit_token, "TCCB") is not None
        assert verify_token(session, unit_token, None) is None
        assert verify_token(session, all_token, "TCCB") is not None
        revoke_token(session, unit_id)
    with session_scope(engine) as session:
        assert verify_token(session, unit_token, "TCCB") is None
        with pytest.raises(IcsTokenError, match="Không có đơn vị mã 'XYZ'"):
            create_token(session, "XYZ", created_by="test")
    engine.dispose()


# --- the writer ----------------------------------------------------------------------------------


def test_text_escaping_follows_rfc_5545() -> None:
    assert escape_text('a\\b;c,d\ne\r\nf"g:h') == 'a\\\\b\\;c\\,d\\ne\\nf"g:h'
    assert escape_text("bell\x07 gone") == "bell gone"


@pytest.mark.parametrize(
    "text", ["Phòng Tổ chức cán bộ " * 12, "ế" * 100, "x" * 75, "x" * 76, "ab" + "ệ" * 40]
)
def test_folding_keeps_lines_within_75_octets_and_unfolds_to_the_original(text: str) -> None:
    line = f"DESCRIPTION:{text}"
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == line
    assert len(pieces) == 1 or len(pieces[0].encode("utf-8")) > 72  # cut as late as the octets allow


def test_a_recurring_task_gives_one_event_per_occurrence_with_stable_uids() -> None:
    quarters = (date(2020, 3, 31), date(2020, 6, 30), date(2020, 9, 30), date(2020, 12, 31))
    task = TaskInput(
        plan="KH-2020",
        code="III.7",
        section="III",
        content="Báo cáo kết quả thực hiện",
        deadline_text="Hằng quý",
        kind=DeadlineKind.RECURRING,
        start=date(2020, 1, 1),
        due=date(2020, 12, 31),
        occurrences=quarters,
        lead=("VP",),
    )
    events = task_events(task, {"VP": "Văn phòng Sở"})
    assert [(e.day, e.uid) for e in events] == [
        (day, f"KH-2020-III.7-{day:%Y%m%d}@nhacviec") for day in quarters
    ]
    extended = TaskInput(
        **{**task.__dict__, "changes": (StatusChange(date(2020, 12, 1), "extended", date(2021, 1, 15)),)}
    )
    assert [e.day for e in task_events(extended, {})] == list(quarters)  # the planner keeps every occurrence


def test_ics_create_alarm_chooses_the_feeds_reminder_as_the_web_does(engine: Engine) -> None:
    import icalendar

    runner = CliRunner()

    def created(*args: str) -> tuple[str, str]:
        result = runner.invoke(ics_app, ["create", "TCCB", *args])
        assert result.exit_code == 0, result.output
        url = re.search(r"(/ics/TCCB\.ics\?token=[\w-]+(?:&alarm=\d+)?)", result.output)
        assert url is not None, result.output
        return url.group(1), " ".join(result.output.split())

    def alarms(path: str) -> dict[str, list[datetime]]:
        """Each event's reminders (TRIGGER as an aware moment), by its UID ("CCHC-2020-IV.4@nhacviec")."""
        response = client(engine).get(path)
        assert response.status_code == 200, response.text
        found: dict[str, list[datetime]] = {}
        for event in icalendar.Calendar.from_ical(response.content).walk("VEVENT"):
            found[str(event["UID"])] = [alarm["TRIGGER"].dt for alarm in event.walk("VALARM")]
        return found

    default_path, said = created()
    assert "&alarm=" not in default_path and "Nhắc trên lịch: 3 ngày làm việc trước mỗi hạn" in said
    five_path, said = created("--alarm", "5")
    assert five_path.endswith("&alarm=5") and "Nhắc trên lịch: 5 ngày làm việc trước mỗi hạn" in said
    none_path, said = created("--alarm", "0")
    assert none_path.endswith("&alarm=0") and "Nhắc trên lịch: không nhắc." in said

    # IV.4 is due Monday 30/11/2020; reminders at 07:30 (Vietnam) on working days before it
    iv4 = "CCHC-2020-IV.4@nhacviec"
    assert alarms(default_path)[iv4] == [datetime(2020, 11, 25, 7, 30, tzinfo=TZ)]  # 3 working days
    assert alarms(five_path)[iv4] == [datetime(2020, 11, 23, 7, 30, tzinfo=TZ)]  # 5: Monday the week before
    with_five = alarms(five_path)
    assert len(with_five) >= len(TCCB_DUE) and all(len(found) == 1 for found in with_five.values())
    without = alarms(none_path)
    assert set(without) == set(with_five) and all(found == [] for found in without.values())

    for wrong in ("31", "-1"):
        refused = runner.invoke(ics_app, ["create", "TCCB", "--alarm", wrong])
        assert refused.exit_code != 0
        assert "--alarm" in str(refused.exception) or "--alarm" in refused.output
