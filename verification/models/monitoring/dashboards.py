"""Grafana as the platform provisions it: dashboards from labelled ConfigMaps, settings from grafana.ini.

Checks: every dashboard is valid JSON with a unique uid; every panel query parses (promtool, as
a recording rule) and names only catalogued metrics; each app dashboard has the panels the
platform promises; Grafana's settings keep secrets out of git and cookies/HSTS/TLS on.
"""

import configparser
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from verification import catalog, tools
from verification.models.monitoring import metric_catalog, promql
from verification.run import run
from verification.yamlio import iter_kind, source_of

DASHBOARD_LABEL = "grafana_dashboard"
# Grafana's built-in interval variables, replaced by a representative value before parsing.
GRAFANA_INTERVALS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}
# Panels every app dashboard must have (issue: rate by status, latency quantiles, traffic split
# by colour and version, current active colour).
APP_PANELS = ("Request rate by status", "Latency quantiles", "Traffic by colour and version", "Active colour")
SECRET_SETTING_RE = re.compile(r"(password|secret|token|api_key|private_key)$")


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    expr: str

    @property
    def where(self) -> str:
        return f"dashboard {self.dashboard}, panel {self.panel!r}"


@dataclass
class Dashboards:
    boards: dict[str, dict[str, Any]]  # uid -> dashboard JSON
    problems: list[str]


def load(objects: list[dict[str, Any]]) -> Dashboards:
    boards: dict[str, dict[str, Any]] = {}
    problems = []
    for cm in iter_kind(objects, "ConfigMap"):
        if (cm["metadata"].get("labels") or {}).get(DASHBOARD_LABEL) != "1":
            continue
        for key, text in (cm.get("data") or {}).items():
            where = f"{source_of(cm)}: ConfigMap {cm['metadata']['name']} key {key}"
            try:
                board = json.loads(text)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON: {exc}")
                continue
            uid = board.get("uid")
            if not uid or not board.get("title"):
                problems.append(f"{where}: dashboard without uid or title")
            elif uid in boards:
                problems.append(f"{where}: dashboard uid {uid!r} is provisioned twice")
            else:
                boards[uid] = board
    return Dashboards(boards, problems)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels or []:
        yield panel
        yield from _panels(panel.get("panels") or [])  # collapsed rows nest panels


def queries(dashboards: Dashboards) -> list[Query]:
    found = []
    for uid, board in dashboards.boards.items():
        variables = {v["name"]: _sample_value(v) for v in (board.get("templating") or {}).get("list") or []}
        for panel in _panels(board.get("panels") or []):
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    found.append(Query(uid, panel.get("title", "?"), _substitute(target["expr"], variables)))
    return found


def _sample_value(variable: dict[str, Any]) -> str:
    current = (variable.get("current") or {}).get("value")
    if isinstance(current, list):
        current = current[0] if current else None
    return str(current or "x")


def _substitute(expr: str, variables: dict[str, str]) -> str:
    for name, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(name, value)
    for name, value in variables.items():
        expr = re.sub(rf"\$\{{{name}(?::[a-z]+)?\}}|\$\b{name}\b|\[\[{name}\]\]", value, expr)
    return expr


def check(dashboards: Dashboards) -> list[str]:
    problems = list(dashboards.problems)
    for query in queries(dashboards):
        try:
            names = promql.metric_names(query.expr)
        except ValueError as exc:
            problems.append(f"{query.where}: cannot read query: {exc}")
            continue
        for name in metric_catalog.unknown(names):
            problems.append(f"{query.where} reads metric {name}, which no app or standard exporter exposes")
        for matcher in promql.unnormalised_bucket_matchers(query.expr):
            problems.append(f"{query.where} matches {matcher}: it never matches on Prometheus 3")
        if "$" in query.expr:
            problems.append(f"{query.where}: undefined variable in {query.expr}")
    for board in dashboards.boards.values():
        for panel in _panels(board.get("panels") or []):
            if panel.get("type") not in ("row", "text") and not panel.get("targets"):
                problems.append(f"dashboard {board['uid']}, panel {panel.get('title')!r} has no query")
    for app in catalog.current().names():
        app_board = dashboards.boards.get(app)
        if app_board is None:
            problems.append(f"no dashboard with uid {app!r}")
            continue
        titles = {panel.get("title") for panel in _panels(app_board.get("panels") or [])}
        problems += [f"dashboard {app} lacks the panel {title!r}" for title in APP_PANELS if title not in titles]
    return problems


def promtool_parse(query_list: list[Query]) -> list[str]:
    """Each query as a recording rule: `promtool check rules` runs the real PromQL parser."""
    groups: dict[str, list[dict[str, str]]] = {}
    index: dict[tuple[str, int], Query] = {}
    for query in query_list:
        rules = groups.setdefault(query.dashboard, [])
        index[(query.dashboard, len(rules))] = query
        rules.append({"record": "dashboard_query", "expr": query.expr})
    with tempfile.TemporaryDirectory(prefix="dashboards-") as tmp:
        path = Path(tmp) / "dashboard-queries.yaml"
        path.write_text(yaml.safe_dump({"groups": [{"name": k, "rules": v} for k, v in groups.items()]}, width=1000))
        proc = run([tools.require("promtool").path, "check", "rules", path], check=False)
    if proc.returncode == 0:
        return []
    output = proc.stdout + proc.stderr
    failing = [index.get((group, int(rule) - 1)) for group, rule in re.findall(r'group "([^"]+)", rule (\d+)', output)]
    problems = [f"{q.where}: query does not parse: {q.expr}" for q in failing if q]
    return problems or [f"promtool check rules (dashboard queries) failed:\n{output.strip()}"]


# --- Grafana settings ------------------------------------------------------------------------


def check_settings(objects: list[dict[str, Any]]) -> list[str]:
    configs = [cm for cm in iter_kind(objects, "ConfigMap") if "grafana.ini" in (cm.get("data") or {})]
    if len(configs) != 1:
        return [f"expected one ConfigMap with grafana.ini, found {len(configs)}"]
    where = f"{source_of(configs[0])}: grafana.ini"
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string(configs[0]["data"]["grafana.ini"])
    problems = [
        f"{where}: [{section}] {key} is inlined; read it with $__file{{...}} from a Secret"
        for section in ini.sections()
        for key, value in ini.items(section)
        if SECRET_SETTING_RE.search(key) and value and not value.startswith(("$__file{", "$__env{"))
    ]

    def setting(section: str, key: str) -> str:
        return ini.get(section, key, fallback="").strip().lower()

    expected = {
        ("security", "cookie_secure"): "true",
        ("security", "strict_transport_security"): "true",
        ("auth.gitlab", "enabled"): "true",
        ("auth.anonymous", "enabled"): "false",
        ("metrics", "enabled"): "true",
    }
    for (section, key), value in expected.items():
        if setting(section, key) != value:
            problems.append(f"{where}: [{section}] {key} must be {value}")
    root_url = setting("server", "root_url")
    if not root_url.startswith("https://"):
        problems.append(f"{where}: [server] root_url {root_url!r} is not https")
    host = re.sub(r"^https://([^/:]+).*", r"\1", root_url)
    tls_hosts = {
        h
        for ingress in iter_kind(objects, "Ingress")
        if ingress["metadata"].get("namespace") == configs[0]["metadata"].get("namespace")
        for tls in (ingress.get("spec") or {}).get("tls") or []
        if tls.get("secretName")
        for h in tls.get("hosts") or []
    }
    if host not in tls_hosts:
        problems.append(f"{where}: no Ingress serves {host} with TLS (TLS hosts: {sorted(tls_hosts) or 'none'})")
    return problems
