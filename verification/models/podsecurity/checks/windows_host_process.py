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
    containers_where,
    forbidden,
    security_context,
    setters,
)


def _host_process(sc: Mapping[str, Any]) -> bool:
    return (sc.get("windowsOptions") or {}).get("hostProcess") is True


def check_1_0(pod: Pod) -> CheckResult:
    who = setters(_host_process(security_context(pod.spec)), containers_where(pod.spec, _host_process))
    if who:
        return forbidden(
            "hostProcess", f"{' and '.join(who)} must not set securityContext.windowsOptions.hostProcess=true"
        )
    return ALLOWED


CHECK = Check(
    id="windowsHostProcess",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_windowsHostProcess.go",
)
