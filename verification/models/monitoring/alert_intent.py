"""platform/intent/alerts.yaml: fault -> expected alerts -> expected receivers.

One reader for conformance (static: rules, routes, inhibition) and the live loopback test.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification.errors import UserError
from verification.models.monitoring import routes
from verification.models.monitoring.alerts import ALERT_INTENT, RuleSet
from verification.verdicts.verdict import Row, Verdict
from verification.yamlio import load_file, only_fields


@dataclass(frozen=True)
class ExpectedAlert:
    labels: dict[str, str]
    receivers: tuple[str, ...]
    inhibited_by: str | None = None

    @property
    def name(self) -> str:
        return self.labels["alertname"]


@dataclass(frozen=True)
class FaultCase:
    name: str
    app: str
    env: str
    fault: dict[str, Any] | str  # {"error_ratio": .., "latency_ms": ..} or "stop"
    alerts: tuple[ExpectedAlert, ...]

    @property
    def stops_app(self) -> bool:
        return self.fault == "stop"


@dataclass(frozen=True)
class AlertIntent:
    faults: tuple[FaultCase, ...]
    heartbeat: ExpectedAlert


def _expected(raw: Any, where: str) -> ExpectedAlert:
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), dict) or "alertname" not in raw["labels"]:
        raise UserError(f"{where}: an expected alert needs `labels` with an alertname")
    if not isinstance(raw.get("receivers"), list):
        raise UserError(f"{where}: alert {raw['labels']['alertname']} needs a `receivers` list (may be empty)")
    if not raw["receivers"] and not raw.get("inhibited_by"):
        raise UserError(f"{where}: alert {raw['labels']['alertname']} reaches no receiver; say which alert inhibits it")
    return ExpectedAlert(
        {k: str(v) for k, v in raw["labels"].items()}, tuple(sorted(raw["receivers"])), raw.get("inhibited_by")
    )


def load(path: Path = ALERT_INTENT) -> AlertIntent:
    data = load_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("faults"), list) or "heartbeat" not in data:
        raise UserError(f"{path}: expected a mapping with `faults` (a list) and `heartbeat`")
    faults = []
    for index, raw in enumerate(data["faults"]):
        where = f"{path}: faults[{index}]"
        only_fields(raw, {"name", "app", "env", "fault", "alerts"}, where)
        fault = raw.get("fault")
        valid_fault = fault == "stop" or (
            isinstance(fault, dict) and fault and set(fault) <= {"error_ratio", "latency_ms"}
        )
        if not valid_fault:
            raise UserError(
                f"{where}: fault must be `stop` or a mapping of error_ratio and/or latency_ms, got {fault!r}"
            )
        for key in ("name", "app", "env"):
            if not raw.get(key):
                raise UserError(f"{where}: missing {key}")
        alerts = tuple(_expected(a, f"{where} ({raw['name']})") for a in raw.get("alerts") or [])
        if not alerts:
            raise UserError(f"{where}: no expected alert")
        faults.append(FaultCase(raw["name"], raw["app"], raw["env"], fault, alerts))
    return AlertIntent(tuple(faults), _expected(data["heartbeat"], f"{path}: heartbeat"))


def check_against_rules(intent: AlertIntent, rules: RuleSet) -> list[str]:
    """Each expected alert is produced by a rule whose static labels agree with the intent."""
    problems = []
    expectations = [(case.name, e) for case in intent.faults for e in case.alerts] + [("heartbeat", intent.heartbeat)]
    for case in intent.faults:
        for expected in case.alerts:
            if expected.labels.get("app") != case.app or expected.labels.get("env") != case.env:
                problems.append(f"intent {case.name!r}: {expected.name} is labelled for another app or env")
    for name, expected in expectations:
        candidates = [a for a in rules.alerts if a.name == expected.name]
        if not candidates:
            problems.append(f"intent {name!r}: no rule defines alert {expected.name}")
        elif not any(all(expected.labels.get(k) == v for k, v in a.labels.items()) for a in candidates):
            problems.append(
                f"intent {name!r}: no {expected.name} rule carries the labels {expected.labels} "
                f"(rules have {[a.labels for a in candidates]})"
            )
    return problems


def check_routing(intent: AlertIntent, cfg: dict[str, Any], config_path: Path) -> Verdict:
    """Each expected alert reaches exactly its receivers: routed by amtool, muted by inhibition."""
    rows = []
    for case in intent.faults:
        for expected in case.alerts:
            subject = f"intent {case.name!r}: {expected.name}"
            muted = [
                o.name for o in case.alerts if o is not expected and routes.inhibits(cfg, o.labels, expected.labels)
            ]
            if expected.inhibited_by:
                observed = f"muted by {', '.join(muted)}" if muted else "not muted"
                agrees = expected.inhibited_by in muted
                cause = "" if agrees else f"no inhibit rule mutes it by {expected.inhibited_by}"
                rows.append(Row(subject, f"muted by {expected.inhibited_by}", observed, cause, agrees))
                continue
            got = tuple(routes.amtool_receivers(config_path, expected.labels))
            cause = f"muted by {', '.join(muted)}" if muted else ""
            rows.append(
                Row(subject, _names(expected.receivers), _names(got), cause, not muted and got == expected.receivers)
            )
    got = tuple(routes.amtool_receivers(config_path, intent.heartbeat.labels))
    rows.append(Row(f"intent heartbeat: {intent.heartbeat.name}", _names(intent.heartbeat.receivers), _names(got)))
    return Verdict(
        f"receivers of the alerts of {ALERT_INTENT.name} (amtool config routes test, inhibit rules)", rows=rows
    )


def _names(receivers: tuple[str, ...]) -> str:
    return ",".join(receivers) or "nothing"
