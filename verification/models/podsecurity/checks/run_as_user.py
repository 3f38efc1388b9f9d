"""Check `runAsUser` (restricted), from v1.23: neither the pod nor any container may set runAsUser: 0.

Unset is allowed (the image's user, which runAsNonRoot then guards).
Relaxed for hostUsers: false only when the API server enables UserNamespacesPodSecurityStandards.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_runAsUser.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import ALLOWED, CheckResult, Pod, forbidden, is_zero, pod_or_containers


def check_1_23(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED
    who = pod_or_containers(pod.spec, lambda sc: is_zero(sc.get("runAsUser")))
    return forbidden("runAsUser=0", f"{' and '.join(who)} must not set runAsUser=0") if who else ALLOWED


CHECK = Check("runAsUser", "restricted", (VersionedCheck(v(23), check_1_23),))
