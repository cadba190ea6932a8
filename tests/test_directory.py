"""The unit directory in the database: seeded from units.yaml, edited from the CLI and the web, one truth;
unknown units a plan names are kept as written, suggested, and added on request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from config import UNITS_FILE
from plan.check import check_plan
from plan.errors import UserError
from plan.importers.table import Row, read_table
from plan.units import load_directory as read_units_file
from store.db import session_scope
from store.directory import add_unit, load_directory, new_code, seed_directory, set_alias, set_fields
from store.models import ConfigProblemRecord, Leader, Task, Unit

PLAN_CSV = (
    "TT,Nội dung nhiệm vụ,Phòng chủ trì,Phòng phối hợp,Thời gian hoàn thành\n"
    "I,Công tác chỉ đạo,,,\n"
    "1,Tổ chức kỳ thi,Phòng Khảo thí,P. TCCB,Tháng 6/2021\n"
    "2,Rà soát biên chế,Phòng Tổ chức,Văn phòng Sở,Quý III/2021\n"
    "3,Tổng kết,Văn phòng Sở; Phòng Khảo thí,,Tháng 12/2021\n"
)


def test_the_directory_is_seeded_once_then_read_from_the_database(engine: Engine) -> None:
    with session_scope(engine) as db:
        directory = load_directory(db, UNITS_FILE)
        assert [u.code for u in directory.units] == [u.code for u in read_units_file(UNITS_FILE).units]
        assert directory.office == "VP" and directory.director.code == "GD"
        assert seed_directory(db, read_units_file(UNITS_FILE)) is False  # nothing more to write
        set_fields(db, "TCCB", {"email": "tccb@so.gov.vn"})
    with session_scope(engine) as db:  # the file is not read again: the database is the truth
        assert load_directory(db, "/khong/co/tep.yaml").unit("TCCB").contacts.email == "tccb@so.gov.vn"


def test_a_database_from_before_gets_its_leadership_and_office_from_the_units_file(engine: Engine) -> None:
    from store.plan_import import sync_units

    with session_scope(engine) as db:
        sync_units(db, read_units_file(UNITS_FILE))  # as imports used to mirror units.yaml
        for row in db.exec(select(Unit)):
            row.is_office = False  # before migration 0009 nothing marked the Office
            db.add(row)
        assert db.exec(select(Leader)).first() is None
    with session_scope(engine) as db:
        directory = load_directory(db, UNITS_FILE)
    assert directory.office == "VP" and [p.code for p in directory.deputies] == ["PGD1", "PGD2"]


def test_changes_that_would_break_the_directory_are_refused_and_leave_it_as_it_was(engine: Engine) -> None:
    with session_scope(engine) as db:
        load_directory(db, UNITS_FILE)
    clash = "Tên gọi 'Phòng TCCB' của đơn vị KHTC đã dùng cho đơn vị TCCB"
    with pytest.raises(UserError, match=clash), session_scope(engine) as db:
        set_alias(db, "KHTC", "Phòng TCCB")
    with pytest.raises(UserError, match="Loại đơn vị 'phong' không hợp lệ"), session_scope(engine) as db:
        add_unit(db, "KT", "Phòng Khảo thí", kind="phong")
    with pytest.raises(UserError, match="Đã có đơn vị mã 'VP'"), session_scope(engine) as db:
        add_unit(db, "VP", "Văn phòng")
    with session_scope(engine) as db:
        assert "Phòng TCCB" not in db.get(Unit, "KHTC").aliases  # type: ignore[union-attr]
        assert db.get(Unit, "KT") is None


def test_new_codes_are_initials_made_unique() -> None:
    assert new_code("Phòng Khảo thí", ["VP"]) == "KT"
    assert new_code("Phòng Khảo thí", ["KT"]) == "KT2"
    assert new_code("Trung tâm Giáo dục thường xuyên tỉnh", []) == "TTGDTXT"
    assert new_code("Đoàn", []) == "DOAN"


def test_unknown_units_are_kept_as_written_with_the_nearest_known_units_suggested(tmp_path: Path) -> None:
    directory = read_units_file(UNITS_FILE)
    lines = [line.split(",") for line in PLAN_CSV.strip().split("\n")]
    raw = read_table([Row(number=i + 1, cells=tuple(cells)) for i, cells in enumerate(lines)], "kh.csv")

    checked = check_plan(raw, directory, 2021)

    assert checked.problems == []  # unknown units do not block
    assert [(t.code, t.lead, t.unlisted) for t in checked.tasks] == [
        ("I.1", (), (("lead", "Phòng Khảo thí"),)),
        ("I.2", (), (("lead", "Phòng Tổ chức"),)),
        ("I.3", ("VP",), (("lead", "Phòng Khảo thí"),)),
    ]
    assert checked.tasks[0].coordinating == ("TCCB",)  # "P. TCCB" is not split at the dot
    found = {unit.name: unit for unit in checked.unknown_units}
    assert found["Phòng Khảo thí"].tasks == ["I.1", "I.3"] and found["Phòng Khảo thí"].rows == [3, 5]
    assert found["Phòng Tổ chức"].message == (
        "Chưa có đơn vị 'Phòng Tổ chức' trong danh bạ (nhiệm vụ I.2); có phải 'Phòng Tổ chức cán bộ' (TCCB)?"
    )


def test_plan_import_keeps_unknown_leads_and_add_units_adds_them_once_as_a_configuration_problem(
    run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run_cli("init", "--no-sample")
    plan = tmp_path / "ke-hoach-2021.csv"
    plan.write_text(PLAN_CSV, encoding="utf-8")

    kept = run_cli("plan", "import", str(plan), "--year", "2021", "--plan", "KH-2021")
    assert kept.exit_code == 0, kept.stderr
    assert "có phải 'Phòng Tổ chức cán bộ' (TCCB)?" in kept.stderr
    listed = json.loads(run_cli("tasks", "list", "--json").stdout)
    assert {task["code"] for task in listed} == {"I.1", "I.2", "I.3"}
    shown = run_cli("tasks", "show", "I.1", "--plan", "KH-2021").stdout
    assert "Chủ trì (chưa có trong danh bạ): Phòng Khảo thí" in shown

    added = run_cli("plan", "import", str(plan), "--year", "2021", "--plan", "KH-2021", "--add-units")
    assert added.exit_code == 0, added.stderr
    assert "Đã thêm vào danh bạ: 'Phòng Khảo thí' (KT), chưa có địa chỉ liên lạc." in added.stdout
    units = {unit["code"]: unit for unit in json.loads(run_cli("units", "list", "--json").stdout)}
    assert units["KT"]["name"] == "Phòng Khảo thí"
    assert not any(units["KT"]["contacts"].values())
    status = run_cli("status", "--json")
    problems = json.loads(status.stdout)["config_problems"]
    assert sum("'Phòng Khảo thí' (KT)" in str(problem) for problem in problems) == 1
    shown = run_cli("tasks", "show", "I.1", "--plan", "KH-2021")
    assert "KT" in shown.stdout


def test_units_commands_edit_the_directory_the_web_shows(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init", "--no-sample")
    assert run_cli("units", "add", "KT", "Phòng Khảo thí", "--alias", "P. KT-KĐCL").exit_code == 0
    assert run_cli("units", "alias", "KT", "Khảo thí và Kiểm định chất lượng").exit_code == 0
    done = run_cli(
        "units", "set", "KT", "email=kt@so.gov.vn", "head.name=Nguyễn Văn X", "head.title=Trưởng phòng"
    )
    assert done.exit_code == 0, done.stderr
    bad = run_cli("units", "set", "KT", "fax=123")
    assert bad.exit_code == 1 and "Không có trường 'fax'" in bad.stderr
    units = {unit["code"]: unit for unit in json.loads(run_cli("units", "list", "--json").stdout)}
    assert units["KT"]["aliases"] == ["P. KT-KĐCL", "Khảo thí và Kiểm định chất lượng"]
    assert (
        units["KT"]["contacts"]["email"] == "kt@so.gov.vn" and units["KT"]["head"]["name"] == "Nguyễn Văn X"
    )

    plan = tmp_path / "kh.csv"
    plan.write_text(
        "TT,Nội dung nhiệm vụ,Phòng chủ trì,Thời gian hoàn thành\n1,Thi,P. KT-KĐCL,Tháng 6/2021\n",
        encoding="utf-8",
    )
    checked = json.loads(run_cli("plan", "check", str(plan), "--year", "2021", "--json").stdout)
    assert checked["tasks"][0]["lead"] == ["KT"] and checked["unknown_units"] == []


def test_a_unit_added_on_the_web_is_the_one_the_cli_lists(engine: Engine) -> None:
    from tests.support.web_pages import client_for, csrf_of, text_of

    with session_scope(engine) as db:
        load_directory(db, UNITS_FILE)
    from store.users import add_user
    from tests.support.web_pages import FAST, PASSWORD

    with session_scope(engine) as db:
        add_user(db, "quan.tri", PASSWORD, "admin", hasher=FAST)
        add_user(db, "xem", PASSWORD, "viewer", hasher=FAST)
    admin = client_for(engine, "quan.tri")
    token = csrf_of(admin, "/units")
    added = admin.post(
        "/units",
        data={"csrf": token, "code": "KT", "name": "Phòng Khảo thí", "kind": "department"},
        follow_redirects=True,
    )
    assert added.status_code == 200 and "Đã thêm đơn vị." in text_of(added.text)
    aliased = admin.post(
        "/units/KT/aliases",
        data={"csrf": csrf_of(admin, "/units/KT"), "alias": "P. KT"},
        follow_redirects=True,
    )
    assert aliased.status_code == 200 and 'data-alias="P. KT"' in aliased.text
    saved = admin.post(
        "/units/KT",
        data={
            "csrf": csrf_of(admin, "/units/KT"),
            "name": "Phòng Khảo thí",
            "kind": "department",
            "email": "kt@so.vn",
        },
        follow_redirects=True,
    )
    assert saved.status_code == 200 and "Đã lưu thông tin đơn vị." in text_of(saved.text)
    clash = admin.post("/units/KT/aliases", data={"csrf": csrf_of(admin, "/units/KT"), "alias": "Văn phòng"})
    assert clash.status_code == 400 and "đã dùng cho đơn vị VP" in text_of(clash.text)
    with session_scope(engine) as db:
        directory = load_directory(db, UNITS_FILE)
    assert directory.resolve("P. KT") == ["KT"] and directory.unit("KT").contacts.email == "kt@so.vn"
    viewer = client_for(engine, "xem")
    refused = viewer.post("/units", data={"csrf": csrf_of(viewer, "/units"), "code": "X", "name": "X"})
    assert refused.status_code == 403
    row = re.search(r'<tr data-unit="KT">.*?</tr>', viewer.get("/units").text, re.DOTALL)
    assert row is not None and "P. KT" in text_of(row.group())


def test_tasks_keep_their_unlisted_units_in_the_database(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init", "--no-sample")
    plan = tmp_path / "ke-hoach-2021.csv"
    plan.write_text(PLAN_CSV, encoding="utf-8")
    run_cli("plan", "import", str(plan), "--year", "2021", "--plan", "KH-2021")
    from config.settings import get_settings
    from store.db import make_engine

    engine = make_engine(get_settings().effective_database_url)
    with session_scope(engine) as db:
        stored = {t.code: t.unlisted_units for t in db.exec(select(Task))}
        assert db.exec(select(ConfigProblemRecord)).first() is None  # nothing added, nothing to report
    engine.dispose()
    assert stored["I.1"] == [{"role": "lead", "name": "Phòng Khảo thí"}]
    assert stored["I.3"] == [{"role": "lead", "name": "Phòng Khảo thí"}]


# --- the leadership: shown and edited on the web and with `units set GD ...` ------------------------------


def _admin_and_viewer(engine: Engine):  # type: ignore[no-untyped-def]
    from store.users import add_user
    from tests.support.web_pages import FAST, PASSWORD, client_for

    with session_scope(engine) as db:
        load_directory(db, UNITS_FILE)
        add_user(db, "quan.tri", PASSWORD, "admin", hasher=FAST)
        add_user(db, "xem", PASSWORD, "viewer", hasher=FAST)
    return client_for(engine, "quan.tri"), client_for(engine, "xem")


def test_the_leaders_are_listed_and_an_admin_edits_one_on_the_web(engine: Engine) -> None:
    from tests.support.web_pages import csrf_of, text_of

    admin, viewer = _admin_and_viewer(engine)
    listed = viewer.get("/units").text
    assert re.search(r'<tr data-leader="GD">.*?Giám đốc Sở', listed, re.DOTALL)
    assert re.search(r'<tr data-leader="PGD1">.*?một tin mỗi sáng', listed, re.DOTALL)
    page = admin.get("/leaders/pgd1")
    assert page.status_code == 200 and "Phó Giám đốc Sở" in text_of(page.text)

    saved = admin.post(
        "/leaders/PGD1",
        data={
            "csrf": csrf_of(admin, "/leaders/PGD1"),
            "name": "Trần Thị Bình",
            "title": "Phó Giám đốc Sở",
            "email": "binh.tt@so.gov.vn",
            "telegram_chat_id": "",
            "bundle": "0",
        },
        follow_redirects=True,
    )
    assert saved.status_code == 200 and "Đã lưu thông tin lãnh đạo." in text_of(saved.text)
    with session_scope(engine) as db:
        deputy = {p.code: p for p in load_directory(db, UNITS_FILE).leaders()}["PGD1"]
    assert deputy.name == "Trần Thị Bình" and deputy.contacts.email == "binh.tt@so.gov.vn"
    assert deputy.contacts.telegram_chat_id is None and deputy.bundle is False

    emptied = admin.post(
        "/leaders/PGD1",
        data={"csrf": csrf_of(admin, "/leaders/PGD1"), "name": " ", "title": "Phó Giám đốc Sở"},
    )
    assert emptied.status_code == 400 and "Họ tên của lãnh đạo PGD1 không được để trống." in text_of(
        emptied.text
    )
    assert (
        viewer.post("/leaders/PGD1", data={"csrf": csrf_of(viewer, "/leaders/PGD1"), "name": "X"}).status_code
        == 403
    )
    assert viewer.get("/leaders/XYZ").status_code == 404


def test_a_units_and_its_heads_way_of_receiving_is_set_on_the_web(engine: Engine) -> None:
    from tests.support.web_pages import csrf_of

    admin, _ = _admin_and_viewer(engine)
    with session_scope(engine) as db:
        assert set_fields(db, "TCCB", {"head.name": "Nguyễn Văn X", "head.title": "Trưởng phòng"})
    form = {"csrf": csrf_of(admin, "/units/TCCB"), "name": "Phòng Tổ chức cán bộ", "kind": "department"}
    assert admin.post("/units/TCCB", data=form | {"bundle": "0", "head.bundle": "0"}).status_code == 303
    with session_scope(engine) as db:
        unit = load_directory(db, UNITS_FILE).unit("TCCB")
    assert unit.bundle is False and unit.head is not None and unit.head.bundle is False


def test_units_set_with_a_leaders_code_changes_that_leader(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init", "--no-sample")
    done = run_cli("units", "set", "gd", "email=giamdoc@so.gov.vn", "bundle=false")
    assert done.exit_code == 0, done.stderr
    assert "Đã cập nhật lãnh đạo GD: email, bundle." in done.stdout
    bad = run_cli("units", "set", "GD", "kind=office")
    assert bad.exit_code == 1 and "Không có trường 'kind' của lãnh đạo" in bad.stderr
    from config.settings import Settings
    from store.db import make_engine

    engine = make_engine(Settings().effective_database_url)
    with session_scope(engine) as db:
        director = db.get(Leader, "GD")
        assert (
            director is not None and director.contacts["email"] == "giamdoc@so.gov.vn" and not director.bundle
        )
    engine.dispose()
