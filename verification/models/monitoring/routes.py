"""Alertmanager routing as the platform deploys it, and what must be true of it.

The configuration is read from the Secret the Alertmanager resource names (`configSecret`),
checked by amtool (`check-config`, `config routes test`) and by rules amtool does not know:
matchers that can never match an alert the rules produce, inhibit rules without `equal`,
credentials inlined instead of read from files, notifications without `send_resolved`.
"""

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import yaml

from verification import tools
from verification.errors import UserError
from verification.models.monitoring.alerts import MONITORING_TESTS, RuleSet
from verification.run import run
from verification.verdicts.verdict import Row, Verdict
from verification.yamlio import iter_kind, load_file, parse, source_of

CONFIG_KEY = "alertmanager.yaml"
ROUTE_EXPECTATIONS = MONITORING_TESTS / "routes.yaml"
# Settings that hold a credential; each has a *_file twin that Alertmanager reads at runtime.
SECRET_KEYS = frozenset(
    "api_url slack_api_url service_key routing_key auth_password smtp_auth_password auth_secret api_key "
    "opsgenie_api_key bot_token token password credentials bearer_token client_secret".split()
)
_MATCHER_RE = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, value: str | None) -> bool:
        value = value or ""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        full = re.fullmatch(self.value, value) is not None
        return full if self.op == "=~" else not full

    def __str__(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


def parse_matchers(block: dict[str, Any], prefix: str = "") -> list[Matcher]:
    """`matchers` strings plus the older `match`/`match_re` maps (`source_`/`target_` prefixed)."""
    found = []
    for text in block.get(f"{prefix}matchers") or []:
        match = _MATCHER_RE.match(text)
        if not match:
            raise UserError(f"Alertmanager configuration: cannot read matcher {text!r}")
        found.append(Matcher(*match.groups()))
    found += [Matcher(k, "=", str(v)) for k, v in (block.get(f"{prefix}match") or {}).items()]
    found += [Matcher(k, "=~", str(v)) for k, v in (block.get(f"{prefix}match_re") or {}).items()]
    return found


# --- extraction ------------------------------------------------------------------------------


def config_source(objects: list[dict[str, Any]]) -> tuple[str, str]:
    """(configuration text, where it came from) for the one Alertmanager resource."""
    managers = list(iter_kind(objects, "Alertmanager"))
    if len(managers) != 1:
        raise UserError(f"platform/manifests: expected exactly one Alertmanager resource, found {len(managers)}")
    manager = managers[0]
    secret_name = (manager.get("spec") or {}).get("configSecret")
    namespace = manager["metadata"].get("namespace")
    for secret in iter_kind(objects, "Secret"):
        meta = secret["metadata"]
        if meta.get("name") == secret_name and meta.get("namespace") == namespace:
            text = (secret.get("stringData") or {}).get(CONFIG_KEY)
            if text is None:
                raise UserError(f"{source_of(secret)}: Secret {secret_name} has no stringData.{CONFIG_KEY}")
            return text, f"{source_of(secret)}: Secret {namespace}/{secret_name}"
    raise UserError(f"Alertmanager {manager['metadata']['name']}: configSecret {secret_name!r} is not in the manifests")


def config(objects: list[dict[str, Any]]) -> dict[str, Any]:
    text, where = config_source(objects)
    return parse(text, f"{where}: {CONFIG_KEY}") or {}


def write_config(cfg: dict[str, Any], directory: Path) -> Path:
    path = Path(directory) / "alertmanager.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, width=1000))
    return path


# --- amtool ----------------------------------------------------------------------------------


# Alertmanager >= 0.27 parses matchers with its UTF-8 parser and, by default, falls back to the
# classic one with only a log warning; strict mode makes such input an error, so a matcher whose
# meaning depends on the fallback (unquoted regex, unescaped backslash) fails here, not in production.
AMTOOL_FEATURES = "--enable-feature=utf8-strict-mode"


def amtool_check(path: Path) -> list[str]:
    proc = run([tools.require("amtool").path, AMTOOL_FEATURES, "check-config", path], check=False)
    if proc.returncode == 0:
        return []
    return [f"amtool check-config failed:\n{(proc.stdout + proc.stderr).strip()}"]


def amtool_receivers(path: Path, labels: dict[str, str]) -> list[str]:
    """Receivers Alertmanager picks for an alert with `labels` (amtool walks the real tree)."""
    amtool = tools.require("amtool").path
    proc = run([amtool, "config", "routes", "test", f"--config.file={path}", *(f"{k}={v}" for k, v in labels.items())])
    return sorted(r for r in proc.stdout.strip().split(",") if r)


@dataclass(frozen=True)
class RouteCase:
    labels: dict[str, str]
    receivers: tuple[str, ...]

    def describe(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.labels.items())


def route_expectations(path: Path = ROUTE_EXPECTATIONS) -> tuple[dict[str, list[str]], list[RouteCase]]:
    data = load_file(path) or {}
    dimensions = data.get("dimensions") or {}
    cases = []
    for row in data.get("cases") or []:
        row = dict(row)
        receivers = row.pop("receivers", None)
        if receivers is None:
            raise UserError(f"{path}: case {row} has no receivers")
        cases.append(RouteCase({k: str(v) for k, v in row.items()}, tuple(sorted(receivers))))
    for row in data.get("extra") or []:
        cases.append(RouteCase({k: str(v) for k, v in row["labels"].items()}, tuple(sorted(row["receivers"]))))
    return dimensions, cases


def check_route_table(config_path: Path, dimensions: dict[str, list[str]], cases: list[RouteCase]) -> list[str]:
    """Every grid combination has a case; amtool routes every case to exactly its receivers."""
    problems = []
    keys = list(dimensions)
    covered = {tuple(case.labels.get(k) for k in keys) for case in cases if set(keys) <= set(case.labels)}
    for combination in product(*(dimensions[k] for k in keys)):
        if combination not in covered:
            labels = " ".join(f"{k}={v}" for k, v in zip(keys, combination, strict=True))
            problems.append(f"{ROUTE_EXPECTATIONS.name}: no case for {labels}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        observed = list(pool.map(lambda case: amtool_receivers(config_path, case.labels), cases))
    rows = [
        Row(case.describe(), ",".join(case.receivers) or "-", ",".join(got) or "-")
        for case, got in zip(cases, observed, strict=True)
    ]
    verdict = Verdict(f"receivers routed by amtool config routes test against {ROUTE_EXPECTATIONS.name}", rows=rows)
    return problems + verdict.problems()


# --- static checks amtool does not make --------------------------------------------------------


def label_universe(rules: RuleSet, dimensions: dict[str, list[str]]) -> dict[str, set[str]]:
    """Every value each routing label can take on an alert of this platform."""
    universe: dict[str, set[str]] = {k: {str(v) for v in values} for k, values in dimensions.items()}
    universe.setdefault("alertname", set()).update(alert.name for alert in rules.alerts)
    for alert in rules.alerts:
        for label in ("severity", "env", "app", "team"):
            if label in alert.labels:
                universe.setdefault(label, set()).add(alert.labels[label])
    return universe


def _walk(
    route: dict[str, Any], path: str, inherited: list[Matcher]
) -> Iterator[tuple[str, dict[str, Any], list[Matcher]]]:
    matchers = inherited + parse_matchers(route)
    yield path, route, matchers
    for index, child in enumerate(route.get("routes") or []):
        yield from _walk(child, f"{path}.routes[{index}]", matchers)


def check_matchers(cfg: dict[str, Any], universe: dict[str, set[str]]) -> list[str]:
    """A route whose matchers no alert of the platform can satisfy is dead: its receiver never hears."""
    problems = []
    for path, route, matchers in _walk(cfg.get("route") or {}, "route", []):
        for label in sorted({m.label for m in matchers}):
            if label not in universe:
                continue
            on_label = [m for m in matchers if m.label == label]
            if not any(all(m.matches(value) for m in on_label) for value in universe[label]):
                problems.append(
                    f"{path} (receiver {route.get('receiver', 'inherited')}): matcher "
                    f"{', '.join(map(str, on_label))} never matches: "
                    f"{label} is one of {', '.join(sorted(universe[label]))}"
                )
    return problems


def check_inhibit_rules(cfg: dict[str, Any]) -> list[str]:
    """Inhibition must stay within one app and env (and one alert unless the rule names them)."""
    problems = []
    for index, rule in enumerate(cfg.get("inhibit_rules") or []):
        source, target = parse_matchers(rule, "source_"), parse_matchers(rule, "target_")
        what = f"inhibit rule #{index} ({', '.join(map(str, source))} mutes {', '.join(map(str, target))})"
        equal = set(rule.get("equal") or [])
        if not equal:
            problems.append(f"{what} has no `equal`: one source alert anywhere would mute every app and env")
            continue
        missing = {"env", "app"} - equal
        names_alerts = any(m.label == "alertname" for m in source) and any(m.label == "alertname" for m in target)
        if not names_alerts and "alertname" not in equal:
            missing.add("alertname")
        if missing:
            problems.append(f"{what}: `equal` lacks {', '.join(sorted(missing))}, so it mutes beyond its own alert")
    return problems


def _integrations(cfg: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for receiver in cfg.get("receivers") or []:
        for key, entries in receiver.items():
            if key.endswith("_configs"):
                for entry in entries or []:
                    yield receiver["name"], key.removesuffix("_configs"), entry


def _secret_paths(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SECRET_KEYS and value not in (None, ""):
                yield f"{path}.{key}"
            yield from _secret_paths(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _secret_paths(value, f"{path}[{index}]")


def check_receivers(cfg: dict[str, Any]) -> list[str]:
    problems = [
        f"{path} is inlined: read it from a mounted Secret with the *_file setting"
        for path in _secret_paths(cfg, "config")
    ]
    for name, kind, entry in _integrations(cfg):
        if entry.get("send_resolved") is not True:
            problems.append(f"receiver {name}: {kind} notification without `send_resolved: true`")
    defined = [r["name"] for r in cfg.get("receivers") or []]
    used = {route.get("receiver") for _, route, _ in _walk(cfg.get("route") or {}, "route", [])}
    problems += [f"receiver {name} is defined but no route uses it" for name in defined if name not in used]
    return problems


def inhibits(cfg: dict[str, Any], source: dict[str, str], target: dict[str, str]) -> bool:
    """Whether an alert with labels `source` mutes one with labels `target`."""
    for rule in cfg.get("inhibit_rules") or []:
        if (
            all(m.matches(source.get(m.label)) for m in parse_matchers(rule, "source_"))
            and all(m.matches(target.get(m.label)) for m in parse_matchers(rule, "target_"))
            and all(source.get(label) == target.get(label) for label in rule.get("equal") or [])
        ):
            return True
    return False
