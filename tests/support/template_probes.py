"""The QA probe that got past the first template sandbox (issue 14), and templates that pass the sandbox but are
slow or big: shared by tests/test_template_limits.py and tests/test_web_template_limits.py."""

from __future__ import annotations

import pytest

from templates.limits import MAX_OUTPUT, MAX_STRING, MAX_WEIGHT, MAX_WRAP

# The QA probe that got past the first sandbox: each construct refused in Vietnamese, fast, in validation too.
_BIG = "{% set s = 'a' * 999999 %}"
PROBES = [
    pytest.param("{{ '%.*d' % (1000000000, 1) }}", f"{MAX_STRING:,}", id="percent-star-precision"),
    pytest.param("{{ '%*d' % (1000000000, 1) }}", f"{MAX_STRING:,}", id="percent-star-width"),
    pytest.param("{{ ('a' * 1000).translate({97: 'b' * 999999}) }}", f"{MAX_STRING:,}", id="translate"),
    pytest.param(
        "{{ '{x:{w}}'.format_map({'x': 1, 'w': 1000000000}) }}", f"{MAX_STRING:,}", id="format_map-width"
    ),
    pytest.param(_BIG + "{{ '{0}{0}{0}{0}{0}{0}{0}{0}'.format(s) }}", f"{MAX_STRING:,}", id="format-repeat"),
    pytest.param("{{ ['a' * 999999] * 999999 }}", f"{MAX_WEIGHT:,}", id="list-of-big-strings"),
    pytest.param(_BIG + "{{ ([s] * 2000)|map('upper')|list|length }}", f"{MAX_WEIGHT:,}", id="map-over-big"),
    pytest.param(
        _BIG + "{{ [" + ",".join(["s"] * 20) + "]|map('upper')|list|length }}",
        f"{MAX_WEIGHT:,}",
        id="map-over-literal-list",
    ),
    pytest.param(_BIG + "{{ [s, s, s, s] }}", f"{MAX_OUTPUT:,}", id="print-big-list"),
    pytest.param(_BIG + "{{ [s, s, s, s]|string|length }}", f"{MAX_OUTPUT:,}", id="string-filter"),
    pytest.param(_BIG + "{{ [s, s, s, s]|tojson|length }}", f"{MAX_OUTPUT:,}", id="tojson"),
    pytest.param(_BIG + "{{ [s, s, s, s]|pprint|length }}", f"{MAX_OUTPUT:,}", id="pprint"),
    pytest.param(_BIG + "{{ [" + ",".join(["s"] * 11) + "]|join|length }}", f"{MAX_WEIGHT:,}", id="join"),
    pytest.param("{{ [1]|batch(100000000, 'x')|list|length }}", f"{MAX_STRING:,}", id="batch-fill"),
    pytest.param("{{ ([[1] * 1000] * 4000)|sum(start=[])|length }}", f"{MAX_STRING:,}", id="sum-lists"),
    pytest.param("{{ ('a' * 999999)|wordwrap(1)|length }}", f"{MAX_WRAP:,}", id="wordwrap"),
    pytest.param(
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}",
        "gọi macro lồng nhau quá sâu",
        id="recursion",
    ),
]


SLOW = "{% for i in range(10000) %}{% set x = ('a' * 500000).upper() %}{% endfor %}x\n"
BIG_LIVE = (
    "{% set a = 'x' * 999990 %}"
    + "".join(f"{{% set v{i} = a ~ '{i}' %}}" for i in range(40))
    + "{{ v1|length }}\n"
)
