"""Alert rules as the platform deploys them, and what must be true of them.

`rule_file(objects)` is THE extraction: the PrometheusRule objects that the Prometheus resource's
ruleSelector picks, turned into one Prometheus rule file. promtool (conformance) and the live
loopback Prometheus both load exactly its output.
Every check returns readable problems (empty when fine), so conformance asserts on them and the
mutation tests look for the cause in them.
"""

import re
import shutil
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from verification import tools
from verification.errors import UserError
from verification.models import selectors
from verification.models.monitoring import metric_catalog, promql
from verification.models.netpol.model import NAME_LABEL, namespace_labels_from
from verification.paths import INTENT, PLATFORM, REPO_ROOT
from verification.run import run
from verification.yamlio import iter_kind, load_file, read_text, source_of

MONITORING_TESTS = PLATFORM / "monitoring-tests"
ALERT_INTENT = INTENT / "alerts.yaml"
RULE_FILE_NAME = "all-rules.yaml"  # every selected rule: what Prometheus loads
# runbook_url values are links into this repository's default branch.
RUNBOOK_URL_PREFIX = "https://gitlab.example.com/platform/devops-platform/-/blob/main/"
DASHBOARD_URL_RE = re.compile(r"^https://grafana\.platform\.example\.com/d/([A-Za-z0-9_-]+)/")
SEVERITIES = ("critical", "warning", "info", "none")
REQUIRED_LABELS = ("severity", "team")
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard")
# Labels every alert must carry when it fires (checked on the promtool expectations, since env
# mostly comes from the series rather than from a static rule label).
FIRING_LABELS = ("severity", "team", "env")


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    group: str
    source: str

    @property
    def title(self) -> str:
        return f"{self.name} ({self.labels.get('severity', 'no severity')}, {self.group})"


@dataclass
class RuleSet:
    """The extracted rule file plus where each rule came from."""

    groups: list[dict[str, Any]]
    alerts: list[AlertRule] = field(default_factory=list)
    unselected: list[str] = field(default_factory=list)
    by_object: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # PrometheusRule name -> groups


# --- extraction ------------------------------------------------------------------------------


def matches_selector(labels: dict[str, str], selector: dict[str, Any] | None) -> bool:
    """Operator resource selectors: a missing selector selects nothing, `{}` selects everything."""
    return selector is not None and selectors.matches(selector, labels)


def prometheus_resource(objects: Iterable[dict[str, Any]]) -> dict[str, Any]:
    found = list(iter_kind(objects, "Prometheus"))
    if len(found) != 1:
        raise UserError(f"platform/manifests: expected exactly one Prometheus resource, found {len(found)}")
    return found[0]


def operator_selection(
    objects: list[dict[str, Any]], kind: str, selector_key: str, namespace_selector_key: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(selected, not selected) objects of `kind` as the operator picks them for the Prometheus
    resource: labels matched by spec.<selector_key>, namespace by spec.<namespace_selector_key>
    (missing: the Prometheus resource's own namespace, the operator's default)."""
    prometheus = prometheus_resource(objects)
    spec = prometheus.get("spec") or {}
    namespaces = namespace_labels_from(objects)
    selected: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for obj in iter_kind(objects, kind):
        meta, namespace_selector = obj["metadata"], spec.get(namespace_selector_key)
        namespace = meta.get("namespace") or ""
        if namespace_selector is None:
            in_namespace = namespace == prometheus["metadata"].get("namespace")
        else:
            in_namespace = matches_selector(namespaces.get(namespace) or {NAME_LABEL: namespace}, namespace_selector)
        in_labels = matches_selector(meta.get("labels") or {}, spec.get(selector_key))
        (selected if in_namespace and in_labels else skipped).append(obj)
    return selected, skipped


def rule_set(objects: list[dict[str, Any]]) -> RuleSet:
    """The rule file the operator would give Prometheus: every selected PrometheusRule's groups."""
    selected, skipped = operator_selection(objects, "PrometheusRule", "ruleSelector", "ruleNamespaceSelector")
    groups: list[dict[str, Any]] = []
    result = RuleSet(groups)
    prometheus = prometheus_resource(objects)["metadata"]["name"]
    for obj in skipped:
        meta = obj["metadata"]
        where = f"{source_of(obj)}: PrometheusRule {meta.get('namespace', '?')}/{meta['name']}"
        result.unselected.append(f"{where} is not selected by Prometheus {prometheus}")
    for obj in selected:
        meta = obj["metadata"]
        for group in (obj.get("spec") or {}).get("groups") or []:
            groups.append(group)
            result.by_object.setdefault(meta["name"], []).append(group)
            for rule in group.get("rules") or []:
                if "alert" not in rule:
                    continue
                result.alerts.append(
                    AlertRule(
                        name=rule["alert"],
                        expr=str(rule.get("expr", "")).strip(),
                        for_=rule.get("for"),
                        labels={k: str(v) for k, v in (rule.get("labels") or {}).items()},
                        annotations={k: str(v) for k, v in (rule.get("annotations") or {}).items()},
                        group=group.get("name", "?"),
                        source=source_of(obj),
                    )
                )
    return result


def rule_file(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"groups": rule_set(objects).groups}


def write_rule_file(objects: list[dict[str, Any]], directory: Path) -> Path:
    """The whole rule file (what Prometheus loads), plus one `<PrometheusRule name>.rules.yaml`
    per object beside it, so a promtool test file can load just the app it tests."""
    rules = rule_set(objects)
    path = Path(directory) / RULE_FILE_NAME
    path.write_text(yaml.safe_dump({"groups": rules.groups}, sort_keys=False, width=1000))
    for name, groups in rules.by_object.items():
        (path.parent / f"{name}.rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
    return path


# --- static checks ---------------------------------------------------------------------------


def duration_seconds(duration: str | None) -> float:
    """Prometheus duration (`1m30s`) in seconds; 0 for none."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", str(duration or ""))))


def check_rules(rules: RuleSet, *, repo_root: Path = REPO_ROOT, dashboard_uids: set[str] | None = None) -> list[str]:
    """Everything the rules must satisfy beyond promtool's syntax check."""
    problems = list(rules.unselected)
    names: list[Any] = [group.get("name") for group in rules.groups]  # as written in the YAML
    problems += [
        f"rule group {name!r} is defined more than once" for name in sorted({n for n in names if names.count(n) > 1})
    ]
    for alert in rules.alerts:
        where = f"{alert.source}: alert {alert.title}"
        problems += [f"{where} has no {label} label" for label in REQUIRED_LABELS if not alert.labels.get(label)]
        if alert.labels.get("severity") and alert.labels["severity"] not in SEVERITIES:
            problems.append(f"{where}: severity {alert.labels['severity']!r} is not one of {', '.join(SEVERITIES)}")
        problems += [f"{where} has no {a} annotation" for a in REQUIRED_ANNOTATIONS if not alert.annotations.get(a)]
        problems += _check_links(alert, where, repo_root, dashboard_uids)
        problems += _check_expression(alert, where)
    problems += check_for_comments({alert.source for alert in rules.alerts})
    return problems


def _check_links(alert: AlertRule, where: str, repo_root: Path, dashboard_uids: set[str] | None) -> list[str]:
    problems = []
    url = alert.annotations.get("runbook_url", "")
    if url:
        if not url.startswith(RUNBOOK_URL_PREFIX):
            problems.append(f"{where}: runbook_url {url} does not point into this repository ({RUNBOOK_URL_PREFIX})")
        elif not (repo_root / url.removeprefix(RUNBOOK_URL_PREFIX).split("#")[0]).is_file():
            problems.append(f"{where}: missing runbook: {url.removeprefix(RUNBOOK_URL_PREFIX)} does not exist")
    dashboard = alert.annotations.get("dashboard", "")
    if dashboard and dashboard_uids is not None:
        match = DASHBOARD_URL_RE.match(dashboard)
        if not match:
            problems.append(f"{where}: dashboard annotation {dashboard} is not a Grafana dashboard link")
        elif match.group(1) not in dashboard_uids:
            problems.append(
                f"{where}: dashboard uid {match.group(1)!r} is not provisioned (have {sorted(dashboard_uids)})"
            )
    return problems


def _check_expression(alert: AlertRule, where: str) -> list[str]:
    try:
        metrics = promql.metric_names(alert.expr)
        compares = promql.has_comparison(alert.expr)
    except ValueError as exc:
        return [f"{where}: cannot read expression: {exc}"]
    unknown, unmatched = metric_catalog.unknown(metrics), promql.unnormalised_bucket_matchers(alert.expr)
    problems = [f"{where} reads metric {n}, which no app or standard exporter exposes" for n in unknown]
    problems += [f"{where} matches {m}: it never matches on Prometheus 3" for m in unmatched]
    heartbeat = not metrics and alert.expr.replace(" ", "").startswith("vector(")
    if not compares and not heartbeat:
        problems.append(f"{where}: expression has no comparison, so it fires for every series it returns: {alert.expr}")
    # Anything computed from scraped samples can cross a threshold for one evaluation and drop back.
    if metrics and duration_seconds(alert.for_) == 0:
        problems.append(
            f"{where} has no `for`: it reads scraped series ({', '.join(sorted(metrics))}) and is flapping-prone; "
            "one evaluation above the threshold would notify"
        )
    return problems


def check_for_comments(sources: Iterable[str]) -> list[str]:
    """Every `for:` in the rule manifests is justified by a comment on it or just above it."""
    problems = []
    for source in sorted(sources):
        lines = read_text(source).splitlines()
        for number, line in enumerate(lines):
            if not re.match(r"^\s*for:", line) or "#" in line:
                continue
            previous = next((p.strip() for p in reversed(lines[:number]) if p.strip()), "")
            if not previous.startswith("#"):
                problems.append(f"{source}:{number + 1}: `{line.strip()}` has no comment justifying it")
    return problems


# --- promtool --------------------------------------------------------------------------------


def test_files(directory: Path = MONITORING_TESTS) -> list[Path]:
    return sorted(Path(directory).glob("*.test.yaml"))


# Every lint promtool has, fatal: by default it only prints a duplicate rule and exits 0.
PROMTOOL_LINT = ("--lint=all", "--lint-fatal")


def promtool_check(rule_path: Path) -> list[str]:
    proc = run([tools.require("promtool").path, "check", "rules", *PROMTOOL_LINT, rule_path], check=False)
    if proc.returncode == 0:
        return []
    return [f"promtool check rules failed:\n{(proc.stdout + proc.stderr).strip()}"]


def promtool_test(rule_path: Path, files: list[Path]) -> list[str]:
    """promtool test rules for every test file, beside the extracted rule file they name.

    One process per file, run concurrently: promtool spends ~0.2s of CPU per test case (a fresh
    TSDB each) and tests files one after another, so this halves the wall time on two cores.
    """
    promtool = tools.require("promtool").path
    with tempfile.TemporaryDirectory(prefix="promtool-") as tmp:
        work = Path(tmp)
        for generated in [rule_path, *rule_path.parent.glob("*.rules.yaml")]:
            shutil.copy(generated, work / generated.name)
        for file in files:
            shutil.copy(file, work / file.name)
        with ThreadPoolExecutor(max_workers=max(1, len(files))) as pool:
            procs = list(pool.map(lambda f: run([promtool, "test", "rules", f.name], cwd=work, check=False), files))
    return [
        f"promtool test rules {file.name} failed:\n{(proc.stdout + proc.stderr).strip()}"
        for file, proc in zip(files, procs, strict=True)
        if proc.returncode != 0
    ]


def check_test_coverage(rules: RuleSet, files: list[Path]) -> list[str]:
    """Every alert (every severity tier) has a test where it fires, one where it stays silent and
    one where it resolves (fires, then a later evaluation of the same case no longer lists it);
    every firing expectation carries the labels and annotations every alert must have."""
    # keyed by (alert, severity, team): the same alert name exists once per app, each team its own
    fires: set[tuple[str, str, str]] = set()
    resolves: set[tuple[str, str, str]] = set()
    silent: set[str] = set()
    problems = []
    for file in files:
        data = load_file(file) or {}
        for case in data.get("tests") or []:
            for series in case.get("input_series") or []:
                # Test input is what Prometheus 3 stores after scraping, not what the app exposes.
                for matcher in promql.unnormalised_bucket_matchers(str(series.get("series", ""))):
                    problems.append(f"{file.name}: test {case.get('name')!r} has input series with {matcher}")
            timeline: dict[str, list[tuple[float, set[tuple[str, str]]]]] = {}  # alert -> (time, firing tiers)
            for check in case.get("alert_rule_test") or []:
                name = check.get("alertname", "?")
                expected = check.get("exp_alerts") or []
                if not expected:
                    silent.add(name)
                tiers = {_tier(a.get("exp_labels") or {}) for a in expected}
                timeline.setdefault(name, []).append((duration_seconds(str(check.get("eval_time"))), tiers))
                for alert in expected:
                    labels = alert.get("exp_labels") or {}
                    annotations = alert.get("exp_annotations") or {}
                    fires.add((name, *_tier(labels)))
                    missing = [label for label in FIRING_LABELS if label not in labels]
                    missing += [a for a in REQUIRED_ANNOTATIONS if a not in annotations]
                    if missing:
                        problems.append(
                            f"{file.name}: test {case.get('name')!r} expects {name} without {', '.join(missing)}"
                        )
            for name, evaluations in timeline.items():
                evaluations.sort(key=lambda item: item[0])
                for index, (_, firing) in enumerate(evaluations):
                    for tier in firing:
                        if any(tier not in later for _, later in evaluations[index + 1 :]):
                            resolves.add((name, *tier))
    for alert in rules.alerts:
        key = (alert.name, alert.labels.get("severity", ""), alert.labels.get("team", ""))
        reads_series = bool(promql.metric_names(alert.expr))  # a heartbeat never stays silent nor resolves
        if key not in fires:
            problems.append(f"alert {alert.title} has no promtool test where it fires ({MONITORING_TESTS.name}/)")
        if reads_series and alert.name not in silent:
            problems.append(f"alert {alert.name} has no promtool test where it stays silent")
        if reads_series and key not in resolves:
            problems.append(f"alert {alert.title} has no promtool test where it resolves")
    return sorted(set(problems))


def _tier(labels: dict[str, Any]) -> tuple[str, str]:
    return str(labels.get("severity", "")), str(labels.get("team", ""))
