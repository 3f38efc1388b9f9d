"""Check `windowsHostProcess` (baseline), from v1.0: no pod or container windowsOptions.hostProcess=true.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_windowsHostProcess.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_phrase,
    forbidden,
    name,
    security_context,
)


def _host_process(obj: Mapping[str, Any]) -> bool:
    return (security_context(obj).get("windowsOptions") or {}).get("hostProcess") is True


def check_1_0(pod: Pod) -> CheckResult:
    setters = ["pod"] if _host_process(pod.spec) else []
    bad = [name(c) for c in containers(pod.spec) if _host_process(c)]
    if bad:
        setters.append(containers_phrase(bad))
    if setters:
        return forbidden(
            "hostProcess", f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true"
        )
    return ALLOWED


CHECK = Check(
    id="windowsHostProcess",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_windowsHostProcess.go",
)
