"""Templates render with limits: a runaway template is refused fast, with a Vietnamese sentence naming the bound."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from templates.limits import MAX_ITERATIONS, MAX_OUTPUT, MAX_RANGE, MAX_STRING, TemplateLimitError
from templates.render import make_environment, validate


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
