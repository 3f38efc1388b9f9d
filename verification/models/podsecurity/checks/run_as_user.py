"""Check `runAsUser` (restricted), from v1.23: neither the pod nor any container may set runAsUser: 0.

Unset is allowed (the image's user, which runAsNonRoot then guards).
Relaxed for hostUsers: false only when the API server enables UserNamespacesPodSecurityStandards.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_runAsUser.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_where,
    forbidden,
    is_zero,
    security_context,
    setters,
)


def check_1_23(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED

    def root(sc: Mapping[str, Any]) -> bool:
        return is_zero(sc.get("runAsUser"))

    who = setters(root(security_context(pod.spec)), containers_where(pod.spec, root))
    return forbidden("runAsUser=0", f"{' and '.join(who)} must not set runAsUser=0") if who else ALLOWED


CHECK = Check(
    id="runAsUser",
    level="restricted",
    versions=(VersionedCheck(v(23), check_1_23),),
    upstream=f"{UPSTREAM}/check_runAsUser.go",
)
