"""Grafana: dashboards parse, read only metrics that exist, cover what each app promises; the
settings keep secrets out of git and cookies, HSTS and TLS on."""

from typing import Any

from verification.models.monitoring import dashboards


def test_dashboards_are_valid_and_complete(platform_objects: list[dict[str, Any]]) -> None:
    problems = dashboards.check(dashboards.load(platform_objects))
    assert not problems, f"{len(problems)} dashboard problem(s):\n" + "\n".join(problems)


def test_every_panel_query_parses(platform_objects: list[dict[str, Any]]) -> None:
    found = dashboards.queries(dashboards.load(platform_objects))
    assert found, "no dashboard query found"
    problems = dashboards.promtool_parse(found)
    assert not problems, "\n".join(problems)


def test_grafana_settings_are_secure(platform_objects: list[dict[str, Any]]) -> None:
    problems = dashboards.check_settings(platform_objects)
    assert not problems, f"{len(problems)} Grafana setting problem(s):\n" + "\n".join(problems)
