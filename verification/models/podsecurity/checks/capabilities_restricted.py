"""Check `capabilities_restricted` (restricted), from v1.22; from v1.25 Windows pods are exempt.

Every container must drop "ALL" (exact spelling) and may add only NET_BIND_SERVICE; a container
without securityContext.capabilities fails the drop rule. Overrides capabilities_baseline.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_capabilities_restricted.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v, windows_exempt
from verification.models.podsecurity.checks import capabilities_baseline
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    added_capabilities,
    containers_phrase,
    containers_where,
    containers_with,
    forbidden,
    join_quote,
)

ADDABLE = frozenset({"NET_BIND_SERVICE"})


def check_1_22(pod: Pod) -> CheckResult:
    missing_drop = containers_where(
        pod.spec, lambda sc: "ALL" not in ((sc.get("capabilities") or {}).get("drop") or [])
    )
    adding, added = containers_with(pod.spec, lambda c: added_capabilities(c, ADDABLE))
    details = []
    if missing_drop:
        details.append(f'{containers_phrase(missing_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(
            f"{containers_phrase(adding)} must not include {join_quote(sorted(added))} in "
            "securityContext.capabilities.add"
        )
    return forbidden("unrestricted capabilities", "; ".join(details)) if details else ALLOWED


OVERRIDES = (capabilities_baseline.ID,)
CHECK = Check(
    "capabilities_restricted",
    "restricted",
    (VersionedCheck(v(22), check_1_22, OVERRIDES), VersionedCheck(v(25), windows_exempt(check_1_22), OVERRIDES)),
)
