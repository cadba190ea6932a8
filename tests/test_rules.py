"""Rules as data: validation messages that name the rule and field, the stored set, and the rules commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import select

from config.settings import Settings
from rules.model import RulesError, parse_rules
from store.db import session_scope
from store.models import RuleEvent
from store.rules import load_rules, read_rules_file, replace_rules, set_field

DEFAULT_RULES_FILE = Settings().rules_file
UNITS = frozenset({"VP", "TCCB", "KHTC", "TTRA", "CNTT", "LDS", "PCMNV", "DVTH"})


def default_data() -> list[dict]:
    return yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))["rules"]


def rule_data(rule_id: str) -> dict:
    return next(r for r in default_data() if r["id"] == rule_id)


def test_the_default_rule_set_is_valid_and_round_trips_through_its_mapping() -> None:
    rules = read_rules_file(DEFAULT_RULES_FILE, UNITS)
    assert [r.id for r in rules][:3] == ["kickoff", "reminder", "recurring-reminder"]
    reminder = rules[1]
    assert reminder.offsets == (14, 7, 3, 1)
    assert parse_rules([r.to_dict() for r in rules], unit_codes=UNITS) == rules


@pytest.mark.parametrize(
    ("rule_id", "change", "field", "words"),
    [
        ("reminder", {"offsets": [14, -3]}, "offsets", "không được âm"),
        ("reminder", {"audience": [{"who": "chairman"}]}, "audience[0].who", "chairman"),
        ("reminder", {"audience": [{"who": "lead", "role": "bcc"}]}, "audience[0].role", "bcc"),
        ("reminder", {"audience": []}, "audience", "ít nhất một người nhận"),
        ("reminder", {"template": "khong-co"}, "template", "khong-co"),
        ("reminder", {"send_time": "25:00"}, "send_time", "25:00"),
        ("reminder", {"channels": ["fax"]}, "channels", "fax"),
        ("reminder", {"applies_to": {"lead_units": ["PHONG-MA"]}}, "applies_to.lead_units", "PHONG-MA"),
        ("reminder", {"applies_to": {"deadline_kinds": ["someday"]}}, "applies_to.deadline_kinds", "someday"),
        (
            "escalation",
            {"levels": [{"after": 5, "audience": ["director"]}, {"after": 2, "audience": ["office"]}]},
            "levels[1].after",
            "tăng dần",
        ),
        ("escalation", {"levels": [{"after": 1, "audience": []}]}, "levels[0].audience", "người nhận"),
        ("escalation", {"audience": [{"who": "director"}]}, "audience", "levels"),
        (
            "escalation",
            {"levels": [{"after": 1, "audience": [{"who": "reporting_units"}]}]},
            "levels[0].audience",
            "reporting_units",
        ),
        ("weekly-digest", {"weekday": "chu nhat"}, "weekday", "chu nhat"),
        ("weekly-digest", {"audience": [{"who": "lead"}]}, "audience", "lead"),
        ("report-request", {"days": -1}, "days", "không được nhỏ hơn 0"),
        ("kickoff", {"color": "red"}, "color", "không tồn tại"),
    ],
)
def test_an_invalid_rule_is_refused_naming_the_rule_and_the_field(rule_id, change, field, words) -> None:  # type: ignore[no-untyped-def]
    data = default_data()
    target = next(r for r in data if r["id"] == rule_id)
    target.update(change)
    with pytest.raises(RulesError) as caught:
        parse_rules(data, unit_codes=UNITS)
    assert [(p.rule, p.field) for p in caught.value.problems] == [(rule_id, field)]
    assert words in str(caught.value)
    assert f"Quy tắc '{rule_id}', trường '{field}'" in str(caught.value)


def test_every_problem_is_reported_at_once_and_duplicates_are_caught() -> None:
    data = default_data()
    data[0]["offsets"] = [3]  # a field of another kind of rule
    data[1]["offsets"] = [-1]
    data[2]["id"] = "reminder"
    data[3]["title"] = ""
    with pytest.raises(RulesError) as caught:
        parse_rules(data, unit_codes=UNITS)
    fields = [(p.rule, p.field) for p in caught.value.problems]
    assert fields == [
        ("kickoff", "offsets"),
        ("reminder", "offsets"),
        ("reminder", "id"),
        ("checkin", "title"),
    ]


def test_set_field_reads_yaml_values_and_validates() -> None:
    rule = parse_rules([rule_data("reminder")], unit_codes=UNITS)[0]
    changed = set_field(set_field(rule, "offsets=[10, 5, 2]", UNITS), "send_time=08:15", UNITS)
    assert changed.offsets == (10, 5, 2) and changed.send_time.strftime("%H:%M") == "08:15"
    narrowed = set_field(rule, "applies_to.sections=[IV]", UNITS)
    assert narrowed.applies_to.sections == ("IV",)
    with pytest.raises(RulesError, match="offsets"):
        set_field(rule, "offsets=[-2]", UNITS)


def test_replacing_the_rules_records_who_changed_what(engine: Engine) -> None:
    from cli.common import load_directory
    from store.plan_import import sync_units

    rules = read_rules_file(DEFAULT_RULES_FILE, UNITS)
    with session_scope(engine) as session:
        sync_units(session, load_directory())
        assert replace_rules(session, rules, actor="an")["created"][0] == "kickoff"
    edited = [
        set_field(r, "offsets=[5]", UNITS) if r.id == "reminder" else r for r in rules if r.id != "needs-date"
    ]
    with session_scope(engine) as session:
        changes = replace_rules(session, edited, actor="binh")
        assert changes == {"created": [], "updated": ["reminder"], "deleted": ["needs-date"]}
    with session_scope(engine) as session:
        stored = load_rules(session)
        assert [r.id for r in stored] == [r.id for r in edited]
        events = session.exec(select(RuleEvent).where(RuleEvent.actor == "binh")).all()
        assert {(e.rule_id, e.action) for e in events} == {("reminder", "updated"), ("needs-date", "deleted")}
        updated = next(e for e in events if e.action == "updated")
        assert updated.before["offsets"] == [14, 7, 3, 1] and updated.after["offsets"] == [5]


# -- the commands -------------------------------------------------------------------------------------------


def test_rules_list_show_export(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    listed = run_cli("rules", "list")
    assert listed.exit_code == 0 and "Nhắc trước hạn" in listed.stdout
    shown = run_cli("rules", "show", "escalation")
    assert yaml.safe_load(shown.stdout)["rules"][0]["repeat_every"] == 5
    exported = tmp_path / "rules.yaml"
    assert run_cli("rules", "export", str(exported)).exit_code == 0
    assert parse_rules(yaml.safe_load(exported.read_text(encoding="utf-8"))) == read_rules_file(
        DEFAULT_RULES_FILE
    )


def test_rules_import_of_an_invalid_file_changes_nothing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    before = run_cli("rules", "export").stdout
    data = default_data()
    data[1]["offsets"] = [7, -1]
    data[4]["send_time"] = "7h"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"rules": data}, allow_unicode=True), encoding="utf-8")
    result = run_cli("rules", "import", str(bad))
    assert result.exit_code == 1
    assert "Quy tắc 'reminder', trường 'offsets'" in result.stderr
    assert "Quy tắc 'escalation', trường 'send_time'" in result.stderr
    assert run_cli("rules", "validate", str(bad)).exit_code == 1
    assert run_cli("rules", "export").stdout == before


def test_rules_set_enable_disable_take_effect_in_simulate(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    args = ("simulate", "--from", "2020-11-01", "--to", "2020-11-30", "--task", "IV.4", "--json")
    before = [n["at"][:10] for n in json.loads(run_cli(*args).stdout) if n["kind"] == "reminder"]
    assert before == ["2020-11-10", "2020-11-19", "2020-11-25", "2020-11-27"]
    assert run_cli("rules", "set", "reminder", "offsets=[2]", "send_time=08:00").exit_code == 0
    after = [n["at"] for n in json.loads(run_cli(*args).stdout) if n["kind"] == "reminder"]
    assert after == ["2020-11-26T08:00:00+07:00"]
    assert run_cli("rules", "disable", "reminder").exit_code == 0
    assert not [n for n in json.loads(run_cli(*args).stdout) if n["kind"] == "reminder"]
    assert run_cli("rules", "enable", "reminder").exit_code == 0
    refused = run_cli("rules", "set", "reminder", "offsets=[-5]")
    assert refused.exit_code == 1 and "không được âm" in refused.stderr
    assert run_cli("rules", "show", "khong-co").exit_code == 1


def test_rules_diff_previews_what_a_candidate_adds_and_removes(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    data = default_data()
    next(r for r in data if r["id"] == "reminder")["offsets"] = [14, 7, 3, 1, 0]
    next(r for r in data if r["id"] == "weekly-digest")["enabled"] = False
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump({"rules": data}, allow_unicode=True), encoding="utf-8")
    result = run_cli("rules", "diff", str(candidate), "--from", "2020-11-01", "--to", "2020-11-30", "--json")
    assert result.exit_code == 0, result.stderr
    diff = json.loads(result.stdout)
    assert {n["kind"] for n in diff["removed"]} == {"digest"}
    assert len(diff["removed"]) == 2 * 5  # two deputies, five Mondays in November 2020
    added = [(n["task"], n["at"][:10]) for n in diff["added"]]
    assert ("IV.4", "2020-11-30") in added and {n["kind"] for n in diff["added"]} == {"reminder"}
    human = run_cli("rules", "diff", str(candidate), "--from", "2020-11-01", "--to", "2020-11-30")
    assert "+ 30/11/2020" in human.stdout and "Thêm" in human.stderr


def test_simulate_json_contract_and_hypothetical_completion(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    result = run_cli("simulate", "--from", "2020-12-01", "--to", "2020-12-31", "--task", "IV.4", "--json")
    timeline = json.loads(result.stdout)
    assert [(n["kind"], n["level"], n["at"][:10]) for n in timeline] == [
        ("escalation", 1, "2020-12-01"),
        ("escalation", 2, "2020-12-07"),
        ("escalation", 3, "2020-12-14"),
        ("escalation", 3, "2020-12-21"),
        ("escalation", 3, "2020-12-28"),
    ]
    first = timeline[0]
    assert set(first) >= {"at", "kind", "rule", "task", "period", "level", "recipients", "key"}
    assert first["at"] == "2020-12-01T07:30:00+07:00" and first["task"] == "IV.4" and first["period"] is None
    assert {"unit": "TCCB.head", "role": "to", "channel": "email"} in [
        {k: r[k] for k in ("unit", "role", "channel")} for r in first["recipients"]
    ]
    done = run_cli(
        "simulate",
        "--from",
        "2020-12-01",
        "--to",
        "2020-12-31",
        "--task",
        "IV.4",
        "--done",
        "IV.4=2020-12-07",
        "--json",
    )
    assert [n["level"] for n in json.loads(done.stdout)] == [1]


def test_simulate_filters_by_unit_and_uses_stored_status(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    run_cli("tasks", "done", "V.1", "--at", "2020-06-01")
    result = run_cli(
        "simulate", "--from", "2020-12-01", "--to", "2020-12-31", "--unit", "Phòng KHTC", "--json"
    )
    timeline = json.loads(result.stdout)
    assert timeline and all(
        n["task"] == "V.2" or any(r["unit"].startswith("KHTC") for r in n["recipients"]) for n in timeline
    )
    assert "V.1" not in {n["task"] for n in timeline}
    table = run_cli("simulate", "--from", "2020-01-01", "--to", "2020-01-31")
    assert table.exit_code == 0 and "nhắc trước hạn" in table.stdout


def test_simulate_rejects_bad_options_clearly(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    for args, words in [
        (("--from", "2020-12-31", "--to", "2020-01-01"), "phải không trước"),
        (("--from", "2020-01-01", "--to", "2020-02-01", "--done", "IV.4"), "MÃ=NGÀY"),
        (("--from", "2020-01-01", "--to", "2020-02-01", "--done", "XX.1=2020-01-05"), "XX.1"),
        (("--from", "2020-01-01", "--to", "2020-02-01", "--rules", "khong-co.yaml"), "Không tìm thấy"),
    ]:
        result = run_cli("simulate", *args)
        assert result.exit_code == 1 and words in result.stderr, (args, result.stderr)


def test_calendar_declarations_move_the_timeline(run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("init")
    args = ("simulate", "--from", "2020-01-01", "--to", "2020-01-10", "--task", "I.1", "--json")
    assert [n["at"][:10] for n in json.loads(run_cli(*args).stdout)] == ["2020-01-02", "2020-01-06"]
    assert run_cli("calendar", "off", "2020-01-02", "--note", "Nghỉ bù").exit_code == 0
    assert [n["at"][:10] for n in json.loads(run_cli(*args).stdout)] == ["2020-01-03", "2020-01-06"]
    # a make-up Saturday before the due date: the 14th working day before 31/01 moves a day later
    assert run_cli("calendar", "working", "2020-01-18").exit_code == 0
    assert [n["at"][:10] for n in json.loads(run_cli(*args).stdout)] == ["2020-01-03", "2020-01-07"]
    shown = run_cli("calendar", "show", "--year", "2020")
    assert "18/01/2020" in shown.stdout and "Tết" in shown.stdout
    assert run_cli("calendar", "remove", "2020-01-18").exit_code == 0
    assert run_cli("calendar", "remove", "2020-01-18").exit_code == 1
