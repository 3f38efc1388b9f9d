"""Every pod template in the manifests passes the Pod Security level and version its namespace enforces.

The model is the port of Pod Security admission (verification.models.podsecurity); the pod's
template metadata is passed too (AppArmor annotations are checked). Chart renders are checked at
restricted, for every environment and colour, by the blue-green chart checks (test_charts.py).
"""

from typing import Any

from verification.models import podsecurity
from verification.versions import versions
from verification.yamlio import source_of


def test_pod_templates_meet_their_namespace_policy(platform_objects: list[dict[str, Any]]) -> None:
    policies = podsecurity.namespace_policies(platform_objects)
    default = podsecurity.enforced(None)
    problems, checked = [], 0
    for obj in platform_objects:
        template = podsecurity.pod_template_of(obj)
        if template is None:
            continue
        checked += 1
        namespace = obj["metadata"].get("namespace", "default")
        policy = policies.get(namespace, default)
        found = podsecurity.violations(template["spec"], policy.level, policy.version, metadata=template["metadata"])
        problems += [
            f"{source_of(obj)}: {obj['kind']} {namespace}/{obj['metadata']['name']} ({policy}): {reason}"
            for reason in found
        ]
    assert checked, "no pod templates found in the manifests: nothing was checked"
    assert not problems, "Pod Security violations:\n" + "\n".join(problems)


def test_enforced_version_is_the_clusters(platform_objects: list[dict[str, Any]]) -> None:
    """Every namespace enforces the Pod Security Standards of the Kubernetes minor the platform runs
    (versions.yaml): an older pin keeps rules the cluster has since changed, and an upgrade would
    not bring the new ones."""
    major, minor = (int(part) for part in versions()["kubernetes"]["version"].lstrip("v").split(".")[:2])
    wanted = podsecurity.Version(major, minor)
    wrong = {
        name: str(policy.version)
        for name, policy in podsecurity.namespace_policies(platform_objects).items()
        if policy.version != wanted
    }
    assert not wrong, f"namespaces whose pod-security enforce-version is not {wanted}: {wrong}"
