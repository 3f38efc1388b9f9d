"""Check `seccompProfile_baseline` (baseline): v1.0-v1.18 the alpha annotations, from v1.19 the fields.

v1.0: seccomp.security.alpha.kubernetes.io/pod and container.seccomp.security.alpha.kubernetes.io/<name>
must be runtime/default, docker/default or localhost/*. v1.19+: a set pod or container seccompProfile
must have type RuntimeDefault or Localhost (Unconfined, or a set profile with an empty type, fails);
unset passes. Overridden at restricted by seccompProfile_restricted.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_seccompProfile_baseline.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_where,
    forbidden,
    join_quote,
    name,
    pluralize,
    security_context,
    setters,
)

ID = "seccompProfile_baseline"
VALID_TYPES = frozenset({"RuntimeDefault", "Localhost"})
POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


def bad_type(sc: Mapping[str, Any]) -> str | None:
    """The type of a set profile that is not allowed; None when unset or allowed."""
    profile = sc.get("seccompProfile")
    if profile is None:
        return None
    kind = str(profile.get("type") or "")
    return None if kind in VALID_TYPES else kind


def _valid_annotation(value: str) -> bool:
    return value in ("runtime/default", "docker/default") or value.startswith("localhost/")


def check_1_0(pod: Pod) -> CheckResult:
    bad = set()
    keys = [POD_ANNOTATION] + [CONTAINER_ANNOTATION_PREFIX + name(c) for c in containers(pod.spec)]
    for key in keys:
        if key in pod.annotations and not _valid_annotation(str(pod.annotations[key])):
            bad.add(f'{key}="{pod.annotations[key]}"')
    if bad:
        return forbidden(
            "seccompProfile",
            f"forbidden {pluralize('annotation', 'annotations', len(bad))} {', '.join(sorted(bad))}",
        )
    return ALLOWED


def explicit_setters(pod: Pod) -> tuple[list[str], set[str]]:
    """Who explicitly sets a bad type ("pod", 'container "x"'), and the bad types."""
    values: set[str] = set()

    def bad(sc: Mapping[str, Any]) -> bool:
        kind = bad_type(sc)
        if kind is not None:
            values.add(kind)
        return kind is not None

    return setters(bad(security_context(pod.spec)), containers_where(pod.spec, bad)), values


def explicit_result(setters: list[str], values: set[str]) -> CheckResult:
    return forbidden(
        "seccompProfile",
        f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to {join_quote(sorted(values))}",
    )


def check_1_19(pod: Pod) -> CheckResult:
    setters, values = explicit_setters(pod)
    return explicit_result(setters, values) if setters else ALLOWED


CHECK = Check(
    id=ID,
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0), VersionedCheck(v(19), check_1_19)),
    upstream=f"{UPSTREAM}/check_seccompProfile_baseline.go",
)
