"""Alert rules: extracted from the PrometheusRule objects once, proven by promtool and by the
checks promtool cannot make (metrics that exist, comparisons, justified `for`, runbooks)."""

from pathlib import Path
from typing import Any

import pytest

from verification.models.monitoring import alert_intent, alerts, dashboards


@pytest.fixture(scope="module")
def rules(platform_objects: list[dict[str, Any]]) -> alerts.RuleSet:
    return alerts.rule_set(platform_objects)


@pytest.fixture(scope="module")
def rule_path(platform_objects: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return alerts.write_rule_file(platform_objects, tmp_path_factory.mktemp("rules"))


def _fail(problems: list[str], what: str) -> None:
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(problems)


def test_the_platform_has_alert_rules(rules: alerts.RuleSet) -> None:
    assert rules.alerts, "no alert rule selected by the Prometheus resource"


def test_promtool_accepts_the_rules(rule_path: Path) -> None:
    _fail(alerts.promtool_check(rule_path), "rule file problem(s)")


def test_every_alert_passes_its_promtool_unit_tests(rule_path: Path) -> None:
    _fail(alerts.promtool_test(rule_path, alerts.test_files()), "promtool test failure(s)")


def test_every_alert_is_tested_firing_and_silent(rules: alerts.RuleSet) -> None:
    _fail(alerts.check_test_coverage(rules, alerts.test_files()), "untested alert(s)")


def test_rules_are_labelled_linked_and_well_formed(
    rules: alerts.RuleSet, platform_objects: list[dict[str, Any]]
) -> None:
    uids = set(dashboards.load(platform_objects).boards)
    _fail(alerts.check_rules(rules, dashboard_uids=uids), "alert rule problem(s)")


def test_intent_alerts_exist_with_their_labels(rules: alerts.RuleSet) -> None:
    _fail(alert_intent.check_against_rules(alert_intent.load(), rules), "alert intent mismatch(es)")
