"""Check `capabilities_restricted` (restricted), from v1.22; from v1.25 Windows pods are exempt.

Every container must drop "ALL" (exact spelling) and may add only NET_BIND_SERVICE; a container
without securityContext.capabilities fails the drop rule. Overrides capabilities_baseline.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_capabilities_restricted.go
"""

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.checks import capabilities_baseline
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_phrase,
    forbidden,
    is_windows,
    join_quote,
    name,
    security_context,
)


def check_1_22(pod: Pod) -> CheckResult:
    missing_drop, adding, added = [], [], set()
    for c in containers(pod.spec):
        caps = security_context(c).get("capabilities")
        if caps is None:
            missing_drop.append(name(c))
            continue
        if "ALL" not in (caps.get("drop") or []):
            missing_drop.append(name(c))
        extra = [cap for cap in caps.get("add") or [] if cap != "NET_BIND_SERVICE"]
        if extra:
            adding.append(name(c))
            added.update(extra)
    details = []
    if missing_drop:
        details.append(f'{containers_phrase(missing_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(
            f"{containers_phrase(adding)} must not include {join_quote(sorted(added))} in "
            "securityContext.capabilities.add"
        )
    return forbidden("unrestricted capabilities", "; ".join(details)) if details else ALLOWED


def check_1_25(pod: Pod) -> CheckResult:
    return ALLOWED if is_windows(pod.spec) else check_1_22(pod)


CHECK = Check(
    id="capabilities_restricted",
    level="restricted",
    versions=(
        VersionedCheck(v(22), check_1_22, overrides=(capabilities_baseline.ID,)),
        VersionedCheck(v(25), check_1_25, overrides=(capabilities_baseline.ID,)),
    ),
    upstream=f"{UPSTREAM}/check_capabilities_restricted.go",
)
