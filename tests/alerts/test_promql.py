"""The PromQL reader against hand-checked expressions."""

import pytest

from verification.models import promql


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('up{job="x"} == 0', {"up"}),
        ("sum by (le, env) (rate(http_request_duration_seconds_bucket[5m]))", {"http_request_duration_seconds_bucket"}),
        ("sum(rate(a_total[1m])) by (job) / ignoring(color) group_left sum(b_total)", {"a_total", "b_total"}),
        ("a / on (pod) group_left (node) b", {"a", "b"}),
        ('{__name__="app_info", env="test"}', {"app_info"}),
        ("rate(x[5m] offset 1h) > 0", {"x"}),
        ("vector(1)", set()),
        ('label_replace(up, "env", "$1", "namespace", "(.+)")', {"up"}),
        ("histogram_quantile(0.99, sum by (le) (rate(h_bucket[1m]))) > 0.5", {"h_bucket"}),
        ("count(up == 0) or vector(0)", {"up"}),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert promql.metric_names(expr) == names


@pytest.mark.parametrize(
    ("expr", "filters"),
    [
        ("up == 0", True),
        ("up", False),
        ("rate(x[5m])", False),
        ("(sum(rate(x[1m])) / sum(rate(y[1m]))) > 0.25", True),
        ("up > bool 0", False),  # bool returns 0/1 for every series
        ("absent(up{job='x'})", True),
        ("absent(up) + 1", False),
        ("(a > 1) and b", True),
        ("a and (b > 1)", True),
        ("a or b > 1", False),  # a's series pass unfiltered
        ("a > 1 or b > 2", True),
        ("a unless b > 1", False),
        ("a > 1 unless b", True),
        ("count by (env) (x > 0.05) > 1", True),
        ('sum(rate(x{status=~"5..", route!="/"}[1m]))', False),  # operators inside matchers do not count
    ],
)
def test_has_comparison(expr: str, filters: bool) -> None:
    assert promql.has_comparison(expr) is filters
