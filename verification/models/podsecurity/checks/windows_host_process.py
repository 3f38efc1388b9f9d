"""Check `windowsHostProcess` (baseline), from v1.0: no pod or container windowsOptions.hostProcess=true.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_windowsHostProcess.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import ALLOWED, CheckResult, Pod, forbidden, pod_or_containers


def check_1_0(pod: Pod) -> CheckResult:
    who = pod_or_containers(pod.spec, lambda sc: (sc.get("windowsOptions") or {}).get("hostProcess") is True)
    if who:
        return forbidden(
            "hostProcess", f"{' and '.join(who)} must not set securityContext.windowsOptions.hostProcess=true"
        )
    return ALLOWED


CHECK = Check("windowsHostProcess", "baseline", (VersionedCheck(v(0), check_1_0),))
