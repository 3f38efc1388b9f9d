"""Check `appArmorProfile` (baseline), from v1.0.

Pod and container securityContext.appArmorProfile.type, when the profile is set, must be
RuntimeDefault or Localhost (a set profile with an empty type fails); the deprecated annotations
container.apparmor.security.beta.kubernetes.io/* must be empty, runtime/default or localhost/*.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_appArmorProfile.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_where,
    forbidden,
    join_quote,
    pluralize,
    security_context,
    setters,
)

ALLOWED_TYPES = frozenset({"RuntimeDefault", "Localhost"})
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def _allowed_annotation(value: str) -> bool:
    return value == "" or value == "runtime/default" or value.startswith("localhost/")


def _bad_type(sc: Mapping[str, Any]) -> str | None:
    profile = sc.get("appArmorProfile")
    if profile is None:
        return None
    kind = str(profile.get("type") or "")
    return None if kind in ALLOWED_TYPES else kind


def check_1_0(pod: Pod) -> CheckResult:
    values: set[str] = set()

    def bad(sc: Mapping[str, Any]) -> bool:
        kind = _bad_type(sc)
        if kind is not None:
            values.add(kind)
        return kind is not None

    who = setters(bad(security_context(pod.spec)), containers_where(pod.spec, bad))
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


CHECK = Check(
    id="appArmorProfile",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_appArmorProfile.go",
)
