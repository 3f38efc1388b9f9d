"""The table of upstream checks and their evaluation at a level and version.

As upstream's registry: baseline checks apply at baseline and restricted, restricted checks only at
restricted; at each version the revision in force is the newest whose minimum version is not
newer; a restricted revision's overrides drop the baseline checks it replaces; results are ordered
baseline IDs (sorted) then restricted IDs (sorted). Versions newer than every revision ("latest",
v1.33) use the newest revisions.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/registry.go
"""

import importlib
import pkgutil

from verification.models.podsecurity import checks
from verification.models.podsecurity.api import LevelVersion
from verification.models.podsecurity.check import Check, VersionedCheck
from verification.models.podsecurity.result import CheckResult, Pod

# Every module under checks/ declares one CHECK, as every upstream check_*.go registers one.
CHECKS: tuple[Check, ...] = tuple(
    sorted(
        (importlib.import_module(f"{checks.__name__}.{m.name}").CHECK for m in pkgutil.iter_modules(checks.__path__)),
        key=lambda c: c.id,
    )
)
BY_ID = {check.id: check for check in CHECKS}
_ORDER = sorted(c.id for c in CHECKS if c.level == "baseline") + sorted(c.id for c in CHECKS if c.level == "restricted")


def checks_at(policy: LevelVersion) -> list[tuple[Check, VersionedCheck]]:
    """The (check, revision) pairs evaluated at a level and version, in upstream's order."""
    if policy.level == "privileged":
        return []
    levels = ("baseline",) if policy.level == "baseline" else ("baseline", "restricted")
    active = {c.id: (c, r) for c in CHECKS if c.level in levels and (r := c.at(policy.version)) is not None}
    overridden = {o for c, r in active.values() if c.level == "restricted" for o in r.overrides}
    return [active[i] for i in _ORDER if i in active and i not in overridden]


def evaluate(pod: Pod, policy: LevelVersion) -> list[tuple[str, CheckResult]]:
    """(check ID, result) of every check in force; a pod is admitted when every result is allowed."""
    return [(check.id, revision.check_pod(pod)) for check, revision in checks_at(policy)]
