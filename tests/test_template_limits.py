"""Templates render with limits: a runaway template is refused fast, with a Vietnamese sentence naming the bound."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plan.errors import UserError
from templates.limits import (
    MAX_ITERATIONS,
    MAX_OUTPUT,
    MAX_RANGE,
    MAX_STRING,
    TemplateLimitError,
)
from templates.render import make_environment, validate
from tests.support.template_probes import BIG_LIVE, PROBES, SLOW


def _render(source: str) -> str:
    return make_environment().from_string(source).render()


@pytest.mark.parametrize(
    ("source", "bound"),
    [
        ("{{ 'a' * 1000000000 }}", f"{MAX_STRING:,}"),
        ("{{ [1, 2] * 1000000000 }}", f"{MAX_STRING:,}"),
        ("{{ 1000000000 * 'a' }}", f"{MAX_STRING:,}"),
        ("{{ 'a'|center(1000000000) }}", f"{MAX_STRING:,}"),
        ("{{ 'a'.ljust(1000000000) }}", f"{MAX_STRING:,}"),
        ("{{ '%1000000000s' % 'a' }}", f"{MAX_STRING:,}"),
        ("{{ '{:>{}}'.format('a', 1000000000) }}", f"{MAX_STRING:,}"),
        ("{{ 'x'|indent(1000000000, true) }}", f"{MAX_STRING:,}"),
        (
            "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            f"{MAX_STRING:,}",
        ),
        (
            "{% set ns = namespace(s='abcdefghij') %}{% for i in range(9) %}"
            "{% set ns.s = ns.s|replace('a', 'a' * 60) %}{% endfor %}",
            f"{MAX_STRING:,}",
        ),
        ("{{ 2 ** 100000 }}", "4,096 bit"),
        (
            "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
            "bit",
        ),
        ("{{ range(1000000000)|list|length }}", f"{MAX_RANGE:,}"),
        (
            "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
            f"{MAX_ITERATIONS:,}",
        ),
        ("{% for i in range(9999) %}{{ 'x' * 999999 }}{% endfor %}", f"{MAX_OUTPUT:,}"),
    ],
)
def test_a_runaway_template_is_refused_fast_naming_the_bound(source: str, bound: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateLimitError) as error:
        _render(source)
    assert time.monotonic() - started < 3
    assert bound in str(error.value)


def test_ordinary_templates_still_render() -> None:
    text = _render(
        "{{ 'x' * 3 }} {% for i in range(3) %}{{ loop.index }}{% endfor %} {{ 'a' ~ 1 }} {{ [1, 2]|join(',') }}"
    )
    assert text == "xxx 123 a1 1,2"
    assert _render("{{ '%05d'|format(42) }} {{ 'ab'|center(6) }}|") == "00042   ab  |"


def test_a_template_that_recurses_forever_is_stopped_by_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import templates.limits as limits

    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.5)
    source = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match=r"Mẫu dựng quá 0\.5 giây"):
        _render(source)
    assert time.monotonic() - started < 3


def test_lipsum_is_not_offered() -> None:
    with pytest.raises(Exception, match="lipsum"):
        _render("{{ lipsum(100000) }}")


def _override(root: Path, relative: str, text: str) -> None:
    file = root / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def test_validate_refuses_a_billion_characters_fast_with_the_file_line_and_bound(tmp_path: Path) -> None:
    _override(tmp_path, "email/reminder.txt.j2", "Kính gửi\n{{ 'a' * 1000000000 }}\n")
    started = time.monotonic()
    problems = validate(tmp_path)
    assert time.monotonic() - started < 5
    assert [(p.path.name, p.line) for p in problems] == [("reminder.txt.j2", 2)]
    assert f"quá giới hạn {MAX_STRING:,}" in problems[0].message


def test_cli_templates_validate_refuses_it_in_one_sentence(tmp_path: Path) -> None:
    from cli.templates import app

    _override(tmp_path, "zalo/reminder.txt.j2", "{{ 'a' * 1000000000 }}\n")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert "quá giới hạn" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("source", "bound"), PROBES)
def test_the_probe_is_refused_fast_in_vietnamese(source: str, bound: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateLimitError) as error:
        _render(source)
    assert time.monotonic() - started < 2
    message = str(error.value)
    assert bound in message and message.startswith("Mẫu") and "Error" not in message


@pytest.mark.parametrize(("source", "bound"), PROBES)
def test_validation_reports_the_probe_as_one_sentence(tmp_path: Path, source: str, bound: str) -> None:
    _override(tmp_path, "email/reminder.txt.j2", "Kính gửi\n" + source + "\n")
    started = time.monotonic()
    problems = validate(tmp_path)
    assert time.monotonic() - started < 3
    assert [p.path.name for p in problems] == ["reminder.txt.j2"]
    assert bound in problems[0].message and "RecursionError" not in problems[0].message


def test_sum_over_lists_is_linear_and_still_works() -> None:
    started = time.monotonic()
    assert _render("{{ ([[1] * 250] * 4000)|sum(start=[])|length }}") == "1000000"
    assert time.monotonic() - started < 3
    assert _render(
        "{{ [[1], [2, 3]]|sum(start=[]) }} {{ [1, 2, 3]|sum }} {{ [(1,), (2,)]|sum(start=()) }}"
    ) == ("[1, 2, 3] 6 (1, 2)")


def test_ordinary_uses_of_the_bounded_filters_and_methods_are_unchanged() -> None:
    source = (
        "{{ [1, 2]|map('string')|join(',') }}|{{ range(5)|batch(2, 0)|list }}|{{ 'ab'|wordwrap(1) }}|"
        "{{ '%5.2f' % 3.14159 }}|{{ '%-*d' % (4, 7) }}|{{ '{x:{w}}'.format_map({'x': 1, 'w': 3}) }}|"
        "{{ 'abc'.translate({97: 'xy'}) }}|{{ {'a': 1} }}|{{ ['a', 'b']|tojson }}|{{ [3, 1]|sort|first }}"
    )
    assert _render(source) == '1,2|[[0, 1], [2, 3], [4, 0]]|a\nb| 3.14|7   |  1|xybc|{\'a\': 1}|["a", "b"]|1'


def test_a_message_being_sent_gets_the_send_budget_not_the_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 5 s of a render is for validation and previews; rendering an outbox message (a catch-up day's big bundle
    on a busy machine) gets delivery.pipeline.SEND_RENDER_SECONDS, so a slow morning does not fail the pass."""
    import templates.limits as limits
    from delivery import pipeline

    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.01)  # as if the machine were slow (the loops take ~0.1 s)
    slow = make_environment().from_string(
        "{% for i in range(3000) %}{% for j in range(300) %}{% endfor %}{% endfor %}ok"
    )
    with pytest.raises(TemplateLimitError):
        slow.render()  # a preview: the sandbox's own bound stops it
    assert pipeline.SEND_RENDER_SECONDS >= 60
    monkeypatch.setattr(pipeline, "SEND_RENDER_SECONDS", 60.0)
    with limits.render_limits(pipeline.SEND_RENDER_SECONDS):  # as pipeline.render wraps each message
        assert slow.render() == "ok"


def test_a_pass_renders_its_messages_within_the_send_budget(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import json

    import templates.limits as limits

    assert run_cli("init").exit_code == 0
    monkeypatch.setattr(limits, "RENDER_SECONDS", 1e-9)  # any render outside a send budget would be stopped
    result = run_cli("run", "--once", "--at", "2020-12-01 07:30")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(run_cli("outbox", "list", "--json").stdout)
    assert rows and all(row["status"] in ("written", "sent", "skipped") for row in rows)


# What the sandbox misses cannot stall the web or the CLI: checks and previews run in a limited child.
def test_a_check_past_its_time_is_killed_and_called_too_heavy(tmp_path: Path) -> None:
    from web.isolation import check_templates

    _override(tmp_path, "email/reminder.txt.j2", SLOW)
    started = time.monotonic()
    with pytest.raises(UserError, match=r"^Mẫu quá nặng: kiểm tra và dựng thử mất hơn 1 giây"):
        check_templates(tmp_path, seconds=1.0)
    assert time.monotonic() - started < 4


def test_a_check_past_its_memory_is_called_too_heavy_and_passes_within_it(tmp_path: Path) -> None:
    from web.isolation import check_templates

    _override(tmp_path, "email/reminder.txt.j2", BIG_LIVE)
    with pytest.raises(UserError, match=r"^Mẫu quá nặng: kiểm tra và dựng thử cần hơn 40 MB bộ nhớ"):
        check_templates(tmp_path, memory_mb=40)
    assert check_templates(tmp_path).problems == []


def test_the_child_renders_what_a_preview_shows(tmp_path: Path) -> None:
    from templates.context import sample_context
    from templates.render import Renderer
    from web.isolation import check_templates

    _override(tmp_path, "email/reminder.subject.j2", "Nhắc việc {{ task.code }}\n")
    context = sample_context("reminder", "email")
    checked = check_templates(tmp_path, [("reminder", "email", context)])
    assert checked.problems == [] and checked.refused is None
    assert checked.rendered == [Renderer(tmp_path).render("reminder", "email", context)]
    assert checked.rendered[0].subject.startswith("Nhắc việc ")


@pytest.mark.parametrize(("source", "bound"), PROBES)
def test_the_cli_refuses_the_probe_in_one_sentence(tmp_path: Path, source: str, bound: str) -> None:
    from cli.templates import app

    _override(tmp_path, "zalo/reminder.txt.j2", source + "\n")
    started = time.monotonic()
    result = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert time.monotonic() - started < 4
    assert result.exit_code == 1
    assert bound in " ".join(result.output.split()) and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '{{ "{{}} {}".format(5000000) }}',
            "{} 5000000",
        ),  # an escaped brace is no width taken from an argument
        ('{{ "%d%% (*ghi chú)" % 5000000 }}', "5000000% (*ghi chú)"),  # nor is an escaped percent
        ("{{ ['a', 'b']|length }} {{ ['a', 'b']|first }} {{ ['a', 'b']|last }}", "2 a b"),
    ],
)
def test_escapes_and_cheap_filters_are_not_taken_for_heavy_work(source: str, expected: str) -> None:
    assert _render(source) == expected


def test_length_of_a_big_list_is_not_weighed() -> None:
    """``items|length`` of a catch-up bundle heavier than the weight bound is a count, not a walk."""
    big = [{"text": "x" * 1000} for _ in range(20_000)]  # 20 M characters: over MAX_WEIGHT
    assert make_environment().from_string("{{ items|length }}").render(items=big) == "20000"
