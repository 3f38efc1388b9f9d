"""A check's verdict, the pod it sees, and the helpers every check shares.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/checks.go,
helpers.go and visitor.go.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Spec = Mapping[str, Any]


@dataclass(frozen=True)
class Pod:
    """What a check sees: the pod's metadata and spec (JSON-shaped), and whether the API server
    relaxes runAsNonRoot / runAsUser / procMount for user-namespace pods (the feature gate
    UserNamespacesPodSecurityStandards: alpha, off by default in v1.33)."""

    spec: Spec
    metadata: Mapping[str, Any] = field(default_factory=dict)
    relax_user_namespaces: bool = False

    @property
    def annotations(self) -> Mapping[str, str]:
        return self.metadata.get("annotations") or {}

    @property
    def user_namespace_relaxed(self) -> bool:
        return self.relax_user_namespaces and self.spec.get("hostUsers") is False


@dataclass(frozen=True)
class CheckResult:
    """A forbidden verdict (`allowed` False) carries upstream's reason and detail text."""

    allowed: bool
    reason: str = ""
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


ALLOWED = CheckResult(True)
CheckPod = Callable[[Pod], CheckResult]


def forbidden(reason: str, detail: str = "") -> CheckResult:
    return CheckResult(False, reason, detail)


def containers(spec: Spec) -> Iterator[Mapping[str, Any]]:
    """initContainers, containers, ephemeralContainers: upstream's visiting order."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def security_context(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """A pod's or container's securityContext; absent and null are the same (a nil pointer)."""
    return obj.get("securityContext") or {}


def name(container: Mapping[str, Any]) -> str:
    return str(container.get("name", ""))


def join_quote(items: list[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def pluralize(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def containers_phrase(names: list[str]) -> str:
    return f"{pluralize('container', 'containers', len(names))} {join_quote(names)}"


def containers_where(spec: Spec, bad: Callable[[Mapping[str, Any]], bool]) -> list[str]:
    """Names of the containers whose securityContext `bad` flags, in upstream's visiting order."""
    return [name(c) for c in containers(spec) if bad(security_context(c))]


def setters(pod_bad: bool, bad_containers: list[str]) -> list[str]:
    """Who set a forbidden value, in upstream's words: "pod", 'containers "a", "b"'."""
    return (["pod"] if pod_bad else []) + ([containers_phrase(bad_containers)] if bad_containers else [])


def is_windows(spec: Spec) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def is_zero(value: Any) -> bool:
    """An integer field explicitly set to 0 (bools are not integers in the Kubernetes API)."""
    return isinstance(value, int) and not isinstance(value, bool) and value == 0
