"""A check's verdict, the pod it sees, and the helpers every check shares.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/checks.go,
helpers.go and visitor.go.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
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


def pod_or_containers(spec: Spec, bad: Callable[[Mapping[str, Any]], bool]) -> list[str]:
    """Who set a forbidden value, pod securityContext then containers': "pod", 'containers "a", "b"'."""
    pod_bad, bad_containers = bad(security_context(spec)), containers_where(spec, bad)
    return (["pod"] if pod_bad else []) + ([containers_phrase(bad_containers)] if bad_containers else [])


def containers_with(spec: Spec, values: Callable[[Mapping[str, Any]], Iterable[str]]) -> tuple[list[str], set[str]]:
    """The containers in which `values` finds anything (names, in visiting order), and all it found."""
    names: list[str] = []
    found: set[str] = set()
    for c in containers(spec):
        if extra := list(values(c)):
            names.append(name(c))
            found.update(extra)
    return names, found


def added_capabilities(container: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    """The capabilities a container's securityContext.capabilities.add holds outside `allowed`."""
    return [
        cap for cap in (security_context(container).get("capabilities") or {}).get("add") or [] if cap not in allowed
    ]


def profile_setters(spec: Spec, field: str, allowed: frozenset[str]) -> tuple[list[str], set[str]]:
    """Who sets the profile `field` (seccompProfile, appArmorProfile) with a type outside `allowed`,
    and those types: a set profile with an empty type is forbidden, an unset one is not."""
    types: set[str] = set()

    def bad(sc: Mapping[str, Any]) -> bool:
        profile = sc.get(field)
        kind = None if profile is None else str(profile.get("type") or "")
        if kind is not None and kind not in allowed:
            types.add(kind)
            return True
        return False

    return pod_or_containers(spec, bad), types


def is_windows(spec: Spec) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def is_zero(value: Any) -> bool:
    """An integer field explicitly set to 0 (bools are not integers in the Kubernetes API)."""
    return isinstance(value, int) and not isinstance(value, bool) and value == 0
