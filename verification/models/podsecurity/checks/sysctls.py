"""Check `sysctls` (baseline): spec.securityContext.sysctls[*].name must be in the safe set.

The safe set grows with the policy version: v1.0, v1.27 (+ip_local_reserved_ports), v1.29
(+tcp keepalive/fin), v1.32 (+tcp_rmem, tcp_wmem).
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_sysctls.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckPod,
    CheckResult,
    Pod,
    forbidden,
    security_context,
)

SAFE_1_0 = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
})  # fmt: skip
SAFE_1_27 = SAFE_1_0 | {"net.ipv4.ip_local_reserved_ports"}
SAFE_1_29 = SAFE_1_27 | {
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
SAFE_1_32 = SAFE_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}


def _with(safe: frozenset[str]) -> CheckPod:
    def check(pod: Pod) -> CheckResult:
        bad = [
            str(s.get("name", "")) for s in security_context(pod.spec).get("sysctls") or [] if s.get("name") not in safe
        ]
        return forbidden("forbidden sysctls", ", ".join(bad)) if bad else ALLOWED

    return check


CHECK = Check(
    "sysctls",
    "baseline",
    tuple(
        VersionedCheck(v(minor), _with(safe))
        for minor, safe in ((0, SAFE_1_0), (27, SAFE_1_27), (29, SAFE_1_29), (32, SAFE_1_32))
    ),
)
