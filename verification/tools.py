"""Pinned external binaries: resolve, never download silently.

Order: the binary on PATH if its version matches the pin; else the cached copy under
the user cache (`~/.cache/platform-verify/tools/<name>-<version>/`); else, only when
asked (`platform-verify tools install`), install it from what the machine reaches
(Go module proxy, Debian packages, npm registry); else stop with one line naming the
missing binary and the command that gets it.
"""

import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verification.cluster.progress import step
from verification.errors import CommandError, UserError
from verification.paths import cache_dir
from verification.run import run
from verification.versions import tool as tool_pin
from verification.versions import versions

if TYPE_CHECKING:
    from verification.cluster import gobuild

# How each tool states its version; the first version-looking token is compared to the pin.
VERSION_ARGS: dict[str, list[str]] = {
    "helm": ["version", "--short"],
    "kind": ["version"],
    "kubectl": ["version", "--client"],
    "promtool": ["--version"],
    "amtool": ["--version"],
    "wrk": ["-v"],
    "gitlab-ci-local": ["--version"],
    "crane": ["version"],
}
_VERSION_RE = re.compile(r"v?(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Tool:
    name: str
    path: Path
    version: str


def _normalise(version: str) -> str:
    return version.lstrip("v")


# (name, path, mtime, size) -> version: every require() asks again, and a conformance run
# requires amtool, helm and promtool dozens of times (~30 ms of a process start each).
_VERSIONS: dict[tuple[str, str, int, int], str | None] = {}


def installed_version(name: str, binary: Path | str) -> str | None:
    """The version the binary reports (asked once per process while the file is unchanged)."""
    try:
        info = Path(binary).stat()
    except OSError:
        info = None
    key = (name, str(binary), info.st_mtime_ns, info.st_size) if info else None
    if key is not None and key in _VERSIONS:
        return _VERSIONS[key]
    try:
        proc = run([binary, *VERSION_ARGS.get(name, ["--version"])], check=False, timeout=30)
    except CommandError:
        return None
    match = _VERSION_RE.search(proc.stdout + proc.stderr)
    version = match.group(1) if match else None
    if key is not None:
        _VERSIONS[key] = version
    return version


def tool_dir(name: str) -> Path:
    return cache_dir() / "tools" / f"{name}-{tool_pin(name)['version']}"


def _candidates(name: str) -> list[Path]:
    """The binary on PATH, then the cached one (those that exist)."""
    on_path, cached = shutil.which(name), tool_dir(name) / name
    return [*([Path(on_path)] if on_path else []), *([cached] if cached.exists() else [])]


def find(name: str) -> Tool | None:
    """The pinned tool if present (PATH or cache), else None."""
    want = _normalise(tool_pin(name)["version"])
    return next((Tool(name, c, want) for c in _candidates(name) if installed_version(name, c) == want), None)


def require(name: str) -> Tool:
    """The pinned tool, or a UserError naming exactly what to run."""
    found = find(name)
    if found:
        return found
    pin = tool_pin(name)
    seen = ", ".join(f"{c} ({installed_version(name, c) or 'unknown version'})" for c in _candidates(name))
    seen = f"; found {seen}" if seen else ""
    raise UserError(
        f"missing tool: {name} {pin['version']}{seen}; install it with "
        f"`platform-verify tools install {name}` ({describe_install(name)})"
    )


def describe_install(name: str) -> str:
    pin = tool_pin(name)
    source = pin["source"]
    if source == "go" and pin["module"] == "k8s.io/kubernetes":
        return f"go build of {pin['package']} from the k8s.io/* staging modules at {pin['version']}"
    if source == "go":
        return f"go build of {pin['package']} from {pin['module']}@{module_version(pin)}"
    if source == "debian":
        return f"apt-get install {pin['debian_package']}"
    if source == "npm":
        return f"npm install {pin['npm_package']}@{pin['version']}"
    raise UserError(f"platform/versions.yaml: tool {name} has unknown source {source!r}")


def install(name: str) -> Tool:
    """Install the pinned tool into the cache (go, npm) or the system (debian)."""
    found = find(name)
    if found:
        return found
    pin = tool_pin(name)
    source = pin["source"]
    target = tool_dir(name)
    if source == "go" and not shutil.which("go"):
        raise UserError(f"cannot install {name}: the Go toolchain is missing (apt-get install golang, or see go.dev)")
    target.mkdir(parents=True, exist_ok=True)
    with step(f"install {name} ({describe_install(name)})"):
        if source == "go" and pin["module"] == "k8s.io/kubernetes":
            # k8s.io/kubernetes carries replace directives, so `go install` refuses it; build the
            # command from its published staging module with the version stamped like a release.
            _build_kubectl(pin["version"], target)
        elif source == "go":
            from verification.cluster import gobuild  # it imports this module (apt_install)

            comp = go_component(name)
            built = gobuild.build(comp) / comp.binaries()[comp.packages.index(_package(pin))]
            shutil.copy2(built, target / name)  # under the tool's name (prometheus-alertmanager is cmd/alertmanager)
        elif source == "debian":
            apt_install(pin["debian_package"])
        elif source == "npm":
            _npm_install(name, pin, target)
    return require(name)


def _package(pin: dict[str, Any]) -> str:
    return str(pin["package"]).removeprefix(pin["module"]).strip("/") or "."


def _recipe(pin: dict[str, Any]) -> tuple[Any, ...]:
    return pin["source"], pin.get("module"), module_version(pin), pin.get("ldflags", ""), pin["version"]


def go_component(name: str) -> "gobuild.Component":
    """The one module build that makes tool `name`: every Go tool pinned with the same module, version
    and ldflags shares it (promtool and prometheus; amtool and prometheus-alertmanager, with the
    server's placeholders), so its key equals the stack image's build of that release
    (verification.cluster.stack_images) and one build serves both."""
    from verification.cluster import gobuild

    pin = tool_pin(name)
    siblings = [tool_pin(other) for other in all_tool_names() if _recipe(tool_pin(other)) == _recipe(pin)]
    placeholders = sorted({path for p in siblings for path in p.get("embed_placeholders", ())})
    extra = {"embed_placeholders": placeholders} if placeholders else {}
    return gobuild.Component(
        gobuild.Component(pin["module"], pin["module"], "", (".",)).binaries()[0],  # the module's last element
        pin["module"],
        module_version(pin),
        tuple(sorted({_package(p) for p in siblings})),
        ldflags=pin.get("ldflags", "").format(version=pin["version"]),
        extra=extra,
    )


def module_version(pin: dict[str, Any]) -> str:
    """What the Go module proxy is asked for: Prometheus tags release 3.16.0 as module v0.316.0."""
    version: str = pin.get("module_version") or pin["version"]
    return version


def _build_kubectl(version: str, target: Path) -> None:
    from verification.cluster.gobuild import go_env

    env = go_env()
    staging = "v0." + version.lstrip("v").split(".", 1)[1]
    src = cache_dir() / "src" / f"kubectl-{version}"
    src.mkdir(parents=True, exist_ok=True)
    (src / "main.go").write_text(
        textwrap.dedent(
            """\
            package main

            import (
            \t"k8s.io/component-base/cli"
            \t"k8s.io/kubectl/pkg/cmd"
            )

            func main() { cli.Run(cmd.NewDefaultKubectlCommand()) }
            """
        )
    )
    (src / "go.mod").write_text(f"module kubectlwrapper\n\ngo 1.24\n\nrequire k8s.io/kubectl {staging}\n")
    run(["go", "get", f"k8s.io/kubectl@{staging}", f"k8s.io/component-base@{staging}"], cwd=src, env=env)
    run(["go", "mod", "tidy"], cwd=src, env=env)
    ldflags = " ".join(
        f"-X {pkg}.{var}={value}"
        for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version")
        for var, value in (
            ("gitVersion", version),
            ("gitMajor", version.lstrip("v").split(".")[0]),
            ("gitMinor", version.split(".")[1]),
            ("gitTreeState", "clean"),
        )
    )
    run(["go", "build", "-ldflags", ldflags, "-o", str(target / "kubectl"), "."], cwd=src, env=env, timeout=3600)


def apt_install(package: str) -> None:
    if os.geteuid() != 0:
        raise UserError(f"cannot install Debian package {package}: not root (run: sudo apt-get install {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", package], env=env, timeout=1800)
    except CommandError:
        run(["apt-get", "update", "-q"], env=env, timeout=900)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", package], env=env, timeout=1800)


def _npm_install(name: str, pin: dict[str, Any], target: Path) -> None:
    if not shutil.which("npm"):
        raise UserError(f"cannot install {name}: npm is missing (apt-get install npm)")
    package = f"{pin['npm_package']}@{pin['version']}"
    run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(target / "pkg"), package], timeout=1800)
    link = target / name
    link.unlink(missing_ok=True)
    link.symlink_to(target / "pkg" / "node_modules" / ".bin" / name)


def all_tool_names() -> list[str]:
    return sorted(versions().get("tools", {}))
