"""`platform-verify alerts check|rules|route`: the monitoring stack's static proofs from the CLI.

- check: every alerting check conformance runs (promtool, amtool, routes, intent, dashboards).
- rules: the rule file extracted from the PrometheusRule objects (what Prometheus loads).
- route LABEL=VALUE ...: the receivers Alertmanager picks for an alert with these labels.
"""

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from verification.commands import report
from verification.errors import UserError
from verification.models.monitoring import alert_intent, alerts, dashboards, routes
from verification.paths import MANIFESTS
from verification.yamlio import load_manifests


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("alerts", help="prove alert rules, routes and dashboards (promtool, amtool)")
    parser.add_argument("action", choices=["check", "rules", "route"])
    parser.add_argument("labels", nargs="*", help="route: LABEL=VALUE pairs of the alert")
    parser.add_argument("--manifests", action="append", type=Path, help="manifest file or directory (repeatable)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    objects = load_manifests(args.manifests or [MANIFESTS])
    if args.action == "rules":
        sys.stdout.write(yaml.safe_dump(alerts.rule_file(objects), sort_keys=False, width=1000))
        return 0
    with tempfile.TemporaryDirectory(prefix="platform-verify-alerts-") as tmp:
        config_path = routes.write_config(routes.config(objects), Path(tmp))
        if args.action == "route":
            labels = dict(_pair(p) for p in args.labels)
            print(",".join(routes.amtool_receivers(config_path, labels)) or "(no receiver)")
            return 0
        return _check(objects, config_path, Path(tmp))


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise UserError(f"expected LABEL=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    return key, value


def _check(objects: list[dict[str, Any]], config_path: Path, tmp: Path) -> int:
    rules = alerts.rule_set(objects)
    cfg = routes.config(objects)
    boards = dashboards.load(objects)
    rule_path = alerts.write_rule_file(objects, tmp)
    dimensions, cases = routes.route_expectations()
    intent = alert_intent.load()
    sections = {
        "promtool check rules": alerts.promtool_check(rule_path),
        "promtool test rules": alerts.promtool_test(rule_path, alerts.test_files()),
        "alert tests coverage": alerts.check_test_coverage(rules, alerts.test_files()),
        "alert rules": alerts.check_rules(rules, dashboard_uids=set(boards.boards)),
        "amtool check-config": routes.amtool_check(config_path),
        "routes": routes.check_route_table(config_path, dimensions, cases),
        "route matchers": routes.check_matchers(cfg, routes.label_universe(rules, dimensions)),
        "inhibit rules": routes.check_inhibit_rules(cfg),
        "receivers": routes.check_receivers(cfg),
        "intent": alert_intent.check_against_rules(intent, rules)
        + alert_intent.check_routing(intent, cfg, config_path).problems(),
        "dashboards": dashboards.check(boards) + dashboards.promtool_parse(dashboards.queries(boards)),
        "grafana settings": dashboards.check_settings(objects),
    }
    failed = report(sections)
    print(
        f"{len(rules.alerts)} alert rules, {len(cases)} route cases, "
        f"{len(intent.faults)} fault intents, {len(boards.boards)} dashboards"
    )
    return failed
