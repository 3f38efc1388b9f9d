"""Check `appArmorProfile` (baseline), from v1.0.

Pod and container securityContext.appArmorProfile.type, when the profile is set, must be
RuntimeDefault or Localhost (a set profile with an empty type fails); the deprecated annotations
container.apparmor.security.beta.kubernetes.io/* must be empty, runtime/default or localhost/*.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_appArmorProfile.go
"""

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_phrase,
    forbidden,
    join_quote,
    name,
    pluralize,
    security_context,
)

ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def _allowed_annotation(value: str) -> bool:
    return value == "" or value == "runtime/default" or value.startswith("localhost/")


def _bad_type(sc: dict) -> str | None:
    profile = sc.get("appArmorProfile")
    if profile is None:
        return None
    kind = str(profile.get("type") or "")
    return None if kind in ALLOWED_TYPES else kind


def check_1_0(pod: Pod) -> CheckResult:
    setters: list[str] = []
    values: set[str] = set()
    if (bad := _bad_type(security_context(pod.spec))) is not None:
        setters.append("pod")
        values.add(bad)
    bad_containers = []
    for c in containers(pod.spec):
        if (bad := _bad_type(security_context(c))) is not None:
            bad_containers.append(name(c))
            values.add(bad)
    if bad_containers:
        setters.append(containers_phrase(bad_containers))
    annotations = sorted(
        f'{key}="{value}"'
        for key, value in pod.annotations.items()
        if key.startswith(ANNOTATION_PREFIX) and not _allowed_annotation(str(value))
    )
    value_list = sorted(values) + annotations
    if annotations:
        setters.append(pluralize("annotation", "annotations", len(annotations)))
    if setters:
        return forbidden(
            pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(value_list)),
            f"{' and '.join(setters)} must not set AppArmor profile type to {join_quote(value_list)}",
        )
    return ALLOWED


CHECK = Check(
    id="appArmorProfile",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_appArmorProfile.go",
)
