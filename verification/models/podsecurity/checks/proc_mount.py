"""Check `procMount` (baseline), from v1.0: securityContext.procMount must be unset or "Default".

Relaxed (all values) for hostUsers: false only when the API server enables
UserNamespacesPodSecurityStandards.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_procMount.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_with,
    forbidden,
    join_quote,
    security_context,
)


def _mount(container: Mapping[str, Any]) -> list[str]:
    mount = security_context(container).get("procMount")
    return [] if mount is None or mount == "Default" else [str(mount)]


def check_1_0(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED
    bad, kinds = containers_with(pod.spec, _mount)
    if bad:
        return forbidden(
            "procMount",
            f"{containers_phrase(bad)} must not set securityContext.procMount to {join_quote(sorted(kinds))}",
        )
    return ALLOWED


CHECK = Check("procMount", "baseline", (VersionedCheck(v(0), check_1_0),))
