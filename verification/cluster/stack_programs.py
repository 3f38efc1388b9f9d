"""Go programs the stack images carry, built on the host (containers reach no Go module proxy).

Upstream programs go through the one pinned-module builder, `verification.cluster.gobuild`
(the same one that builds the cluster components: cached by inputs, wrapper module where the
upstream go.mod has relative `replace` directives, as prometheus-operator does). Our own
programs (platform/images/<name>/) are local modules built in place, cached by their sources.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification.cluster import gobuild, image_cache
from verification.paths import cache_dir


@dataclass(frozen=True)
class GoPrograms:
    """Main packages of one module: upstream at the image tag's version, or a local directory."""

    name: str  # build name (cache folder, progress lines)
    packages: tuple[str, ...] = (".",)  # relative to the module
    module: str = ""  # upstream module path; empty for a local module
    ldflags: str = ""  # gobuild's placeholders: {version} (as pinned), {version_plain} (no "v")
    local: Path | None = None  # local module directory
    # The module's version for an image tag when they differ (Prometheus v3.16.0 is module v0.316.0).
    module_version: Callable[[str], str] | None = None
    # Embedded files the module zip lacks, built with a placeholder (gobuild.source_with_placeholders).
    embed_placeholders: tuple[str, ...] = ()

    def component(self, version: str) -> gobuild.Component:
        """The build at `version` (the image tag); ldflags are stamped with the tag, not the module version."""
        extra = {"embed_placeholders": list(self.embed_placeholders)} if self.embed_placeholders else {}
        if self.module_version is None:
            return gobuild.Component(self.name, self.module, version, self.packages, ldflags=self.ldflags, extra=extra)
        tagged = gobuild.Component(self.name, self.module, version, self.packages).expand(self.ldflags)
        module_version = self.module_version(version)
        return gobuild.Component(self.name, self.module, module_version, self.packages, ldflags=tagged, extra=extra)

    def inputs(self, version: str) -> dict[str, Any]:
        found: dict[str, Any] = {
            "module": self.module,
            "version": version,
            "module_version": self.component(version).version,
            "packages": list(self.packages),
            "ldflags": self.component(version).expand(self.ldflags),
            "go": gobuild.go_version(),
        }
        if self.embed_placeholders:
            found["embed_placeholders"] = [*self.embed_placeholders, gobuild.PLACEHOLDER_TEXT]
        if self.local is not None:
            found["files"] = image_cache.file_digests(self.local)
        return found


def build(programs: GoPrograms, version: str) -> Path:
    """The directory holding the built programs (named after their packages, as `go build` does)."""
    if programs.local is None:
        return gobuild.build(programs.component(version))
    key = image_cache.cache_key(programs.inputs(version))
    out = cache_dir() / "stack-images" / "bin" / f"{programs.name}-{key[:16]}"
    ldflags = programs.component(version).expand(programs.ldflags)
    what = f"go build {programs.name} {version} (local module)"
    return gobuild.build_static(programs.local, out / programs.name, ldflags=ldflags, what=what).parent
