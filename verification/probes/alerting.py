"""The cluster side of an alert case (verification.alerting.scenario.run_case runs it on either side).

The e2e alert receiver's notifications, the live Alertmanager configuration and Prometheus are
read through the API server's service proxy; faults go through each active pod's fault control,
traffic through the NodePort (both by the e2e stack).
"""

import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, Protocol

import yaml
from prometheus_api_client import PrometheusConnect

from verification.alerting.scenario import RESOLVE_TIMEOUT, Patience
from verification.load import LoadConfig, background
from verification.models.monitoring import routes
from verification.models.monitoring.alert_intent import ExpectedAlert, FaultCase

RECEIVER_NS = "default"
RECEIVER = "alert-receiver"


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

    def alertmanager_config(self) -> dict[str, Any]:
        """The configuration Alertmanager runs ({} while it does not answer)."""
        status = f"/api/v1/namespaces/{self.monitoring}/services/alertmanager-operated:web/proxy/api/v2/status"
        proc = self.stack.kubectl("get", "--raw", status, check=False)
        if proc.returncode != 0:
            return {}
        return yaml.safe_load(json.loads(proc.stdout)["config"]["original"]) or {}


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
