"""One alert-intent fault, live: inject -> expected notifications -> remove -> resolved notifications.

Latency is measured from the fault's start to the notification's arrival at the receiver and
set beside its theoretical bound: 2 x scrape (rate() needs two samples of the new behaviour)
+ evaluation + the rule's `for` + the route's group_wait.

`run_case` drives a case on either side: `Loopback` (processes on this machine) or the cluster
(verification.probes.alerting.Live); a side says how to cause and clear the fault, where
notifications arrived and how patient to be.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

from prometheus_api_client import PrometheusConnect

from verification.alerting.loopback import App, Profile, Traffic
from verification.alerting.webhook import WebhookReceiver
from verification.errors import WaitTimeout
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


@dataclass(frozen=True)
class Patience:
    """Seconds a side waits: past each bound for a notification, for the resolved one, for
    Prometheus to agree (0: one look); and how often it looks (a cluster answers slower)."""

    fired: float
    resolved: float
    prometheus: float
    interval: float


class Side(Protocol):
    """Where a case runs: `Loopback` here, or the cluster (verification.probes.alerting.Live)."""

    patience: Patience

    def traffic(self, case: FaultCase, out: Path | None) -> AbstractContextManager[object]: ...
    def inject(self, case: FaultCase) -> None: ...
    def clear(self, case: FaultCase) -> None: ...
    def first(self, receiver: str, labels: dict[str, str], status: str, after: float) -> float | None: ...
    def firing(self, labels: dict[str, str]) -> bool: ...
    def missed(self, expected: ExpectedAlert, receiver: str, after: float) -> str: ...
    def unexpected(self, case: FaultCase, since: float) -> list[str]: ...
    def hopeless(self, expected: ExpectedAlert, receiver: str, status: str, after: float) -> str | None:
        """Why the notification cannot come any more (None: it still may, within the bound's patience)."""


def arrival(
    side: Side, case: FaultCase, expected: ExpectedAlert, receiver: str, status: str, after: float, timeout: float
) -> float:
    """When `expected` arrived at `receiver` with `status` after `after` (epoch); WaitTimeout if it did
    not within `timeout`, or as soon as the side's own state says it will not come."""
    what = f"{case.name}: {expected.name} {status} at {receiver}"

    def look() -> tuple[float | None, str | None]:
        received = side.first(receiver, expected.labels, status, after)
        return received, None if received else side.hopeless(expected, receiver, status, after)

    received, why = wait_for(look, what=what, timeout=timeout, interval=side.patience.interval,
                             until=lambda seen: any(seen), describe=lambda seen: repr(seen[0]))  # fmt: skip
    if not received:  # the side's own state says it will not come: no use waiting out the timeout
        raise WaitTimeout(f"{what}: {why}")
    return received


def run_case(
    case: FaultCase,
    side: Side,
    rules: RuleSet,
    timing: Profile,
    out: Path | None = None,
    while_firing: Callable[[], None] | None = None,
) -> CaseResult:
    """Inject, await every expected notification, clear, await resolution; what went wrong in
    `problems`. `out` receives the latency table and the traffic's request log (if the side keeps one).
    `while_firing` runs once the notifications and Prometheus' verdict are in, before the fault is
    cleared (checks that need this alert firing: one fault serves them, not one `for` each)."""
    result = CaseResult(case)
    notified = [(e, r) for e in case.alerts for r in e.receivers]
    for expected, receiver in notified:
        result.observations.append(
            Observation(case.name, expected.name, expected.labels["severity"], receiver, bound(expected, rules, timing))
        )
    wait = side.patience
    with side.traffic(case, out):
        started = time.time()
        side.inject(case)
        try:
            for observation, (expected, receiver) in zip(result.observations, notified, strict=True):
                try:
                    observation.fired_after = arrival(side, case, expected, receiver, "firing", started,
                                                      observation.bound + wait.fired) - started  # fmt: skip
                except WaitTimeout:
                    result.problems.append(side.missed(expected, receiver, started))
            for expected in case.alerts:  # Prometheus agrees, inhibited alerts included
                try:
                    wait_for(partial(side.firing, expected.labels), what=f"{expected.name} firing in Prometheus",
                             timeout=wait.prometheus, interval=wait.interval)  # fmt: skip
                except WaitTimeout:
                    result.problems.append(f"{expected.name} {expected.labels} is not firing in Prometheus")
            if while_firing is not None:
                while_firing()
        finally:
            cleared = time.time()
            side.clear(case)
        for observation, (expected, receiver) in zip(result.observations, notified, strict=True):
            if observation.fired_after is None:
                continue
            try:
                observation.resolved_after = (
                    arrival(side, case, expected, receiver, "resolved", cleared, wait.resolved) - cleared
                )
            except WaitTimeout as exc:
                result.problems.append(str(exc))
        result.problems += side.unexpected(case, started)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "latencies.txt").write_text(table(result.observations) + "\n")
    return result


@dataclass
class Loopback:
    """A case's side on this machine: the app process, the webhook receiver, Prometheus."""

    app: App
    webhook: WebhookReceiver
    prometheus: PrometheusConnect
    patience: Patience = Patience(fired=60, resolved=RESOLVE_TIMEOUT, prometheus=30, interval=0.2)

    @contextmanager
    def traffic(self, case: FaultCase, out: Path | None) -> Iterator[None]:
        running = None if case.stops_app else Traffic(self.app.url).start()
        try:
            yield
        finally:
            if running:
                running.stop()

    def inject(self, case: FaultCase) -> None:
        if case.stops_app:
            self.app.stop()
        else:
            assert isinstance(case.fault, dict)
            self.app.set_fault(case.fault)

    def clear(self, case: FaultCase) -> None:
        if case.stops_app:
            self.app.start()
        else:
            self.app.clear_fault()

    def first(self, receiver: str, labels: dict[str, str], status: str, after: float) -> float | None:
        note = self.webhook.first(receiver, labels, status, after=after)
        return note.received if note else None

    def firing(self, labels: dict[str, str]) -> bool:
        selector = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "alertname")
        query = f'ALERTS{{alertname="{labels["alertname"]}", {selector}, alertstate="firing"}}'
        return bool(self.prometheus.custom_query(query))

    def missed(self, expected: ExpectedAlert, receiver: str, after: float) -> str:
        names = {note.receiver for note in self.webhook.received()}
        got = sorted(r for r in names if self.webhook.first(r, expected.labels, "firing", after=after))
        return f"{expected.name} {expected.labels} did not reach receiver {receiver}: it reached {got or 'no receiver'}"

    def hopeless(self, expected: ExpectedAlert, receiver: str, status: str, after: float) -> str | None:
        return None  # loopback cases are short: each waits out its bound

    def unexpected(self, case: FaultCase, since: float) -> list[str]:
        """Notifications about this app and env that the intent does not list (inhibited ones too)."""
        allowed = {(e.name, e.labels["severity"], r) for e in case.alerts for r in e.receivers}
        seen = {
            (alert["labels"].get("alertname"), alert["labels"].get("severity"), note.receiver)
            for note in self.webhook.received()
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
