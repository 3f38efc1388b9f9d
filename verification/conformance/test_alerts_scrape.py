"""The rules' assumptions about scraping hold for what the charts deploy: Prometheus selects every
app's ServiceMonitor, the relabelling produces the labels the rules and routes use, and every
rate window holds at least four scrapes."""

import re
from typing import Any

import pytest

from verification.models.delivery import chart as bluegreen
from verification.models.monitoring import alerts, rule_hygiene

MIN_SAMPLES_PER_WINDOW = 4
RULE_LABELS = {"env", "app", "color", "version"}


def _namespace_labels(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    for ns in objects:
        if ns["kind"] == "Namespace" and ns["metadata"]["name"] == name:
            return {**(ns["metadata"].get("labels") or {}), "kubernetes.io/metadata.name": name}
    return {}


@pytest.fixture(scope="module")
def renders(chart_renders: dict[tuple[str, str, str], bluegreen.Render]) -> list[bluegreen.Render]:
    return [chart_renders[(app, env, "blue")] for env in ("test", "staging") for app in bluegreen.apps(env)]


def test_prometheus_selects_every_app_servicemonitor(
    platform_objects: list[dict[str, Any]], renders: list[bluegreen.Render]
) -> None:
    spec = alerts.prometheus_resource(platform_objects)["spec"]
    problems = []
    for render in renders:
        for monitor in render.of_kind("ServiceMonitor"):
            where = f"{render.label}: ServiceMonitor {monitor['metadata']['name']}"
            if not alerts.matches_selector(monitor["metadata"].get("labels") or {}, spec["serviceMonitorSelector"]):
                problems.append(f"{where}: labels not selected by serviceMonitorSelector")
            namespace = _namespace_labels(platform_objects, render.namespace)
            if not alerts.matches_selector(namespace, spec["serviceMonitorNamespaceSelector"]):
                problems.append(
                    f"{where}: namespace {render.namespace} not selected by serviceMonitorNamespaceSelector"
                )
            for endpoint in monitor["spec"].get("endpoints") or []:
                targets = {r.get("targetLabel") for r in endpoint.get("relabelings") or []}
                if RULE_LABELS - targets:
                    problems.append(f"{where}: relabelling lacks {sorted(RULE_LABELS - targets)}, which the rules use")
        if not render.of_kind("ServiceMonitor"):
            problems.append(f"{render.label}: no ServiceMonitor, so no app alert can fire")
    assert not problems, "\n".join(problems)


def test_every_rate_window_holds_four_scrapes(platform_objects: list[dict[str, Any]]) -> None:
    windows = {
        (alert.title, window)
        for alert in alerts.rule_set(platform_objects).alerts
        for window in re.findall(r"\[(\d+[smhd])\]", alert.expr)
    }
    intervals = rule_hygiene.scrape_intervals(alerts.prometheus_resource(platform_objects)["spec"])
    problems = [
        f"alert {title}: a [{window}] window holds fewer than {MIN_SAMPLES_PER_WINDOW} scrapes of {who} "
        f"(interval {seconds:.0f}s)"
        for title, window in sorted(windows)
        for who, seconds in intervals.items()
        if alerts.duration_seconds(window) < MIN_SAMPLES_PER_WINDOW * seconds
    ]
    assert not problems, "\n".join(problems)
