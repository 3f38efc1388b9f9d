"""Admission live: only namespace monitoring may pick a Prometheus scrape class.

The scrape class `kubelet` (platform/manifests/monitoring/prometheus.yaml) sends Prometheus' service
account token to the targets of any resource naming it. The ValidatingAdmissionPolicy
scrape-class-monitoring-only (admission-scrape-class.yaml, deployed by the stack with the rest of
platform/manifests/monitoring) denies spec.scrapeClass outside namespace monitoring; conformance
checks its structure (verification/models/admission/scrape_class.py), this module checks the API
server enforces it. Each environment's deployer, impersonated as its service account:

- a ServiceMonitor with spec.scrapeClass: kubelet is rejected with the policy's message;
- the same ServiceMonitor without scrapeClass is admitted (so the rejection is the policy's, not
  RBAC's, and the CEL expression compiles and admits);

and the platform's own use (a ServiceMonitor in monitoring naming the class) is admitted. Every
request is a server-side dry run: validating admission policies run, nothing is stored.
"""

import json
import subprocess
from typing import Any

import pytest

from verification import catalog
from verification.e2e.stack import Stack
from verification.models.admission.cel import AdmissionRequest, PolicySet
from verification.paths import MANIFESTS
from verification.yamlio import iter_kind, load_manifests

MANIFEST = MANIFESTS / "monitoring" / "admission-scrape-class.yaml"
POLICY = next(iter_kind(load_manifests([MANIFEST]), "ValidatingAdmissionPolicy"))
POLICY_NAME = POLICY["metadata"]["name"]
MESSAGE = " ".join(POLICY["spec"]["validations"][0]["message"].split())
MONITOR = "admission-scrape-class-probe"  # no object of the platform has this name


def _deployer(namespace: str) -> list[str]:
    return [
        f"--as=system:serviceaccount:{namespace}:ci-deployer",
        "--as-group=system:serviceaccounts",
        f"--as-group=system:serviceaccounts:{namespace}",
    ]


def _service_monitor(namespace: str, scrape_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app.kubernetes.io/name": catalog.current().names()[0]}},
        "endpoints": [{"port": "metrics", "path": "/metrics"}],
    }
    if scrape_class is not None:
        spec["scrapeClass"] = scrape_class
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": MONITOR,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "devops-platform"},  # selected by the platform's Prometheus
        },
        "spec": spec,
    }


def _model(obj: dict[str, Any], user: str) -> list[str]:
    """The denial messages the model predicts (the platform's policies, CEL evaluated)."""
    policies = PolicySet.from_objects(load_manifests([MANIFESTS]))
    meta = obj["metadata"]
    request = AdmissionRequest(
        "CREATE", "monitoring.coreos.com", "v1", "servicemonitors", obj["kind"], meta["namespace"], meta["name"], user,
        (), obj,
    )  # fmt: skip
    return [d.api_message() for d in policies.decide(request).denials]


def _dry_run_create(stack: Stack, obj: dict[str, Any], *identity: str) -> subprocess.CompletedProcess[str]:
    return stack.kubectl(
        *identity, "create", "--dry-run=server", "-o", "name", "-f", "-", input=json.dumps(obj), check=False
    )


def test_policy_is_deployed_with_deny(stack: Stack) -> None:
    policy = json.loads(stack.kubectl("get", "validatingadmissionpolicy", POLICY_NAME, "-o", "json").stdout)
    binding = json.loads(stack.kubectl("get", "validatingadmissionpolicybinding", POLICY_NAME, "-o", "json").stdout)
    assert binding["spec"]["policyName"] == POLICY_NAME
    assert "Deny" in binding["spec"]["validationActions"], binding["spec"]
    # The type checker (filled in by the API server shortly after creation) finds the expression
    # valid against the CRD schemas.
    warnings = ((policy.get("status") or {}).get("typeChecking") or {}).get("expressionWarnings") or []
    assert not warnings, f"type checking of {POLICY_NAME}: {warnings}"


@pytest.mark.parametrize("namespace", ["test", "staging"])
def test_deployer_cannot_pick_kubelet_scrape_class(stack: Stack, namespace: str) -> None:
    proc = _dry_run_create(stack, _service_monitor(namespace, "kubelet"), *_deployer(namespace))
    assert proc.returncode != 0, (
        f"the {namespace} deployer created a ServiceMonitor with scrapeClass kubelet (dry run): {proc.stdout.strip()}"
    )
    error = " ".join(proc.stderr.split())
    assert f"ValidatingAdmissionPolicy '{POLICY_NAME}'" in error and MESSAGE in error, (
        f"rejected, but not by {POLICY_NAME} with its message {MESSAGE!r}: {proc.stderr.strip()}"
    )
    predicted = _model(_service_monitor(namespace, "kubelet"), f"system:serviceaccount:{namespace}:ci-deployer")
    assert predicted and predicted[0] in error, f"the model predicts {predicted}, the API server said {error!r}"


@pytest.mark.parametrize("namespace", ["test", "staging"])
def test_deployer_may_create_service_monitor_without_scrape_class(stack: Stack, namespace: str) -> None:
    proc = _dry_run_create(stack, _service_monitor(namespace), *_deployer(namespace))
    assert proc.returncode == 0, (
        f"the {namespace} deployer may not create a plain ServiceMonitor (dry run): {proc.stderr.strip()}"
    )
    assert _model(_service_monitor(namespace), f"system:serviceaccount:{namespace}:ci-deployer") == []
    assert MONITOR in proc.stdout, proc.stdout


def test_monitoring_namespace_may_pick_kubelet_scrape_class(stack: Stack) -> None:
    proc = _dry_run_create(stack, _service_monitor("monitoring", "kubelet"))
    assert proc.returncode == 0, (
        f"a ServiceMonitor with scrapeClass kubelet was rejected in monitoring (dry run, cluster admin): "
        f"{proc.stderr.strip()}"
    )
