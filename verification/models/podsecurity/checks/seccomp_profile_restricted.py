"""Check `seccompProfile_restricted` (restricted), from v1.19; from v1.25 Windows pods are exempt.

Every set profile (pod or container) must have type RuntimeDefault or Localhost, and every
container must be covered: its own profile, or an allowed pod-level one. Overrides
seccompProfile_baseline.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_seccompProfile_restricted.go
"""

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.checks import seccomp_profile_baseline as baseline
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_phrase,
    forbidden,
    is_windows,
    name,
    security_context,
)


def check_1_19(pod: Pod) -> CheckResult:
    setters, values = baseline.explicit_setters(pod)
    if setters:
        return baseline.explicit_result(setters, values)
    pod_profile_set = security_context(pod.spec).get("seccompProfile") is not None  # and allowed: no setters
    uncovered = [name(c) for c in containers(pod.spec) if security_context(c).get("seccompProfile") is None]
    if uncovered and not pod_profile_set:
        return forbidden(
            "seccompProfile",
            f"pod or {containers_phrase(uncovered)} must set securityContext.seccompProfile.type to "
            '"RuntimeDefault" or "Localhost"',
        )
    return ALLOWED


def check_1_25(pod: Pod) -> CheckResult:
    return ALLOWED if is_windows(pod.spec) else check_1_19(pod)


CHECK = Check(
    id="seccompProfile_restricted",
    level="restricted",
    versions=(
        VersionedCheck(v(19), check_1_19, overrides=(baseline.ID,)),
        VersionedCheck(v(25), check_1_25, overrides=(baseline.ID,)),
    ),
    upstream=f"{UPSTREAM}/check_seccompProfile_restricted.go",
)
