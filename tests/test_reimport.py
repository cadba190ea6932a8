"""Re-importing a revised plan: tasks are matched by content and lead unit, not by their row number."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from plan.rematch import Row, parse_choices, rematch

HEADER = "TT,Nội dung nhiệm vụ,Sản phẩm,Phòng chủ trì,Phòng phối hợp,Thời gian hoàn thành\n"
ROWS = {
    "kiem-tra": (
        "Lập Kế hoạch tự kiểm tra văn bản quy phạm pháp luật",
        "Kế hoạch",
        "Văn phòng Sở",
        "",
        "Trong tháng 01/2026",
    ),
    "ra-soat": (
        "Rà soát thủ tục hành chính thuộc thẩm quyền của Sở",
        "Báo cáo",
        "Phòng TCCB",
        "",
        "Quý II/2026",
    ),
    "thang": ("Báo cáo tình hình cải cách hành chính hằng tháng", "Báo cáo", "Phòng TCCB", "", "Hằng tháng"),
    "tuyen-truyen": (
        "Tuyên truyền về cải cách hành chính trên trang thông tin điện tử",
        "Tin bài",
        "Văn phòng Sở",
        "",
        "Trước 30/11/2026",
    ),
    "chi-so": (
        "Tự đánh giá chỉ số cải cách hành chính của Sở",
        "Báo cáo",
        "Văn phòng Sở",
        "",
        "Trước 15/12/2026",
    ),
}


def plan_file(path: Path, *keys: str, extra: dict[str, tuple[str, ...]] | None = None) -> Path:
    rows = {**ROWS, **(extra or {})}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER.strip().split(","))
    writer.writerow(["IX", "Cải cách hành chính", "", "", "", ""])
    for number, key in enumerate(keys, start=1):
        writer.writerow([str(number), *rows[key]])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def office(run_cli, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NHACVIEC_DATABASE_URL", database_url)
    assert run_cli("init").exit_code == 0
    first = plan_file(tmp_path / "v1.csv", "kiem-tra", "ra-soat", "thang", "tuyen-truyen", "chi-so")
    imported = run_cli("plan", "import", str(first), "--year", "2026", "--plan", "KH-2026")
    assert imported.exit_code == 0, imported.stderr
    return run_cli


def _tasks(run_cli) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    listed = run_cli("tasks", "list", "--plan", "KH-2026", "--json", "--at", "01/06/2026")
    assert listed.exit_code == 0, listed.stderr
    return {t["content"].split()[0] + " " + t["content"].split()[1]: t for t in json.loads(listed.stdout)}


def test_a_row_inserted_at_the_top_keeps_every_status_on_its_own_task(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli = office
    assert run_cli("tasks", "done", "IX.1", "--plan", "KH-2026", "--at", "20/01/2026").exit_code == 0
    assert (
        run_cli(
            "tasks", "done", "IX.3", "--plan", "KH-2026", "--period", "2026-02", "--at", "27/02/2026"
        ).exit_code
        == 0
    )
    extended = run_cli(
        "tasks", "extend", "IX.4", "--plan", "KH-2026", "--to", "15/12/2026", "--reason", "Chờ kinh phí"
    )
    assert extended.exit_code == 0, extended.stderr
    before = _tasks(run_cli)

    inserted = {
        "moi": (
            "Xây dựng Kế hoạch cải cách hành chính năm 2026",
            "Kế hoạch",
            "Văn phòng Sở",
            "",
            "Trong tháng 01/2026",
        )
    }
    reworded = {
        "chi-so": (
            "Tự đánh giá, chấm điểm chỉ số cải cách hành chính của Sở",
            "Báo cáo",
            "Văn phòng Sở",
            "",
            "Trước 15/12/2026",
        )
    }
    revised = plan_file(
        tmp_path / "v2.csv", "moi", "kiem-tra", "ra-soat", "thang", "tuyen-truyen", "chi-so",
        extra={**inserted, **reworded},
    )  # fmt: skip
    dry = run_cli(
        "plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026", "--dry-run", "--json"
    )
    assert dry.exit_code == 0, dry.stderr
    diff = json.loads(dry.stdout)
    assert diff["new"] == [{"code": "IX.1", "row": 3}]
    assert [(r["old_code"], r["new_code"], r["row"]) for r in diff["renumbered"]] == [
        ("IX.1", "IX.2", 4), ("IX.2", "IX.3", 5), ("IX.3", "IX.4", 6), ("IX.4", "IX.5", 7), ("IX.5", "IX.6", 8)
    ]  # fmt: skip
    assert [(c["code"], list(c["fields"])) for c in diff["changed"]] == [("IX.6", ["content"])]
    assert diff["changed"][0]["fields"]["content"]["old"].startswith("Tự đánh giá chỉ số")
    assert diff["removed"] == [] and diff["uncertain"] == []
    assert _tasks(run_cli) == before  # a dry run writes nothing
    table = run_cli("plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026", "--dry-run")
    assert "IX.1 → IX.2" in table.stdout and "content:" in table.stdout

    done = run_cli("plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026")
    assert done.exit_code == 0, done.stderr
    after = _tasks(run_cli)
    assert set(after) == set(before) | {"Xây dựng"}
    for name, task in before.items():  # every status, due date and extension stayed with its content
        moved = after[name]
        assert (moved["status"], moved["done_on"], moved["due"]) == (
            task["status"],
            task["done_on"],
            task["due"],
        )
    assert after["Lập Kế"]["code"] == "IX.2" and after["Lập Kế"]["status"] == "done"
    assert after["Xây dựng"]["status"] == "open"
    assert after["Báo cáo"]["code"] == "IX.4"
    assert [o["period"] for o in after["Báo cáo"]["occurrences"] if o["status"] == "done"] == ["2026-02"]
    assert after["Tuyên truyền"]["due"] == "2026-12-15"  # the extension moved with its task
    history = json.loads(run_cli("tasks", "show", "IX.2", "--plan", "KH-2026", "--json").stdout)["history"]
    assert [e["kind"] for e in history] == ["created", "done", "updated"]
    assert "IX.1 → IX.2" in history[-1]["note"]
    again = run_cli(
        "plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026", "--dry-run", "--json"
    )
    assert json.loads(again.stdout)["renumbered"] == [] and json.loads(again.stdout)["unchanged"] == 6


def test_an_uncertain_match_is_asked_not_guessed(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli = office
    assert run_cli("tasks", "done", "IX.2", "--plan", "KH-2026", "--at", "20/05/2026").exit_code == 0
    before = _tasks(run_cli)
    # the review task is rewritten and moves to another unit: maybe the same task, maybe not
    doubt = {
        "ra-soat": (
            "Rà soát, đơn giản hoá thủ tục hành chính của Sở",
            "Báo cáo",
            "Văn phòng Sở",
            "",
            "Quý II/2026",
        )
    }
    revised = plan_file(
        tmp_path / "v2.csv", "kiem-tra", "thang", "ra-soat", "tuyen-truyen", "chi-so", extra=doubt
    )
    refused = run_cli("plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026")
    assert refused.exit_code == 1 and "--match IX.2=IX.3" in refused.stderr and "giữ nguyên" in refused.stderr
    assert _tasks(run_cli) == before
    dry = json.loads(
        run_cli(
            "plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026", "--dry-run", "--json"
        ).stdout
    )
    assert [(q["code"], [c["code"] for c in q["candidates"]]) for q in dry["uncertain"]] == [
        ("IX.3", ["IX.2"])
    ]

    chosen = run_cli(
        "plan", "import", str(revised), "--year", "2026", "--plan", "KH-2026", "--match", "IX.2=IX.3"
    )
    assert chosen.exit_code == 0, chosen.stderr
    after = _tasks(run_cli)
    assert after["Rà soát,"]["code"] == "IX.3" and after["Rà soát,"]["status"] == "done"
    assert after["Báo cáo"]["code"] == "IX.2" and after["Báo cáo"]["status"] == "open"


def test_matching_is_by_content_and_lead() -> None:
    old = [Row("I.1", "Lập kế hoạch", ("VP",), 3), Row("I.2", "Rà soát thủ tục", ("TCCB",), 4)]
    new = [
        Row("I.1", "Việc mới hoàn toàn", ("VP",), 3),
        *(Row(f"I.{i + 2}", r.content, r.lead) for i, r in enumerate(old)),
    ]
    result = rematch(old, new)
    assert [(p.old, p.new) for p in result.pairs] == [("I.1", "I.2"), ("I.2", "I.3")] and result.new == [
        "I.1"
    ]
    # the same text under another lead unit and another number is asked; under the same number it is the task
    moved = rematch(old, [Row("I.2", "Lập kế hoạch", ("TCCB",)), Row("I.1", "Rà soát thủ tục", ("TCCB",))])
    assert [q.new for q in moved.questions] == ["I.2"] and [(p.old, p.new) for p in moved.pairs] == [
        ("I.2", "I.1")
    ]
    kept = rematch(old, [Row("I.1", "Lập kế hoạch", ("TCCB",)), Row("I.2", "Rà soát thủ tục", ("TCCB",))])
    assert [(p.old, p.new) for p in kept.pairs] == [("I.1", "I.1"), ("I.2", "I.2")] and not kept.questions
    assert parse_choices(["i.1=i.2", "-=I.9", "I.5=-"]) == {"I.1": "I.2", "-I.9": "I.9", "I.5": "-"}
