"""pint-like rule checks on hand-written alerts."""

from verification.models.monitoring import rule_hygiene as rh
from verification.models.monitoring.alerts import AlertRule


def alert(name: str, expr: str, for_: str | None = "1m", **labels: str) -> AlertRule:
    return AlertRule(name, expr, for_, {"severity": "warning", **labels}, {}, "g", "rules.yaml")


RATE = alert("AppHighErrorRatio", 'rate(http_requests_total{app="web", code=~"5.."}[2m]) > 1')
ABSENT_TEST = alert("AppTargetsAbsent", 'absent(up{app="web", env="test"})', "10m")


def test_for_must_hold_two_scrapes() -> None:
    assert rh.check_for_durations([RATE], 30) == []
    (problem,) = rh.check_for_durations([alert("A", "x > 1", "45s")], 30)
    assert "for 45s holds fewer than 2 scrapes of 30s (needs >= 60s)" in problem
    assert rh.check_for_durations([alert("Watchdog", "vector(1)", None)], 30) == []


def test_absent_guard_per_app_and_environment() -> None:
    deployed = {"web": {"test", "staging"}}
    (missing,) = rh.check_absent_guards([RATE, ABSENT_TEST], deployed)
    assert "nothing fires when its targets vanish in staging" in missing
    staging = alert("AppTargetsAbsent", 'absent(up{env="staging", app="web"})', "10m")
    assert rh.check_absent_guards([RATE, ABSENT_TEST, staging], deployed) == []


def test_windows_names_duplicates_external_labels() -> None:
    long = alert("SlowBurn", "rate(x[30d]) > 1")
    assert "range [30d] is longer than the retention 15d" in rh.check_windows([long, RATE], "15d")[0]
    problems = rh.check_names_and_duplicates([RATE, RATE, alert("bad_name", "x > 1", cluster="a")], {"cluster": "p"})
    assert any("duplicates one" in p for p in problems)
    assert any("'bad_name' is not CamelCase" in p for p in problems)
    assert any("sets label 'cluster', an external label" in p for p in problems)
