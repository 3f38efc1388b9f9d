"""The API server's defaulting that changes what Pod Security admission sees.

A pod with hostNetwork: true gets hostPort = containerPort on every port of its containers and
init containers (k8s.io/kubernetes pkg/apis/core/v1/defaults.go, SetDefaults_PodSpec), so the
hostPorts check fails it too. Pods created from templates get the same defaulting.
"""

import copy
from typing import Any

from verification.models.podsecurity.result import Spec


def defaulted(spec: Spec) -> Spec:
    if spec.get("hostNetwork") is not True:
        return spec
    out: dict[str, Any] = copy.deepcopy(dict(spec))
    for key in ("initContainers", "containers"):
        for container in out.get(key) or []:
            for port in container.get("ports") or []:
                if not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort")
    return out
