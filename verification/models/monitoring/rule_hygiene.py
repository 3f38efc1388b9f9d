"""What pint checks in Prometheus rules and promtool does not (platform/docs/linter-coverage.md, pint).

Pure functions of the rule set, the scrape intervals and the Prometheus resource:
- `for` holds at least two scrapes of the slowest source (one late scrape neither fires nor resets);
- every app an alert selects by `app="X"` has an absent(up{app="X", env="E"}) guard per
  environment that deploys it (a vanished target silences every rate/ratio alert of that app);
- range windows fit the retention; no duplicate rule; alert names in CamelCase; rule labels do not
  override Prometheus' external labels.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from verification.models.delivery import chart as bluegreen
from verification.models.monitoring.alerts import AlertRule, duration_seconds

MIN_SCRAPES_IN_FOR = 2
ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
APP_MATCHER = re.compile(r'\bapp\s*=\s*"([^"]+)"')
ENV_MATCHER = re.compile(r'\benv\s*=\s*"([^"]+)"')
ABSENT_UP = re.compile(r"absent\s*\(\s*up\s*\{([^}]*)\}\s*\)")
WINDOW = re.compile(r"\[(\d+[smhdwy])(?::\d+[smhdwy])?\]")


def scrape_intervals(prometheus_spec: Mapping[str, Any]) -> dict[str, float]:
    """Who is scraped how often (seconds): Prometheus' default and each app's ServiceMonitor per environment."""
    default = duration_seconds(prometheus_spec["scrapeInterval"])
    intervals = {"Prometheus default": default}
    for env in bluegreen.environments():
        for app in bluegreen.apps(env):
            monitor = bluegreen.merged_values(app, env).get("serviceMonitor") or {}
            intervals[f"{app} in {env}"] = duration_seconds(
                monitor.get("interval") or prometheus_spec["scrapeInterval"]
            )
    return intervals


def _reads_series(alert: AlertRule) -> bool:
    return not alert.expr.replace(" ", "").startswith("vector(")


def check_for_durations(alerts: Iterable[AlertRule], slowest_scrape_seconds: float) -> list[str]:
    need = MIN_SCRAPES_IN_FOR * slowest_scrape_seconds
    return [
        f"{a.source}: alert {a.title}: for {a.for_ or '0s'} holds fewer than {MIN_SCRAPES_IN_FOR} scrapes of "
        f"{slowest_scrape_seconds:.0f}s (needs >= {need:.0f}s)"
        for a in alerts
        if _reads_series(a) and duration_seconds(a.for_) < need
    ]


def check_absent_guards(alerts: list[AlertRule], deployed: Mapping[str, Iterable[str]]) -> list[str]:
    """deployed: app -> environments (env label values) it runs in."""
    guarded = set()
    for a in alerts:
        for matchers in ABSENT_UP.findall(a.expr):
            apps, envs = APP_MATCHER.findall(matchers), ENV_MATCHER.findall(matchers)
            guarded |= {(app, env) for app in apps for env in envs}
    selected = {app for a in alerts for app in APP_MATCHER.findall(a.expr)}
    return [
        f"alerts read app={app!r} but nothing fires when its targets vanish in {env}: "
        f'add absent(up{{app="{app}", env="{env}"}})'
        for app in sorted(selected)
        for env in sorted(deployed.get(app, ()))
        if (app, env) not in guarded
    ]


def check_windows(alerts: Iterable[AlertRule], retention: str) -> list[str]:
    limit = duration_seconds(retention)
    return [
        f"{a.source}: alert {a.title}: range [{w}] is longer than the retention {retention}"
        for a in alerts
        for w in WINDOW.findall(a.expr)
        if duration_seconds(w) > limit
    ]


def check_names_and_duplicates(alerts: list[AlertRule], external_labels: Mapping[str, Any]) -> list[str]:
    problems = []
    seen: dict[tuple[str, str, tuple[tuple[str, Any], ...]], str] = {}
    for a in alerts:
        if not ALERT_NAME.match(a.name):
            problems.append(f"{a.source}: alert name {a.name!r} is not CamelCase")
        key = (a.name, a.expr.strip(), tuple(sorted(a.labels.items())))
        if key in seen:
            problems.append(f"{a.source}: alert {a.title} duplicates one in {seen[key]}")
        seen.setdefault(key, a.source)
        for label in sorted(set(a.labels) & set(external_labels)):
            problems.append(f"{a.source}: alert {a.title} sets label {label!r}, an external label of Prometheus")
    return problems
