"""Check `hostNamespaces` (baseline), from v1.0: hostNetwork, hostPID and hostIPC must be unset or false.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_hostNamespaces.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import ALLOWED, CheckResult, Pod, forbidden


def check_1_0(pod: Pod) -> CheckResult:
    shared = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.spec.get(key) is True]
    return forbidden("host namespaces", ", ".join(shared)) if shared else ALLOWED


CHECK = Check("hostNamespaces", "baseline", (VersionedCheck(v(0), check_1_0),))
