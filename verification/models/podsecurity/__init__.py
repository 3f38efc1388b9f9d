"""Pod Security Standards as Kubernetes' Pod Security admission enforces them.

A check-for-check port of k8s.io/pod-security-admission v0.33.13 (Kubernetes v1.33, policy
"latest"): one module per upstream check under `checks/`, the table and its evaluation in
`registry`, level/version/namespace-label parsing in `api`. Reasons are upstream's text, e.g.
`allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`,
so a model verdict reads like the admission error. The e2e suite compares it with live admission.
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.api import (
    LATEST,
    LEVELS,
    LevelVersion,
    Version,
    enforced,
    namespace_levels,
    namespace_policies,
    parse_version,
)
from verification.models.podsecurity.defaults import defaulted
from verification.models.podsecurity.registry import BY_ID, CHECKS, checks_at, evaluate
from verification.models.podsecurity.result import CheckResult, Pod
from verification.models.podsecurity.workloads import pod_spec_of, pod_template_of

__all__ = [
    "BY_ID", "CHECKS", "LATEST", "LEVELS", "CheckResult", "LevelVersion", "Pod", "Version", "check_pod", "checks_at",
    "enforced", "evaluate", "forbidden_message", "namespace_levels", "namespace_policies", "pod_spec_of",
    "pod_template_of", "violations",
]  # fmt: skip


def check_pod(
    spec: Mapping[str, Any],
    level: str,
    version: str | Version = "latest",
    *,
    metadata: Mapping[str, Any] | None = None,
    relax_user_namespaces: bool = False,
) -> list[tuple[str, CheckResult]]:
    """(check ID, result) for every failing check at `level`:`version`, after the API server's
    defaulting; empty when admission would admit the pod."""
    if level not in LEVELS:
        raise ValueError(f"unknown Pod Security level {level!r} (one of {', '.join(LEVELS)})")
    parsed, valid = parse_version(version)
    if not valid:
        raise ValueError(f'unknown Pod Security version {version!r} ("latest" or "v1.x")')
    pod = Pod(defaulted(spec), metadata or {}, relax_user_namespaces)
    return [(cid, result) for cid, result in evaluate(pod, LevelVersion(level, parsed)) if not result.allowed]


def violations(
    spec: Mapping[str, Any], level: str, version: str | Version = "latest", *, metadata: Mapping[str, Any] | None = None
) -> list[str]:
    """Upstream's `reason (detail)` for every check the pod fails; empty = admitted."""
    return [str(result) for _, result in check_pod(spec, level, version, metadata=metadata)]


def forbidden_message(
    spec: Mapping[str, Any], level: str, version: str | Version = "latest", *, metadata: Mapping[str, Any] | None = None
) -> str | None:
    """The admission error text, `violates PodSecurity "restricted:latest": ...`, or None if admitted."""
    found = violations(spec, level, version, metadata=metadata)
    if not found:
        return None
    return f'violates PodSecurity "{LevelVersion(level, parse_version(version)[0])}": {", ".join(found)}'
