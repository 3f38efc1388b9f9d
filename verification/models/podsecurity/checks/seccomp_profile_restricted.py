"""Check `seccompProfile_restricted` (restricted), from v1.19; from v1.25 Windows pods are exempt.

Every set profile (pod or container) must have type RuntimeDefault or Localhost, and every
container must be covered: its own profile, or an allowed pod-level one. Overrides
seccompProfile_baseline.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_seccompProfile_restricted.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v, windows_exempt
from verification.models.podsecurity.checks import seccomp_profile_baseline as baseline
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_where,
    forbidden,
    security_context,
)


def check_1_19(pod: Pod) -> CheckResult:
    explicit = baseline.check_1_19(pod)
    if not explicit.allowed:
        return explicit
    pod_profile_set = security_context(pod.spec).get("seccompProfile") is not None  # and allowed: no setters
    uncovered = containers_where(pod.spec, lambda sc: sc.get("seccompProfile") is None)
    if uncovered and not pod_profile_set:
        return forbidden(
            "seccompProfile",
            f"pod or {containers_phrase(uncovered)} must set securityContext.seccompProfile.type to "
            '"RuntimeDefault" or "Localhost"',
        )
    return ALLOWED


OVERRIDES = (baseline.ID,)
CHECK = Check(
    "seccompProfile_restricted",
    "restricted",
    (VersionedCheck(v(19), check_1_19, OVERRIDES), VersionedCheck(v(25), windows_exempt(check_1_19), OVERRIDES)),
)
