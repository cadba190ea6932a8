"""``nhacviec init``: the database, the unit directory and the sample plan, ready to use."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import actor, console, open_store, settings


def init(
    with_sample: Annotated[
        bool, typer.Option("--sample/--no-sample", help="Nạp kế hoạch mẫu (CCHC 2020) nếu chưa có.")
    ] = True,
) -> None:
    from sqlmodel import select

    from cli.plan import plan_year, read_plan_file
    from plan.check import check_plan
    from plan.contacts import without_placeholders
    from plan.errors import UserError
    from plan.units import load_directory as load_units_file
    from store.db import session_scope
    from store.directory import load_directory as directory_of
    from store.directory import seed_directory
    from store.models import Plan, Unit
    from store.plan_import import import_plan

    config = settings()
    engine = open_store()
    with session_scope(engine) as session:
        empty = session.exec(select(Unit.code)).first() is None
        stripped = 0
        if empty:
            seed = load_units_file(config.units_file)
            if not with_sample:  # a real installation: the units, never the sample's stand-in addresses
                seed, stripped = without_placeholders(seed)
            seed_directory(session, seed)
        directory = directory_of(session, config.units_file)
        console.print(f"Cơ sở dữ liệu: {engine.url.render_as_string(hide_password=True)}")
        source = (
            f"nạp từ {config.units_file}" if empty else "giữ nguyên danh bạ đang dùng ('nhacviec units list')"
        )
        if stripped:
            source += (
                f"; bỏ {stripped} địa chỉ giữ chỗ của danh bạ mẫu: nạp danh bạ thật bằng "
                "'nhacviec units import danh-ba.xlsx' (mẫu: 'nhacviec units export danh-ba.xlsx')"
            )
        console.print(f"Danh bạ: {len(directory.units)} đơn vị ({source}).")
        _seed_rules(session, config.rules_file)
        if not with_sample:
            return
        raw = read_plan_file(config.sample_plan)
        checked = check_plan(raw, directory, plan_year(raw, None, config.sample_plan))
        if checked.problems:
            raise UserError(f"Kế hoạch mẫu {config.sample_plan} có lỗi: {checked.problems[0]}")
        code = checked.code or f"KH-{checked.year}"
        existing = session.exec(select(Plan).where(Plan.code == code)).first()
        if existing is not None:
            state = (
                "đã lưu trữ, không nhắc việc" if existing.status == "archived" else "giữ nguyên trạng thái"
            )
            console.print(f"Kế hoạch mẫu {code} đã có sẵn ({len(checked.tasks)} nhiệm vụ); {state}.")
            return
        if session.exec(select(Plan).where(Plan.is_sample == False)).first() is not None:  # noqa: E712
            console.print("Đã có kế hoạch thật: không nạp kế hoạch mẫu.")
            return
        summary = import_plan(session, checked, code, actor=actor(), via="init", sample=True)
        console.print(
            f"Đã nạp kế hoạch mẫu {code}: {len(summary.created)} nhiệm vụ (kế hoạch mẫu: sẽ được lưu trữ khi "
            "nhập kế hoạch thật; cài đặt thật dùng 'nhacviec init --no-sample')."
        )


def _seed_rules(session, rules_file) -> None:
    """Load the default rules the first time; never overwrite what admins have edited."""
    from sqlmodel import select

    from store.models import RuleRecord
    from store.rules import read_rules_file, replace_rules, unit_codes

    if session.exec(select(RuleRecord.id)).first() is not None:
        console.print("Quy tắc: giữ nguyên các quy tắc đang dùng.")
        return
    rules = read_rules_file(rules_file, unit_codes(session))
    replace_rules(session, rules, actor=actor(), via="init")
    console.print(f"Quy tắc: đã nạp {len(rules)} quy tắc mặc định từ {rules_file.name}.")
