"""Check `appArmorProfile` (baseline), from v1.0.

Pod and container securityContext.appArmorProfile.type, when the profile is set, must be
RuntimeDefault or Localhost (a set profile with an empty type fails); the deprecated annotations
container.apparmor.security.beta.kubernetes.io/* must be empty, runtime/default or localhost/*.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_appArmorProfile.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    forbidden,
    join_quote,
    pluralize,
    profile_setters,
)

ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def _allowed_annotation(value: str) -> bool:
    return value == "" or value == "runtime/default" or value.startswith("localhost/")


def check_1_0(pod: Pod) -> CheckResult:
    who, values = profile_setters(pod.spec, "appArmorProfile", ALLOWED_TYPES)
    annotations = sorted(
        f'{key}="{value}"'
        for key, value in pod.annotations.items()
        if key.startswith(ANNOTATION_PREFIX) and not _allowed_annotation(str(value))
    )
    value_list = sorted(values) + annotations
    if annotations:
        who.append(pluralize("annotation", "annotations", len(annotations)))
    if who:
        return forbidden(
            pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(value_list)),
            f"{' and '.join(who)} must not set AppArmor profile type to {join_quote(value_list)}",
        )
    return ALLOWED


CHECK = Check("appArmorProfile", "baseline", (VersionedCheck(v(0), check_1_0),))
