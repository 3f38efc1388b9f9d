"""A policy check as upstream declares it: ID, level, and revisions by minimum policy version.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/checks.go
"""

from dataclasses import dataclass

from verification.models.podsecurity.api import Version
from verification.models.podsecurity.result import ALLOWED, CheckPod, is_windows

UPSTREAM = "https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy"


@dataclass(frozen=True)
class VersionedCheck:
    """One revision: applies from `minimum` until the next revision's minimum. `overrides` names
    the baseline checks a restricted revision replaces (they are skipped at restricted)."""

    minimum: Version
    check_pod: CheckPod
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    id: str
    level: str  # "baseline" or "restricted"
    versions: tuple[VersionedCheck, ...]

    @property
    def upstream(self) -> str:
        """The check_*.go file: upstream names each after its check's ID."""
        return f"{UPSTREAM}/check_{self.id}.go"

    def at(self, version: Version) -> VersionedCheck | None:
        """The revision in force at `version`, or None when the check is newer than it."""
        current = None
        for revision in self.versions:
            if revision.minimum <= version:
                current = revision
        return current


def v(minor: int) -> Version:
    return Version(1, minor)


def windows_exempt(check_pod: CheckPod) -> CheckPod:
    """The v1.25 revision of a restricted check: Windows pods exempt, every other pod as before."""
    return lambda pod: ALLOWED if is_windows(pod.spec) else check_pod(pod)
