"""``nhacviec rules``: list, show, export, import, validate, edit and preview the rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import actor, console, err_console, open_store, parse_date
from planner.describe import rule_timing

app = typer.Typer(
    help="Quy tắc nhắc việc: xem, sửa, bật/tắt, nhập/xuất và xem trước tác động.", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="Tệp quy tắc YAML (dạng như 'nhacviec rules export').")]


@app.command("list", help="Danh sách quy tắc.")
def list_() -> None:
    from store.db import session_scope
    from store.rules import load_rules

    with session_scope(open_store()) as session:
        rules = load_rules(session)
    table = Table("Tên", "Bật", "Khi nào", "Người nhận", "Kênh")
    table.add_column("Mã", no_wrap=True)
    for rule in rules:
        audience = (
            ", ".join(f"{a.who}" + (" (cc)" if a.role == "cc" else "") for a in rule.audience) or "theo bậc"
        )
        enabled = "có" if rule.enabled else "[dim]tắt[/]"
        table.add_row(rule.title, enabled, rule_timing(rule), audience, ", ".join(rule.channels), rule.id)
    console.print(table)


@app.command("show", help="Chi tiết một quy tắc (dạng YAML).")
def show(rule_id: str) -> None:
    from store.db import session_scope
    from store.rules import get_rule, rules_to_yaml

    with session_scope(open_store()) as session:
        rule = get_rule(session, rule_id)
    print(rules_to_yaml([rule]), end="")


@app.command("export", help="Xuất toàn bộ quy tắc ra tệp YAML (hoặc màn hình nếu không nêu tệp).")
def export(file: Annotated[Path | None, typer.Argument(help="Tệp cần ghi.")] = None) -> None:
    from cli.output_files import check_output_file, writing
    from store.db import session_scope
    from store.rules import load_rules, rules_to_yaml

    if file is not None:
        check_output_file(file, "tệp quy tắc")
    with session_scope(open_store()) as session:
        text = rules_to_yaml(load_rules(session))
    if file is None:
        print(text, end="")
    else:
        with writing(file, "tệp quy tắc"):
            file.write_text(text, encoding="utf-8")
        console.print(f"Đã xuất quy tắc ra {file}.")


@app.command("validate", help="Kiểm tra một tệp quy tắc mà không lưu.")
def validate(file: FileArg) -> None:
    from store.db import session_scope
    from store.rules import read_rules_file, unit_codes

    with session_scope(open_store()) as session:
        rules = read_rules_file(file, unit_codes(session))
    console.print(f"{file}: {len(rules)} quy tắc hợp lệ.")


@app.command(
    "import", help="Thay toàn bộ quy tắc bằng tệp này (tệp phải hợp lệ hoàn toàn, nếu không sẽ không đổi gì)."
)
def import_(file: FileArg) -> None:
    from store.db import session_scope
    from store.rules import read_rules_file, replace_rules, unit_codes

    with session_scope(open_store()) as session:
        rules = read_rules_file(file, unit_codes(session))
        changes = replace_rules(session, rules, actor=actor())
    console.print(
        f"Đã nhập {len(rules)} quy tắc: {len(changes['created'])} mới, {len(changes['updated'])} sửa, "
        f"{len(changes['deleted'])} xoá."
    )


@app.command(
    "set", help="Sửa một trường của quy tắc: KHÓA=GIÁ_TRỊ, ví dụ offsets=[10,5,2] hoặc send_time=08:00."
)
def set_(
    rule_id: str,
    assignments: Annotated[list[str], typer.Argument(help="Một hoặc nhiều KHÓA=GIÁ_TRỊ.")],
) -> None:
    from store.db import session_scope
    from store.rules import get_rule, save_rule, set_field, unit_codes

    with session_scope(open_store()) as session:
        rule = get_rule(session, rule_id)
        codes = unit_codes(session)
        for assignment in assignments:
            rule = set_field(rule, assignment, codes)
        save_rule(session, rule, actor=actor())
    console.print(f"Đã cập nhật quy tắc '{rule_id}'.")


def _set_enabled(rule_id: str, enabled: bool) -> None:
    from dataclasses import replace

    from store.db import session_scope
    from store.rules import get_rule, save_rule

    with session_scope(open_store()) as session:
        rule = get_rule(session, rule_id)
        save_rule(
            session,
            replace(rule, enabled=enabled),
            actor=actor(),
            action="enabled" if enabled else "disabled",
        )
    console.print(f"Quy tắc '{rule_id}' đã {'bật' if enabled else 'tắt'}.")


@app.command("enable", help="Bật một quy tắc.")
def enable(rule_id: str) -> None:
    _set_enabled(rule_id, True)


@app.command("disable", help="Tắt một quy tắc.")
def disable(rule_id: str) -> None:
    _set_enabled(rule_id, False)


@app.command(
    "diff", help="Xem trước: so với quy tắc đang dùng, tệp quy tắc mới sẽ thêm và bớt những thông báo nào."
)
def diff(
    file: FileArg,
    from_: Annotated[str, typer.Option("--from", help="Từ ngày.")],
    to: Annotated[str, typer.Option("--to", help="Đến ngày.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="In dạng JSON: {added: [...], removed: [...]}.")
    ] = False,
) -> None:
    from cli.simulate import timeline
    from planner.describe import recipients_text, subject_text
    from planner.diff import diff_notifications
    from store.db import session_scope
    from store.rules import read_rules_file, unit_codes
    from vocabulary import KIND_SHORT, label

    with session_scope(open_store()) as session:
        candidate = read_rules_file(file, unit_codes(session))
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    added, removed = diff_notifications(timeline(start, end), timeline(start, end, rules=candidate))
    if as_json:
        print(
            json.dumps(
                {"added": [n.to_json() for n in added], "removed": [n.to_json() for n in removed]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for sign, style, items in (("+", "green", added), ("-", "red", removed)):
        for n in items:
            console.print(
                f"[{style}]{sign} {n.at:%d/%m/%Y %H:%M} {label(KIND_SHORT, n.kind)} {subject_text(n)} "
                f"[{n.rule}] → {recipients_text(n)}[/]",
                highlight=False,
            )
    err_console.print(
        f"Thêm {len(added)}, bớt {len(removed)} thông báo từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}."
    )
