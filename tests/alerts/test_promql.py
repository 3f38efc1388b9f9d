"""The PromQL reader against hand-checked expressions."""

import pytest

from verification.models.monitoring import promql


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


@pytest.mark.parametrize(
    ("value", "stored"),
    # Expected texts are Go's strconv.FormatFloat(f, 'g', -1, 64) output (run with go1.26), plus ".0"
    # where it has neither "." nor "e", as model/labels.FormatOpenMetricsFloat does.
    [
        ("1", "1.0"),
        ("10", "10.0"),
        ("100000", "100000.0"),
        ("0.25", "0.25"),
        ("0.005", "0.005"),
        ("1e6", "1e+06"),
        ("1234567", "1.234567e+06"),
        ("0.00001", "1e-05"),
        ("123456.5", "123456.5"),
        ("+Inf", "+Inf"),
        ("0", "0.0"),
        ("abc", None),
    ],
)
def test_normalised_float_is_what_prometheus_3_stores(value: str, stored: str | None) -> None:
    assert promql.normalised_float(value) == stored


def test_bucket_matchers_that_prometheus_3_never_matches() -> None:
    expr = 'sum(rate(d_bucket{le="1", x="le=\\"2\\""}[5m])) / s{quantile="0.5"} + t{le!="10"} + u{le="+Inf"}'
    assert promql.unnormalised_bucket_matchers(expr) == [
        'le="1" (Prometheus 3 stores le="1.0")',
        'le!="10" (Prometheus 3 stores le="10.0")',
    ]
    assert promql.unnormalised_bucket_matchers('d_bucket{le="1.0"} + d_bucket{le="0.25"} + d{handle="1"}') == []


def test_quoted_utf8_metric_names_are_read() -> None:
    # Prometheus 3 selects a UTF-8 metric name as a lone string inside the braces.
    assert promql.metric_names('rate({"http.requests.total", job="x"}[1m]) / {"a.b"}') == {"http.requests.total", "a.b"}
    assert promql.metric_names('up{job="x"}') == {"up"}
