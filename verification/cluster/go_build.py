"""Static Go binaries for the stack images, built on the host (containers cannot reach the Go proxy).

Upstream programs are built from their published Go module at the pinned version through a small
wrapper module: `go get PKG@VERSION` records the upstream module's own requirements, then
`go build PKG`. This also works for modules with local `replace` directives (prometheus-operator),
which `go install PKG@VERSION` refuses. Results are kept per input key in the user cache, and the
Go build cache makes a changed ldflag cheap.
"""

import os
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from verification.cluster.build_log import logged_run
from verification.cluster.progress import step
from verification.errors import UserError
from verification.paths import cache_dir
from verification.run import run


@dataclass(frozen=True)
class GoBinary:
    """One program to build. `module` empty means `source` is a local module (our own programs)."""

    output: str  # file name in the image build context
    package: str  # import path of the main package (for local modules: "." or "./cmd/x")
    module: str = ""  # upstream module path; its version is the image tag
    ldflags: str = ""  # may use {version} (tag as pinned) and {number} (tag without a leading v)
    source: Path | None = None  # local module directory

    def render_ldflags(self, version: str) -> str:
        return self.ldflags.format(version=version, number=version.removeprefix("v"))

    def inputs(self, version: str) -> dict[str, str]:
        return {
            "output": self.output,
            "package": self.package,
            "module": self.module,
            "version": version,
            "ldflags": self.render_ldflags(version),
            "go": go_version(),
        }


def parallelism() -> str:
    # Two cores are shared with the Kubernetes build and other sessions: stay polite by default.
    return os.environ.get("PLATFORM_VERIFY_GO_PARALLEL", "2")


@cache
def go_version() -> str:
    if not shutil.which("go"):
        raise UserError("the Go toolchain is missing: the stack images' programs are built from Go modules")
    return run(["go", "env", "GOVERSION"], timeout=60).stdout.strip()


def _env() -> dict[str, str]:
    return {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-trimpath -buildvcs=false", "GOTOOLCHAIN": "local"}


def wrapper_dir(name: str, binary: GoBinary, version: str) -> Path:
    return cache_dir() / "stack-images" / "go" / f"{name}-{binary.module.replace('/', '_')}-{version}"


def build(name: str, binary: GoBinary, version: str, out: Path, log: Path) -> None:
    """Build `binary` at `version` into the file `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    ldflags = binary.render_ldflags(version)
    build_args = ["go", "build", "-p", parallelism(), "-ldflags", ldflags, "-o", str(out)]
    if not binary.module:
        assert binary.source is not None
        with step(f"go build {binary.output} (local module {binary.source.name})"):
            logged_run([*build_args, binary.package], log, env=_env(), cwd=binary.source)
        return
    src = wrapper_dir(name, binary, version)
    src.mkdir(parents=True, exist_ok=True)
    marker = src / ".resolved"
    if not marker.exists():
        with step(f"go get {binary.package}@{version}"):
            (src / "go.mod").write_text(f"module stackbuild/{name}\n\ngo 1.24\n")
            (src / "go.sum").unlink(missing_ok=True)
            logged_run(["go", "get", f"{binary.package}@{version}"], log, env=_env(), cwd=src)
            marker.write_text(version)
    with step(f"go build {binary.package}@{version} (-p {parallelism()})"):
        logged_run([*build_args, binary.package], log, env=_env(), cwd=src)
