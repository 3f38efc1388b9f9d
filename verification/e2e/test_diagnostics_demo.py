"""Fails on purpose, after working in a namespace, to show the folder the failure hook leaves
(<artifacts>/test_diagnostics_demo.<test>/). Only with `-m diagnostics_demo` (root conftest.py)."""

import json

import pytest

from verification.cluster.cluster import Cluster
from verification.versions import versions

pytestmark = pytest.mark.diagnostics_demo
RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}


def test_fails_after_touching_a_namespace(cluster: Cluster, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "demo", "namespace": namespace},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "receiver", "image": versions()["images"]["alert-receiver"],
                            "imagePullPolicy": "IfNotPresent", "securityContext": RESTRICTED}],
        },
    }  # fmt: skip
    cluster.kubectl("-n", namespace, "create", "configmap", "demo", "--from-literal=colour=blue")
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    cluster.kubectl("-n", namespace, "wait", "--for=condition=Ready", "pod/demo", "--timeout=90s", timeout=120)
    seen = cluster.kubectl("-n", namespace, "get", "configmap", "demo", "-o", "jsonpath={.data.colour}").stdout
    assert seen == "green", f"demo verdict: expected colour green, observed {seen!r} (this test fails on purpose)"
