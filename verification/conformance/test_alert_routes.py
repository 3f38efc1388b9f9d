"""Alertmanager routing: amtool walks the real tree for every severity x env x app, and the
intent's faults reach exactly their receivers (inhibition included)."""

from pathlib import Path
from typing import Any

import pytest

from verification.models.monitoring import alert_intent, alerts, routes


@pytest.fixture(scope="module")
def config(platform_objects: list[dict[str, Any]]) -> dict[str, Any]:
    return routes.config(platform_objects)


@pytest.fixture(scope="module")
def config_path(config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return routes.write_config(config, tmp_path_factory.mktemp("alertmanager"))


def _fail(problems: list[str], what: str) -> None:
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(problems)


def test_amtool_accepts_the_configuration(config_path: Path) -> None:
    _fail(routes.amtool_check(config_path), "configuration problem(s)")


def test_every_route_combination_reaches_exactly_its_receivers(config_path: Path) -> None:
    dimensions, cases = routes.route_expectations()
    _fail(routes.check_route_table(config_path, dimensions, cases), "routing problem(s)")


def test_every_route_matcher_can_match(config: dict[str, Any], platform_objects: list[dict[str, Any]]) -> None:
    dimensions, _ = routes.route_expectations()
    universe = routes.label_universe(alerts.rule_set(platform_objects), dimensions)
    _fail(routes.check_matchers(config, universe), "dead route(s)")


def test_inhibition_stays_within_one_alert_app_and_env(config: dict[str, Any]) -> None:
    _fail(routes.check_inhibit_rules(config), "inhibit rule problem(s)")


def test_receivers_read_secrets_from_files_and_send_resolved(config: dict[str, Any]) -> None:
    _fail(routes.check_receivers(config), "receiver problem(s)")


def test_intent_faults_reach_exactly_their_receivers(config: dict[str, Any], config_path: Path) -> None:
    verdict = alert_intent.check_routing(alert_intent.load(), config, config_path)
    assert verdict.ok, verdict.render()
