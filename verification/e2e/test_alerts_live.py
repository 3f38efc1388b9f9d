"""Alerts live: faults of platform/intent/alerts.yaml injected into the apps on the cluster reach
the expected receivers through the cluster's own Prometheus and Alertmanager, and resolve.

- The e2e alert receiver (image alert-receiver) runs in namespace default with the label
  platform.io/alert-receiver=true (the platform's NetworkPolicies let Alertmanager reach only such
  pods); the platform's Alertmanager configuration is applied with each receiver's integrations
  replaced by a webhook to it (verification.alerting.loopback.loopback_alertmanager_config), and
  Prometheus gets the timing profile's intervals. Rules, routes and inhibitions stay as in git.
  Both are restored from the repository afterwards.
- Faults go through each active pod's fault control (API server pod proxy), traffic through the
  NodePort; Prometheus and the receiver are read through the API server's service proxy.
- Covered here: the Watchdog heartbeat and every fault case in the namespace the apps run in
  (`test`) that the fault control can cause; the others are listed as not covered, with why.
"""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from verification.alerting.loopback import loopback_alertmanager_config, profile
from verification.alerting.scenario import RESOLVE_TIMEOUT, Observation, bound, table
from verification.e2e.stack import APP_NAMESPACE, MONITORING, Stack, apply, stack  # noqa: F401
from verification.load import LoadConfig, background
from verification.models import alert_intent, alerts, routes
from verification.models.alert_intent import FaultCase
from verification.paths import MANIFESTS
from verification.versions import versions
from verification.wait import wait_for
from verification.yamlio import load_manifests

RECEIVER_NS = "default"
RECEIVER = "alert-receiver"
WEBHOOK = f"http://{RECEIVER}.{RECEIVER_NS}.svc.cluster.local:8080/hook"
TOKEN_FILE = Path("/etc/alertmanager/secrets/alertmanager-receivers/heartbeat-token")
INTENT = alert_intent.load()
RESTORED = (MANIFESTS / "monitoring" / "alertmanager-config.yaml", MANIFESTS / "monitoring" / "prometheus.yaml")


def _receiver_objects() -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": RECEIVER, "platform.io/alert-receiver": "true"}
    pod = {
        "metadata": {"labels": labels},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": RECEIVER,
                    "image": versions()["images"][RECEIVER],
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 2},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": RECEIVER, "namespace": RECEIVER_NS},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": pod}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": RECEIVER, "namespace": RECEIVER_NS},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}},
    ]  # fmt: skip


class Live:
    """The cluster's Prometheus and the receiver, read through the API server's service proxy."""

    def __init__(self, stack: Stack) -> None:  # noqa: F811
        self.stack = stack
        self.prometheus = stack.prometheus()

    def _raw(self, path: str) -> Any:
        return json.loads(self.stack.kubectl("get", "--raw", path).stdout)

    def notifications(self) -> list[dict[str, Any]]:
        return self._raw(f"/api/v1/namespaces/{RECEIVER_NS}/services/{RECEIVER}:http/proxy/notifications") or []

    def first(self, receiver: str, labels: dict[str, str], status: str, after: float) -> dict | None:
        for note in self.notifications():
            received = _epoch(note["received_at"])
            if note.get("hook") != receiver or received < after:
                continue
            for alert in note.get("alerts") or []:
                if alert.get("status") == status and all(alert["labels"].get(k) == v for k, v in labels.items()):
                    return {**note, "received": received}
        return None

    def firing(self, labels: dict[str, str]) -> bool:
        selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
        return bool(self.prometheus.custom_query(f'ALERTS{{{selector},alertstate="firing"}}'))

    def set_fault(self, app: str, fault: dict[str, Any] | None) -> list[str]:
        pods = self.stack.kubectl("-n", self.stack.namespace, "get", "endpoints", app, "-o",
                                  "jsonpath={.subsets[*].addresses[*].targetRef.name}").stdout.split()  # fmt: skip
        assert pods, f"the active Service {app} has no endpoints"
        for pod in pods:
            path = f"/api/v1/namespaces/{self.stack.namespace}/pods/{pod}:8080/proxy/admin/faults"
            if fault is None:
                self.stack.kubectl("delete", "--raw", path)
            else:
                self.stack.kubectl("create", "--raw", path, "-f", "-", input=json.dumps(fault))
        return pods


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def live(stack: Stack, pytestconfig: pytest.Config) -> Iterator[Live]:  # noqa: F811
    stack.require_prometheus()
    timing = profile(pytestconfig.getoption("--e2e-profile"))
    objects = load_manifests([MANIFESTS / "monitoring"])
    config = loopback_alertmanager_config(routes.config(objects), WEBHOOK, TOKEN_FILE, timing)
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "alertmanager-platform-config", "namespace": MONITORING},
              "stringData": {routes.CONFIG_KEY: yaml.safe_dump(config, sort_keys=False)}}  # fmt: skip
    patch = {"spec": {"scrapeInterval": timing.scrape_interval, "scrapeTimeout": timing.scrape_timeout,
                      "evaluationInterval": timing.evaluation_interval}}  # fmt: skip
    listing = {"apiVersion": "v1", "kind": "List", "items": [*_receiver_objects(), secret]}
    stack.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(listing))
    stack.kubectl("-n", MONITORING, "patch", "prometheus", "platform", "--type=merge", "-p", json.dumps(patch))
    try:
        stack.kubectl("-n", RECEIVER_NS, "rollout", "status", f"deployment/{RECEIVER}", "--timeout=120s", timeout=150)
        yield Live(stack)
    finally:
        apply(
            stack.cluster,
            MANIFESTS / "monitoring" / "alertmanager-config.yaml",
            MANIFESTS / "monitoring" / "prometheus.yaml",
        )
        stack.kubectl("-n", RECEIVER_NS, "delete", "deployment,service", RECEIVER, "--ignore-not-found", check=False)


def _covered(case: FaultCase, namespace: str) -> str | None:
    """Why a case cannot run on this stack (None: it can)."""
    if case.env != namespace:
        return f"the apps run in namespace {namespace} only (the case needs env {case.env})"
    if case.stops_app:
        return "stopping every pod removes the scrape targets (absent, not down); the loopback test covers it"
    return None


COVERED = [c for c in INTENT.faults if _covered(c, APP_NAMESPACE) is None]


def test_uncovered_cases_are_listed() -> None:
    """The cases this stack cannot cause are named with the reason (never skipped silently)."""
    lines = [f"{c.name}: {why}" for c in INTENT.faults if (why := _covered(c, APP_NAMESPACE))]
    print("\nalert intent cases not covered live:\n" + "\n".join(lines))
    assert COVERED, "no alert intent case can run live on this stack"


def test_heartbeat_reaches_its_receiver(live: Live, artifacts: Path) -> None:
    begun = time.time()
    expected = INTENT.heartbeat
    for receiver in expected.receivers:
        note = wait_for(
            lambda r=receiver: live.first(r, expected.labels, "firing", 0),
            what=f"Watchdog at receiver {receiver}",
            timeout=240,
            interval=2,
        )
        print(f"\nWatchdog at {receiver} (seen {time.time() - begun:.0f}s after the configuration was applied)")
        assert note


@pytest.mark.parametrize("case", COVERED, ids=lambda c: c.name)
def test_fault_reaches_receivers_and_resolves(
    live: Live,
    stack: Stack,  # noqa: F811
    case: FaultCase,
    artifacts: Path,
) -> None:
    rules = alerts.rule_set(load_manifests([MANIFESTS / "monitoring"]))
    timing = profile("e2e")
    assert isinstance(case.fault, dict)
    observations = [
        (Observation(case.name, e.name, e.labels["severity"], r, bound(e, rules, timing)), e, r)
        for e in case.alerts
        for r in e.receivers
    ]
    out = artifacts / "alerts-live" / case.app
    with background(
        LoadConfig(stack.url(case.app) + "/", rate=10, duration=900, concurrency=4), out, stop_on_exit=True
    ):
        started = time.time()
        live.set_fault(case.app, case.fault)
        try:
            for observation, expected, receiver in observations:
                note = wait_for(
                    lambda e=expected, r=receiver: live.first(r, e.labels, "firing", started),
                    what=f"{case.name}: {expected.name} firing at {receiver}",
                    timeout=observation.bound + 90,
                    interval=2,
                )
                observation.fired_after = note["received"] - started
            for expected in case.alerts:
                wait_for(lambda e=expected: live.firing(e.labels), what=f"{expected.name} firing in Prometheus",
                         timeout=60, interval=2)  # fmt: skip
        finally:
            live.set_fault(case.app, None)
        cleared = time.time()
        for observation, expected, receiver in observations:
            note = wait_for(
                lambda e=expected, r=receiver: live.first(r, e.labels, "resolved", cleared),
                what=f"{case.name}: {expected.name} resolved at {receiver}",
                timeout=RESOLVE_TIMEOUT + 60,
                interval=2,
            )
            observation.resolved_after = note["received"] - cleared
    report = table([o for o, _, _ in observations])
    out.mkdir(parents=True, exist_ok=True)
    (out / "latencies.txt").write_text(report + "\n")
    print("\n" + report)
