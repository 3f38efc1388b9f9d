"""Pod Security live: the API server admits exactly the pods the Pod Security model admits.

For every platform namespace, three pods (privileged, baseline-only, restricted) are created with a
server-side dry run; the live answer (admitted, or rejected with `violates PodSecurity`) must equal
the model (verification.models.pod_security) at the namespace's enforced level. In particular a
privileged pod is rejected in test and staging and a restricted pod is admitted.
"""

import json
from typing import Any

import pytest

from verification.e2e.stack import Stack, stack  # noqa: F401
from verification.models.pod_security import namespace_levels, violations
from verification.paths import MANIFESTS
from verification.versions import versions
from verification.yamlio import load_manifests

LEVELS = namespace_levels(load_manifests([MANIFESTS / "namespaces"]))


def _image() -> str:
    return versions()["images"]["netpol-probe"]


def _container(security: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "probe",
        "image": _image(),
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}},
        "securityContext": security,
    }


RESTRICTED = {
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [_container({"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})],
}
BASELINE = {"containers": [_container({})]}  # runs as the image's user, default capabilities
PRIVILEGED = {"containers": [_container({"privileged": True})]}
PODS = {"privileged": PRIVILEGED, "baseline": BASELINE, "restricted": RESTRICTED}


def _admitted(stack: Stack, namespace: str, name: str, spec: dict[str, Any]) -> tuple[bool, str]:  # noqa: F811
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"psa-{name}", "namespace": namespace}, "spec": spec}
    proc = stack.kubectl("create", "--dry-run=server", "-o", "name", "-f", "-", input=json.dumps(pod), check=False)
    if proc.returncode == 0:
        return True, proc.stdout.strip()
    if "violates PodSecurity" not in proc.stderr:
        pytest.fail(f"dry-run of pod {name} in {namespace} failed for another reason: {proc.stderr.strip()}")
    return False, proc.stderr.strip()


@pytest.mark.parametrize("namespace", sorted(LEVELS))
def test_admission_equals_model(stack: Stack, namespace: str) -> None:  # noqa: F811
    level = LEVELS[namespace]
    rows, wrong = [], []
    for name, spec in PODS.items():
        expected = not violations(spec, level)
        live, detail = _admitted(stack, namespace, name, spec)
        rows.append(f"{namespace} ({level}) pod {name}: model {'admit' if expected else 'reject'}, "
                    f"cluster {'admit' if live else 'reject'}")  # fmt: skip
        if live != expected:
            wrong.append(f"{rows[-1]}: {detail}")
    print("\n" + "\n".join(rows))
    assert not wrong, "Pod Security admission differs from the model:\n" + "\n".join(wrong)


@pytest.mark.parametrize("namespace", ["test", "staging"])
def test_privileged_rejected_restricted_admitted_in_app_namespaces(stack: Stack, namespace: str) -> None:  # noqa: F811
    privileged, why = _admitted(stack, namespace, "privileged", PRIVILEGED)
    assert not privileged, f"a privileged pod was admitted in {namespace}"
    assert "privileged" in why, why
    restricted, why = _admitted(stack, namespace, "restricted", RESTRICTED)
    assert restricted, f"a restricted pod was rejected in {namespace}: {why}"
