"""Levels, versions and namespace labels, as k8s.io/pod-security-admission/api parses them.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/api/helpers.go
An invalid enforce level fails closed (restricted), an invalid version means latest; a namespace
without an enforce label uses the API server's default (privileged:latest unless configured).
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

LEVELS = ("privileged", "baseline", "restricted")
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
_VERSION = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")


class Version(NamedTuple):
    """A policy version: (1, minor), or LATEST, which is newer than every numbered version."""

    major: int
    minor: int

    def __str__(self) -> str:
        return "latest" if self == LATEST else f"v{self.major}.{self.minor}"


LATEST = Version(1, 1 << 30)


class LevelVersion(NamedTuple):
    level: str
    version: Version

    def __str__(self) -> str:
        return f"{self.level}:{self.version}"


def parse_level(value: str) -> tuple[str, bool]:
    """(level, valid): an unknown level is restricted, as upstream fails closed."""
    return (value, True) if value in LEVELS else ("restricted", False)


def parse_version(value: str | Version | None) -> tuple[Version, bool]:
    """(version, valid): "latest" or "v1.x"; anything else is latest, as upstream."""
    if isinstance(value, Version):
        return value, True
    if value is None or value == "latest":
        return LATEST, True
    match = _VERSION.match(value)
    return (Version(1, int(match.group(1))), True) if match else (LATEST, False)


def enforced(labels: Mapping[str, str] | None, default: LevelVersion | None = None) -> LevelVersion:
    """The enforce level and version a namespace with these labels gets."""
    level, version = default or LevelVersion("privileged", LATEST)
    labels = labels or {}
    if ENFORCE_LABEL in labels:
        level = parse_level(str(labels[ENFORCE_LABEL]))[0]
    if ENFORCE_VERSION_LABEL in labels:
        version = parse_version(str(labels[ENFORCE_VERSION_LABEL]))[0]
    return LevelVersion(level, version)


def namespace_policies(objects: Iterable[dict[str, Any]]) -> dict[str, LevelVersion]:
    """Enforced level and version per Namespace object."""
    return {
        obj["metadata"]["name"]: enforced(obj["metadata"].get("labels"))
        for obj in objects
        if obj.get("kind") == "Namespace"
    }


def namespace_levels(objects: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Enforced Pod Security level per namespace (absent label = privileged, unknown = restricted)."""
    return {name: policy.level for name, policy in namespace_policies(objects).items()}
