"""Deliberate mistakes, applied to a temporary copy of the monitoring code, fail the checks
conformance runs, with a message naming the cause."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from verification.models.monitoring import alerts, dashboards, routes
from verification.paths import REPO_ROOT
from verification.yamlio import load_manifests

COPIED = ("platform/manifests/monitoring", "platform/monitoring-tests", "platform/docs/runbooks")
RULES = "platform/manifests/monitoring/rules-sample-app.yaml"
AM_CONFIG = "platform/manifests/monitoring/alertmanager-config.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for part in COPIED:
        shutil.copytree(REPO_ROOT / part, tmp_path / part)
    return tmp_path


def edit(root: Path, relative: str, old: str, new: str, count: int = 1) -> None:
    path = root / relative
    text = path.read_text()
    assert text.count(old) >= count, f"mutation anchor not found in {relative}: {old!r}"
    path.write_text(text.replace(old, new, count))


def objects(root: Path) -> list[dict[str, Any]]:
    return load_manifests([root / "platform/manifests/monitoring"])


def rule_problems(root: Path) -> list[str]:
    objs = objects(root)
    return alerts.check_rules(alerts.rule_set(objs), repo_root=root, dashboard_uids=set(dashboards.load(objs).boards))


def assert_named(problems: list[str], *fragments: str) -> None:
    hits = [p for p in problems if all(f in p for f in fragments)]
    assert hits, f"no problem mentions {fragments}; got:\n" + "\n".join(problems)


def test_the_unmutated_copy_is_clean(root: Path) -> None:
    assert rule_problems(root) == []
    cfg = routes.config(objects(root))
    assert routes.check_inhibit_rules(cfg) == routes.check_receivers(cfg) == []


def test_misspelled_metric_in_an_alert(root: Path) -> None:
    edit(
        root,
        RULES,
        'rate(http_requests_total{app="sample-app", route!~',
        'rate(http_request_total{app="sample-app", route!~',
    )
    assert_named(rule_problems(root), "AppHighErrorRatio", "http_request_total", "did you mean http_requests_total")


def test_alert_without_a_comparison(root: Path) -> None:
    edit(root, RULES, 'expr: up{app="sample-app"} == 0', 'expr: up{app="sample-app"}')
    assert_named(rule_problems(root), "AppTargetDown", "no comparison")


def test_for_removed_from_a_flapping_prone_alert(root: Path) -> None:
    path = root / RULES
    lines = path.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "- alert: AppHighLatency" in line)
    index = next(i for i in range(start, len(lines)) if lines[i].strip() == "for: 1m")
    path.write_text("".join(lines[:index] + lines[index + 1 :]))
    assert_named(rule_problems(root), "AppHighLatency", "has no `for`", "flapping-prone")


def test_for_without_a_justifying_comment(root: Path) -> None:
    edit(
        root,
        RULES,
        "          # for 1m: a pod being replaced misses a scrape or two; four failed scrapes in a row\n"
        "          # mean the pod is not coming back by itself.\n",
        "",
    )
    assert_named(rule_problems(root), "rules-sample-app.yaml", "`for: 1m` has no comment")


def test_missing_runbook(root: Path) -> None:
    (root / "platform/docs/runbooks/app-high-latency.md").unlink()
    assert_named(rule_problems(root), "AppHighLatency", "missing runbook", "app-high-latency.md")


def test_rule_object_not_selected_by_prometheus(root: Path) -> None:
    edit(root, RULES, "    role: alert-rules\n", "")
    assert_named(rule_problems(root), "PrometheusRule monitoring/sample-app is not selected")


def test_route_whose_matcher_never_matches(root: Path) -> None:
    edit(root, AM_CONFIG, "matchers: ['app=\"sample-app\"']", "matchers: ['app=\"sampleapp\"']")
    objs = objects(root)
    dimensions, _ = routes.route_expectations(root / "platform/monitoring-tests/routes.yaml")
    universe = routes.label_universe(alerts.rule_set(objs), dimensions)
    assert_named(routes.check_matchers(routes.config(objs), universe), 'app="sampleapp"', "never matches")


def test_receiver_name_typo(root: Path, tmp_path: Path) -> None:
    edit(root, AM_CONFIG, "- receiver: slack-sample2-app", "- receiver: slack-sampel2-app")
    path = routes.write_config(routes.config(objects(root)), tmp_path)
    assert_named(routes.amtool_check(path), 'undefined receiver "slack-sampel2-app"')


def test_duplicated_rule_fails_promtool_lint(root: Path, tmp_path: Path) -> None:
    # promtool check rules only warns about a duplicate unless its lint is fatal.
    rules = root / "platform/manifests/monitoring/rules-platform.yaml"
    text = rules.read_text()
    start = text.index("        - alert: Watchdog")
    rules.write_text(text + text[start:])
    rule_path = alerts.write_rule_file(objects(root), tmp_path)
    assert_named(alerts.promtool_check(rule_path), "promtool check rules failed", "duplicate")


def test_matcher_only_the_classic_parser_reads_is_refused(root: Path, tmp_path: Path) -> None:
    # Alertmanager >= 0.27 would accept this with a fallback warning in its log; strict UTF-8 parsing refuses it.
    # (measured with amtool 0.35: single quotes and unquoted values with spaces pass only the classic parser)
    edit(root, AM_CONFIG, "'env=\"staging\"'", "\"env='staging'\"")
    path = routes.write_config(routes.config(objects(root)), tmp_path)
    assert_named(routes.amtool_check(path), "amtool check-config failed", "invalid input: expected label value")


def test_route_table_shows_the_misrouted_combination(root: Path, tmp_path: Path) -> None:
    edit(root, AM_CONFIG, "matchers: ['severity=\"critical\"']", "matchers: ['severity=\"crit\"']")
    path = routes.write_config(routes.config(objects(root)), tmp_path)
    dimensions, cases = routes.route_expectations(root / "platform/monitoring-tests/routes.yaml")
    assert_named(
        routes.check_route_table(path, dimensions, cases), "severity=critical env=test app=sample-app", "pager"
    )


def test_inhibit_rule_without_equal(root: Path) -> None:
    edit(root, AM_CONFIG, "        equal: [alertname, env, app]\n", "")
    assert_named(routes.check_inhibit_rules(routes.config(objects(root))), 'severity="critical"', "has no `equal`")


def test_inhibit_rule_equal_without_app(root: Path) -> None:
    edit(root, AM_CONFIG, "equal: [alertname, env, app]", "equal: [alertname, env]")
    assert_named(routes.check_inhibit_rules(routes.config(objects(root))), "`equal` lacks app")


def test_inlined_receiver_secret_and_missing_send_resolved(root: Path) -> None:
    edit(
        root,
        AM_CONFIG,
        "- api_url_file: /etc/alertmanager/secrets/alertmanager-receivers/slack-webhook-url",
        "- api_url: https://hooks.slack.com/services/T000/B000/XXXX",
    )
    edit(
        root,
        AM_CONFIG,
        "            send_resolved: true\n            severity: critical",
        "            severity: critical",
    )
    problems = routes.check_receivers(routes.config(objects(root)))
    assert_named(problems, "slack_configs[0].api_url is inlined")
    assert_named(problems, "receiver pager", "send_resolved")


def test_dashboard_with_a_misspelled_metric(root: Path) -> None:
    edit(root, "platform/manifests/monitoring/grafana-dashboards.yaml", "(app_info{", "(app_infos{")
    assert_named(dashboards.check(dashboards.load(objects(root))), "panel 'Running versions'", "app_infos")


def test_grafana_secret_inlined(root: Path) -> None:
    edit(
        root,
        "platform/manifests/monitoring/grafana-config.yaml",
        "client_secret = $__file{/etc/secrets/grafana/gitlab-client-secret}",
        "client_secret = s3cr3t",
    )
    assert_named(dashboards.check_settings(objects(root)), "[auth.gitlab] client_secret is inlined")


def test_promtool_catches_a_wrong_threshold(root: Path, tmp_path: Path) -> None:
    edit(root, RULES, ") > 0.25", ") > 0.6")
    rule_path = alerts.write_rule_file(objects(root), tmp_path)
    files = [root / "platform/monitoring-tests/sample-app.test.yaml"]
    assert_named(alerts.promtool_test(rule_path, files), "sample-app.test.yaml", "AppHighErrorRatio")


def test_alert_without_a_resolution_test(root: Path) -> None:
    tests = "platform/monitoring-tests/sample-app.test.yaml"
    edit(root, tests, "      - eval_time: 11m30s\n        alertname: AppTargetsAbsent\n        exp_alerts: []\n", "")
    files = alerts.test_files(root / "platform/monitoring-tests")
    assert_named(
        alerts.check_test_coverage(alerts.rule_set(objects(root)), files),
        "AppTargetsAbsent (critical, sample-app.targets)",
        "resolves",
    )
