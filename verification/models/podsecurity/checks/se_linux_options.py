"""Check `seLinuxOptions` (baseline), from v1.0; v1.31 adds container_engine_t to the allowed types.

Pod and container seLinuxOptions: type empty or one of the allowed types; user and role empty.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_seLinuxOptions.go
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

TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
TYPES_1_31 = TYPES_1_0 | {"container_engine_t"}


def _check(pod: Pod, allowed_types: frozenset[str]) -> CheckResult:
    bad_types: set[str] = set()
    flags = {"user": False, "role": False}

    def valid(options: Mapping[str, Any] | None) -> bool:
        if options is None:
            return True
        ok = True
        kind = str(options.get("type") or "")
        if kind not in allowed_types:
            ok = False
            bad_types.add(kind)
        for key in ("user", "role"):
            if options.get(key):
                ok = False
                flags[key] = True
        return ok

    pod_bad = not valid(security_context(pod.spec).get("seLinuxOptions"))
    who = setters(pod_bad, containers_where(pod.spec, lambda sc: not valid(sc.get("seLinuxOptions"))))
    if not who:
        return ALLOWED
    data = [f"{pluralize('type', 'types', len(bad_types))} {join_quote(sorted(bad_types))}"] if bad_types else []
    data += [f"{key} may not be set" for key in ("user", "role") if flags[key]]
    return forbidden(
        "seLinuxOptions", f"{' and '.join(who)} set forbidden securityContext.seLinuxOptions: {'; '.join(data)}"
    )


def check_1_0(pod: Pod) -> CheckResult:
    return _check(pod, TYPES_1_0)


def check_1_31(pod: Pod) -> CheckResult:
    return _check(pod, TYPES_1_31)


CHECK = Check(
    id="seLinuxOptions",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0), VersionedCheck(v(31), check_1_31)),
    upstream=f"{UPSTREAM}/check_seLinuxOptions.go",
)
