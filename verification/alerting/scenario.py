"""One alert-intent fault, live: inject -> expected notifications -> remove -> resolved notifications.

Latency is measured from the fault's start to the notification's arrival at the receiver and
set beside its theoretical bound: 2 x scrape (rate() needs two samples of the new behaviour)
+ evaluation + the rule's `for` + the route's group_wait.
"""

import time
from dataclasses import dataclass, field

from prometheus_api_client import PrometheusConnect

from verification.alerting.loopback import App, Profile, Traffic
from verification.alerting.webhook import WebhookReceiver
from verification.models.monitoring.alert_intent import ExpectedAlert, FaultCase
from verification.models.monitoring.alerts import RuleSet, duration_seconds
from verification.wait import wait_for

RESOLVE_TIMEOUT = 150.0  # rate windows (1m) must drain, then a group_interval passes


@dataclass
class Observation:
    case: str
    alert: str
    severity: str
    receiver: str
    bound: float
    fired_after: float | None = None
    resolved_after: float | None = None


@dataclass
class CaseResult:
    case: FaultCase
    observations: list[Observation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def bound(expected: ExpectedAlert, rules: RuleSet, timing: Profile) -> float:
    rule = next(
        a
        for a in rules.alerts
        if a.name == expected.name and a.labels.get("severity") == expected.labels.get("severity")
    )
    return (
        2 * duration_seconds(timing.scrape_interval)
        + duration_seconds(timing.evaluation_interval)
        + duration_seconds(rule.for_)
        + duration_seconds(timing.alertmanager["group_wait"])
    )


def firing_in_prometheus(prometheus: PrometheusConnect, labels: dict[str, str]) -> bool:
    selector = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "alertname")
    return bool(
        prometheus.custom_query(f'ALERTS{{alertname="{labels["alertname"]}", {selector}, alertstate="firing"}}')
    )


def run_case(
    case: FaultCase, app: App, webhook: WebhookReceiver, prometheus: PrometheusConnect, rules: RuleSet, timing: Profile
) -> CaseResult:
    result = CaseResult(case)
    notified = [(e, r) for e in case.alerts for r in e.receivers]
    for expected, receiver in notified:
        result.observations.append(
            Observation(case.name, expected.name, expected.labels["severity"], receiver, bound(expected, rules, timing))
        )
    traffic = None if case.stops_app else Traffic(app.url).start()
    try:
        started = time.time()
        if case.stops_app:
            app.stop()
        else:
            assert isinstance(case.fault, dict)
            app.set_fault(case.fault)
        for observation, (expected, receiver) in zip(result.observations, notified, strict=True):
            note = wait_for(
                lambda e=expected, r=receiver: webhook.first(r, e.labels, "firing", after=started),
                what=f"{case.name}: {expected.name} firing at {receiver}",
                timeout=observation.bound + 60,
                interval=0.2,
            )
            observation.fired_after = note.received - started
        for expected in case.alerts:  # Prometheus agrees, inhibited alerts included
            wait_for(
                lambda e=expected: firing_in_prometheus(prometheus, e.labels),
                what=f"{case.name}: {expected.name} firing in Prometheus",
                timeout=30,
            )
        cleared = time.time()
        if case.stops_app:
            app.start()
        else:
            app.clear_fault()
        for observation, (expected, receiver) in zip(result.observations, notified, strict=True):
            note = wait_for(
                lambda e=expected, r=receiver: webhook.first(r, e.labels, "resolved", after=cleared),
                what=f"{case.name}: {expected.name} resolved at {receiver}",
                timeout=RESOLVE_TIMEOUT,
                interval=0.5,
            )
            observation.resolved_after = note.received - cleared
        result.problems += unexpected(case, webhook, started)
    except AssertionError as exc:
        result.problems.append(str(exc))
    finally:
        if traffic:
            traffic.stop()
    return result


def unexpected(case: FaultCase, webhook: WebhookReceiver, since: float) -> list[str]:
    """Notifications about this app and env that the intent does not list (inhibited ones too)."""
    allowed = {(e.name, e.labels["severity"], r) for e in case.alerts for r in e.receivers}
    seen = {
        (alert["labels"].get("alertname"), alert["labels"].get("severity"), note.receiver)
        for note in webhook.received()
        if note.received >= since
        for alert in note.alerts
        if alert["labels"].get("app") == case.app and alert["labels"].get("env") == case.env
    }
    return [
        f"{case.name}: unexpected notification {name} ({severity}) at {receiver}"
        for name, severity, receiver in sorted(seen - allowed)
    ]


def table(observations: list[Observation]) -> str:
    rows = [f"{'fault':58} {'alert':20} {'receiver':18} {'fired':>7} {'bound':>7} {'resolved':>9}"]
    for o in observations:
        fired = f"{o.fired_after:.1f}s" if o.fired_after is not None else "-"
        resolved = f"{o.resolved_after:.1f}s" if o.resolved_after is not None else "-"
        rows.append(f"{o.case[:58]:58} {o.alert:20} {o.receiver:18} {fired:>7} {o.bound:>6.0f}s {resolved:>9}")
    return "\n".join(rows)
