"""The cluster side of an alert case (verification.alerting.scenario.run_case runs it on either side).

The e2e alert receiver's notifications, the live Alertmanager configuration and Prometheus are
read through the API server's service proxy; faults go through each active pod's fault control,
traffic through the NodePort (both by the e2e stack).
"""

import functools
import json
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, Protocol

from prometheus_api_client import PrometheusConnect

from verification.alerting.scenario import RESOLVE_TIMEOUT, Patience
from verification.errors import CommandError
from verification.load import LoadConfig, background
from verification.models.monitoring import routes
from verification.models.monitoring.alert_intent import ExpectedAlert, FaultCase
from verification.models.monitoring.alerts import duration_seconds
from verification.yamlio import parse

RECEIVER_NS = "default"
RECEIVER = "alert-receiver"
CLOCK_SKEW = 2.0  # seconds between this machine's clock and the cluster's (kind: the same kernel)
DELIVERY_GRACE = 5.0  # seconds Alertmanager holds an alert before its routing is taken as final
DELIVERY_SLACK = 30.0  # seconds a loaded 2-core cluster may add to a delivery


class Platform(Protocol):
    """What Live uses of the e2e stack (verification.e2e.stack.Stack)."""

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> CompletedProcess[str]: ...
    def prometheus(self) -> PrometheusConnect: ...
    def set_fault(self, app: str, fault: dict[str, Any] | None) -> list[str]: ...
    def url(self, app: str) -> str: ...


class Live:
    """The cluster's Prometheus, Alertmanager and the receiver, read through the API server's service proxy."""

    patience = Patience(fired=90, resolved=RESOLVE_TIMEOUT + 60, prometheus=0, interval=2)

    def __init__(self, stack: Platform, monitoring: str, repository: dict[str, Any]) -> None:
        self.stack = stack
        self.monitoring = monitoring  # the namespace of Prometheus and Alertmanager
        self.repository = repository  # the Alertmanager configuration a misdelivery is compared with
        self.prometheus = stack.prometheus()
        self.since = time.time()  # when the loopback configuration ran (reset by the fixture)
        self.grouping = (1.0, 2.0)  # seconds of the routes' group_wait, group_interval at most (set by the fixture)
        self._seen: dict[tuple[str, float, str], float] = {}  # (alert, after, where) -> first seen (monotonic)

    def _raw(self, path: str) -> Any:
        return json.loads(self.stack.kubectl("get", "--raw", path).stdout)

    def notifications(self) -> list[dict[str, Any]]:
        return self._raw(f"/api/v1/namespaces/{RECEIVER_NS}/services/{RECEIVER}:http/proxy/notifications") or []

    def matching(
        self, labels: dict[str, str], status: str, after: float
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any], float]]:
        """(notification, alert, received epoch) for alerts with `labels` and `status` received since `after`."""
        for note in self.notifications():
            received = _epoch(note["received_at"])
            if received < after:
                continue
            for alert in note.get("alerts") or []:
                if alert.get("status") == status and all(alert["labels"].get(k) == v for k, v in labels.items()):
                    yield note, alert, received

    def first(self, receiver: str, labels: dict[str, str], status: str, after: float) -> float | None:
        """When `receiver` first got an alert with `labels` and `status` since `after` (epoch)."""
        for note, _alert, received in self.matching(labels, status, after):
            if note.get("hook") == receiver:
                return received
        return None

    def delivered_to(self, labels: dict[str, str], status: str, after: float) -> dict[str, dict[str, str]]:
        """Receivers that got an alert with `labels` and `status` since `after`: {receiver: its labels}."""
        found: dict[str, dict[str, str]] = {}
        for note, alert, _received in self.matching(labels, status, after):
            found.setdefault(note.get("hook", "?"), alert["labels"])
        return found

    def missed(self, expected: ExpectedAlert, receiver: str, after: float) -> str:
        """Why `expected` did not reach `receiver`: where it went and what the live routes say."""
        got = self.delivered_to(expected.labels, "firing", after)
        labels = next(iter(got.values()), expected.labels)
        with tempfile.TemporaryDirectory(prefix="routes-") as tmp:
            decided = {}
            for name, cfg in (("live", self.alertmanager_config()), ("repository", self.repository)):
                (Path(tmp) / name).mkdir()
                decided[name] = routes.amtool_receivers(routes.write_config(cfg, Path(tmp) / name), labels)
        live_routes, repo_routes = decided["live"], decided["repository"]
        where = f"it reached {sorted(got)}" if got else "it reached no receiver"
        firing = "firing" if self.firing(expected.labels) else "NOT firing"
        cause = ""
        if live_routes != repo_routes:
            cause = (
                f"; cause: the live Alertmanager configuration routes these labels to {live_routes}, the "
                f"repository's ({routes.CONFIG_KEY} in alertmanager-config.yaml) to {repo_routes}"
            )
        elif firing == "NOT firing":
            cause = "; cause: the alert is not firing in Prometheus (rule, scrape or fault injection)"
        return (
            f"{expected.name} {expected.labels} did not reach receiver {receiver}: {where}; "
            f"{firing} in Prometheus{cause}"
        )

    def firing(self, labels: dict[str, str]) -> bool:
        selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return bool(self.prometheus.custom_query(f'ALERTS{{{selector},alertstate="firing"}}'))

    def set_fault(self, app: str, fault: dict[str, Any] | None) -> list[str]:
        return self.stack.set_fault(app, fault)

    def traffic(self, case: FaultCase, out: Path | None) -> AbstractContextManager[object]:
        load = LoadConfig(self.stack.url(case.app) + "/", rate=10, duration=900, concurrency=4)
        return background(load, out, stop_on_exit=True)

    def inject(self, case: FaultCase) -> None:
        assert isinstance(case.fault, dict), f"{case.name}: no fault the fault control can cause"
        self.set_fault(case.app, case.fault)

    def clear(self, case: FaultCase) -> None:
        self.set_fault(case.app, None)

    def unexpected(self, case: FaultCase, since: float) -> list[str]:
        # Not judged live: one receiver serves the whole run, so an earlier case's late
        # notifications (inhibited or resolving alerts) would count against this one.
        return []

    def hopeless(self, expected: ExpectedAlert, receiver: str, status: str, after: float) -> str | None:
        """Why `receiver` will not get `expected` firing any more, from Alertmanager's and Prometheus'
        own state (None: it still may). Alertmanager lists the receivers its routes chose for each
        alert it holds: once it has held the alert past DELIVERY_GRACE, a receiver it did not choose
        (or an alert it suppresses) gets nothing; one it chose gets it within group_wait +
        group_interval. Prometheus sends an alert the evaluation it fires: one firing longer than
        its resend delay that Alertmanager does not hold was lost. Resolutions are waited out."""
        if status != "firing":
            return None
        key = ",".join(f"{k}={v}" for k, v in sorted(expected.labels.items()))
        now = time.monotonic()
        held = [a for a in self.alertmanager_alerts() if _epoch(a["startsAt"]) >= after - CLOCK_SKEW
                and _epoch(a["endsAt"]) > time.time() and _has(a["labels"], expected.labels)]  # fmt: skip
        if held:
            since = now - self._seen.setdefault((key, after, "alertmanager"), now)
            chosen = sorted({r["name"] for a in held for r in a.get("receivers") or []})
            states = {a["status"]["state"] for a in held}
            if since < DELIVERY_GRACE:
                return None
            if states == {"suppressed"}:
                return f"Alertmanager holds it suppressed for {since:.0f}s ({held[0]['status']})"
            if receiver not in chosen:
                return f"Alertmanager has held it for {since:.0f}s and routes it to {chosen}, not {receiver}"
            limit = sum(self.grouping) + DELIVERY_GRACE + DELIVERY_SLACK
            if since > limit:
                return f"Alertmanager routes it to {receiver} since {since:.0f}s, no notification came ({limit:.0f}s)"
            return None
        if self.firing(expected.labels):
            since = now - self._seen.setdefault((key, after, "prometheus"), now)
            limit = self.resend_delay() + DELIVERY_SLACK
            if since > limit:
                return f"firing in Prometheus for {since:.0f}s, Alertmanager does not hold it (limit {limit:.0f}s)"
        return None

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds, each with the receivers its routes chose and its state."""
        held: list[dict[str, Any]] = self._raw(
            f"/api/v1/namespaces/{self.monitoring}/services/alertmanager-operated:web/proxy/api/v2/alerts"
        )
        return held or []

    @functools.cache  # noqa: B019 - one Live per module, its flags do not change
    def resend_delay(self) -> float:
        """Prometheus' --rules.alert.resend-delay in seconds (its default, 1m, if unreadable)."""
        path = f"/api/v1/namespaces/{self.monitoring}/services/prometheus-operated:web/proxy/api/v1/status/flags"
        try:
            return duration_seconds(self._raw(path)["data"].get("rules.alert.resend-delay", "1m"))
        except (KeyError, ValueError, CommandError):
            return 60.0

    def alertmanager_config(self) -> dict[str, Any]:
        """The configuration Alertmanager runs ({} while it does not answer)."""
        status = f"/api/v1/namespaces/{self.monitoring}/services/alertmanager-operated:web/proxy/api/v2/status"
        proc = self.stack.kubectl("get", "--raw", status, check=False)
        if proc.returncode != 0:
            return {}
        return parse(json.loads(proc.stdout)["config"]["original"], "Alertmanager /api/v2/status") or {}


def _epoch(stamp: str) -> float:
    """An RFC 3339 time (Alertmanager's carry nanoseconds) as epoch seconds."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")).timestamp()


def _has(labels: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in wanted.items())
