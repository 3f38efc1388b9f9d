"""Check `seccompProfile_baseline` (baseline): v1.0-v1.18 the alpha annotations, from v1.19 the fields.

v1.0: seccomp.security.alpha.kubernetes.io/pod and container.seccomp.security.alpha.kubernetes.io/<name>
must be runtime/default, docker/default or localhost/*. v1.19+: a set pod or container seccompProfile
must have type RuntimeDefault or Localhost (Unconfined, or a set profile with an empty type, fails);
unset passes. Overridden at restricted by seccompProfile_restricted.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_seccompProfile_baseline.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    forbidden,
    join_quote,
    name,
    pluralize,
    profile_setters,
)

ID = "seccompProfile_baseline"
VALID_TYPES = frozenset({"RuntimeDefault", "Localhost"})
POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


def _valid_annotation(value: str) -> bool:
    return value in ("runtime/default", "docker/default") or value.startswith("localhost/")


def check_1_0(pod: Pod) -> CheckResult:
    keys = [POD_ANNOTATION] + [CONTAINER_ANNOTATION_PREFIX + name(c) for c in containers(pod.spec)]
    values = {key: pod.annotations[key] for key in keys if key in pod.annotations}
    bad = {f'{key}="{value}"' for key, value in values.items() if not _valid_annotation(str(value))}
    if bad:
        return forbidden(
            "seccompProfile",
            f"forbidden {pluralize('annotation', 'annotations', len(bad))} {', '.join(sorted(bad))}",
        )
    return ALLOWED


def check_1_19(pod: Pod) -> CheckResult:
    """Forbidden when the pod or a container sets a type other than RuntimeDefault or Localhost."""
    who, types = profile_setters(pod.spec, "seccompProfile", VALID_TYPES)
    if not who:
        return ALLOWED
    return forbidden(
        "seccompProfile",
        f"{' and '.join(who)} must not set securityContext.seccompProfile.type to {join_quote(sorted(types))}",
    )


CHECK = Check(ID, "baseline", (VersionedCheck(v(0), check_1_0), VersionedCheck(v(19), check_1_19)))
