"""Check `seLinuxOptions` (baseline), from v1.0; v1.31 adds container_engine_t to the allowed types.

Pod and container seLinuxOptions: type empty or one of the allowed types; user and role empty.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_seLinuxOptions.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckPod,
    CheckResult,
    Pod,
    forbidden,
    join_quote,
    pluralize,
    pod_or_containers,
)

TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
TYPES_1_31 = TYPES_1_0 | {"container_engine_t"}


def _with(allowed_types: frozenset[str]) -> CheckPod:
    def check(pod: Pod) -> CheckResult:
        bad_types: set[str] = set()
        flags = {"user": False, "role": False}

        def invalid(sc: Mapping[str, Any]) -> bool:
            options = sc.get("seLinuxOptions")
            if options is None:
                return False
            kind = str(options.get("type") or "")
            if kind not in allowed_types:
                bad_types.add(kind)
            for key in flags:
                flags[key] |= bool(options.get(key))
            return kind not in allowed_types or any(options.get(key) for key in flags)

        who = pod_or_containers(pod.spec, invalid)
        if not who:
            return ALLOWED
        data = [f"{pluralize('type', 'types', len(bad_types))} {join_quote(sorted(bad_types))}"] if bad_types else []
        data += [f"{key} may not be set" for key in ("user", "role") if flags[key]]
        return forbidden(
            "seLinuxOptions", f"{' and '.join(who)} set forbidden securityContext.seLinuxOptions: {'; '.join(data)}"
        )

    return check


CHECK = Check(
    "seLinuxOptions", "baseline", (VersionedCheck(v(0), _with(TYPES_1_0)), VersionedCheck(v(31), _with(TYPES_1_31)))
)
