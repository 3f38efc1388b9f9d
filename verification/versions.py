"""Typed access to platform/versions.yaml: the single place versions are pinned."""

from functools import cache
from typing import Any

from verification.errors import UserError
from verification.paths import VERSIONS_FILE
from verification.yamlio import load_file


@cache
def versions() -> dict[str, Any]:
    data = load_file(VERSIONS_FILE)
    if not isinstance(data, dict):
        raise UserError(f"{VERSIONS_FILE}: expected a mapping at the top level")
    return data


def tool(name: str) -> dict[str, Any]:
    tools = versions().get("tools", {})
    if name not in tools:
        raise UserError(f"{VERSIONS_FILE}: no pin for tool {name!r} (known: {', '.join(sorted(tools))})")
    pin: dict[str, Any] = tools[name]  # versions.yaml: a mapping per tool (version, sha256, ...)
    return pin


def image(name: str) -> str:
    images = versions().get("images", {})
    if name not in images:
        raise UserError(f"{VERSIONS_FILE}: no image reference for {name!r} (known: {', '.join(sorted(images))})")
    reference: str = images[name]
    return reference


def prometheus_module_version(release: str) -> str:
    """Prometheus' Go module tag for a release: 2.42.0 is v0.42.0, 3.16.0 is v0.316.0 (v0.<100*major+minor>)."""
    major, minor, patch = (int(part) for part in release.lstrip("v").split("."))
    return f"v0.{minor}.{patch}" if major == 2 else f"v0.{100 * major + minor}.{patch}"
