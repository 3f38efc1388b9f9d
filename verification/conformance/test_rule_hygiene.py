"""pint's rule checks that promtool does not make (platform/docs/linter-coverage.md, pint section)."""

from typing import Any

import pytest

from verification.models.delivery import chart as bg
from verification.models.monitoring import alerts, rule_hygiene


@pytest.fixture(scope="module")
def rules(platform_objects: list[dict[str, Any]]) -> alerts.RuleSet:
    return alerts.rule_set(platform_objects)


@pytest.fixture(scope="module")
def prometheus(platform_objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = alerts.prometheus_resource(platform_objects)["spec"]
    return spec


def test_for_holds_two_scrapes(rules: alerts.RuleSet, prometheus: dict[str, Any]) -> None:
    problems = rule_hygiene.check_for_durations(rules.alerts, max(rule_hygiene.scrape_intervals(prometheus).values()))
    assert not problems, "\n".join(problems)


def test_every_app_alerted_on_has_absent_guards(rules: alerts.RuleSet) -> None:
    deployed: dict[str, set[str]] = {}
    for env in bg.environments():
        if bg.namespace_for(env) == env:  # profiles (e2e) deploy into an environment's namespace
            for app in bg.apps(env):
                deployed.setdefault(app, set()).add(env)
    problems = rule_hygiene.check_absent_guards(rules.alerts, deployed)
    assert not problems, "\n".join(problems)


def test_windows_names_duplicates_and_labels(rules: alerts.RuleSet, prometheus: dict[str, Any]) -> None:
    problems = rule_hygiene.check_windows(rules.alerts, prometheus.get("retention", "15d"))
    problems += rule_hygiene.check_names_and_duplicates(rules.alerts, prometheus.get("externalLabels") or {})
    assert not problems, "\n".join(problems)
