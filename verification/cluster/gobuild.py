"""Pinned Go module builds: every cluster binary from its module source, cached by its inputs.

A component (platform/versions.yaml `cluster_components`) names a module, a version and main
packages. Modules whose go.mod only points at other modules build in place from the module cache,
with their own go.sum (or vendor/): exactly upstream's dependency set. Modules whose `//go:embed`
names generated files the module zip leaves out (Alertmanager >= v0.32: ui/app/dist, built with
npm) build in a writable copy with a placeholder at each such path (`embed_placeholders`). Modules whose go.mod
replaces siblings by relative path (k8s.io/kubernetes -> ./staging, etcd -> ../api) cannot build
in place, so a small wrapper module requires them and maps each such sibling to its published
version (k8s.io/* staging modules at v0.<minor>.<patch>).

Outputs live in `<cache>/gobuild/<name>-<version>-<key>/` where the key hashes every input
(module, version, packages, tags, ldflags, cgo, Go version, this recipe), so nothing current
is rebuilt. The Go build cache makes a changed ldflag a relink, not a rebuild.
"""

import hashlib
import json
import os
import re
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verification.cluster.progress import say, step
from verification.errors import UserError
from verification.paths import REPO_ROOT, cache_dir
from verification.run import run
from verification.tools import apt_install
from verification.versions import versions

RECIPE_REVISION = "1"
# Shared machine: at most two compile jobs at a time per build, JOBS builds at a time (build_all).
PARALLEL = "2"
JOBS = int(os.environ.get("PLATFORM_VERIFY_GO_JOBS", "1"))
_RELATIVE_REPLACE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+\S+)?\s+=>\s+(\.\.?/\S*)\s*$", re.M)


@dataclass(frozen=True)
class Component:
    name: str
    module: str
    version: str
    packages: tuple[str, ...]
    tags: str = ""
    ldflags: str = ""
    cgo: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def version_plain(self) -> str:
        return self.version.lstrip("v")

    def expand(self, text: str) -> str:
        return text.replace("{version_plain}", self.version_plain).replace("{version}", self.version)

    def binaries(self) -> list[str]:
        """Output names: `go build` names a binary after its package path, minus a /vN suffix."""
        names = []
        for package in self.packages:
            parts = [*self.module.split("/"), *([] if package == "." else package.split("/"))]
            if re.fullmatch(r"v\d+", parts[-1]):
                parts.pop()
            names.append(self.extra.get("rename", {}).get(parts[-1], parts[-1]))
        return names


def kubernetes_version() -> str:
    """The version the cluster is built at: its own pin if set (see versions.yaml), else the platform's."""
    pin = versions().get("cluster_components", {}).get("kubernetes", {})
    return str(pin.get("version") or versions()["kubernetes"]["version"])


def staging_version(kube_version: str) -> str:
    """k8s.io/* staging modules are tagged v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>."""
    return "v0." + kube_version.lstrip("v").split(".", 1)[1]


def kubernetes_ldflags(kube_version: str) -> str:
    """Version stamping as the release build does it; kubeadm and kubelet read these."""
    major, minor = kube_version.lstrip("v").split(".")[:2]
    values = {
        "gitVersion": kube_version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    return " ".join(
        f"-X {pkg}.{var}={value}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for var, value in values.items()
    )


def components() -> dict[str, Component]:
    """Every Go-built cluster component, from platform/versions.yaml."""
    pins = versions().get("cluster_components", {})
    found: dict[str, Component] = {}
    for name, pin in pins.items():
        if "module" not in pin:
            continue
        version = kubernetes_version() if name == "kubernetes" else pin["version"]
        found[name] = Component(
            name=name,
            module=pin["module"],
            version=version,
            packages=tuple(pin["packages"]),
            tags=pin.get("tags", ""),
            ldflags=kubernetes_ldflags(version) if name == "kubernetes" else pin.get("ldflags", ""),
            cgo=bool(pin.get("cgo", False)),
            extra=pin,
        )
    return found


def package_path(comp: Component, package: str) -> str:
    return comp.module if package == "." else f"{comp.module}/{package}"


def go_version() -> str:
    return run(["go", "env", "GOVERSION"], timeout=60).stdout.strip()


def cache_key(comp: Component, go: str) -> str:
    overrides = sorted(comp.extra.get("staging_overrides", {}).items())
    placeholders = sorted(comp.extra.get("embed_placeholders", []))
    material = json.dumps(
        [RECIPE_REVISION, comp.module, comp.version, comp.packages, comp.tags, comp.expand(comp.ldflags), comp.cgo, go]
        + ([overrides] if overrides else [])
        + ([placeholders, PLACEHOLDER_TEXT] if placeholders else [])
    )
    return hashlib.sha256(material.encode()).hexdigest()[:12]


# What a placeholder says when served (Alertmanager's UI paths): the API and probes are whole.
PLACEHOLDER_TEXT = (
    "<!doctype html><title>web UI not bundled</title><p>This build (platform-verify, from the Go module) "
    "does not bundle the web UI: its compiled assets are not part of the module. The API is whole.</p>\n"
)


def source_with_placeholders(comp: Component, src: Path) -> Path:
    """A writable copy of the module source with a placeholder at every embedded path the zip lacks."""
    placeholders = comp.extra.get("embed_placeholders", [])
    if not placeholders:
        return src
    work = cache_dir() / "gobuild" / "src" / f"{comp.name}-{comp.version}-{cache_key(comp, '')[:8]}"
    if not (work / ".complete").exists():
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work, copy_function=shutil.copyfile)  # module cache files are read-only
        for path in [work, *work.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        for relative in placeholders:
            target = work / relative
            if target.exists():
                raise UserError(f"{comp.module}@{comp.version}: {relative} exists; drop it from embed_placeholders")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(PLACEHOLDER_TEXT)
        (work / ".complete").write_text(comp.version)
    return work


def relative_replaces(go_mod: str) -> list[str]:
    """Module paths that go.mod replaces with a relative directory (not in the module zip)."""
    found = []
    in_block = False
    for line in go_mod.splitlines():
        stripped = line.split("//", 1)[0].strip()
        if stripped.startswith("replace (") or (in_block and stripped == ")"):
            in_block = stripped != ")"
        elif (in_block or stripped.startswith("replace ")) and (match := _RELATIVE_REPLACE.match(stripped)):
            found.append(match.group(1))
    return found


def wrapper_go_mod(
    comp: Component, replaced: list[str], sibling_version: str, overrides: dict[str, str] | None = None
) -> str:
    """go.mod of the wrapper module; `overrides` pins single siblings the proxy lacks at sibling_version."""
    overrides = overrides or {}
    lines = ["module platformverify.local/build", "", "go 1.24", "", f"require {comp.module} {comp.version}", ""]
    if replaced:
        lines.append("replace (")
        lines += [f"\t{mod} => {mod} {overrides.get(mod, sibling_version)}" for mod in replaced]
        lines.append(")")
    return "\n".join(lines) + "\n"


def go_env(cgo: bool = False) -> dict[str, str]:
    """The environment of every `go` command of the suite: the local toolchain, reproducible flags."""
    return {
        **os.environ,
        "CGO_ENABLED": "1" if cgo else "0",
        "GOTOOLCHAIN": "local",
        "GOFLAGS": "-buildvcs=false -trimpath",
        # A module zip may carry its repository's go.work (Prometheus v0.316.0 does) naming
        # directories the zip leaves out; the module builds on its own go.mod and go.sum.
        "GOWORK": "off",
    }


def module_dir(comp: Component) -> Path:
    out = run(["go", "mod", "download", "-json", f"{comp.module}@{comp.version}"], env=go_env(comp.cgo), timeout=1800)
    info = json.loads(out.stdout)
    if info.get("Error"):
        raise UserError(f"Go module {comp.module}@{comp.version} is not available: {info['Error']}")
    return Path(info["Dir"])


def output_dir(comp: Component, go: str | None = None) -> Path:
    return cache_dir() / "gobuild" / f"{comp.name}-{comp.version}-{cache_key(comp, go or go_version())}"


def build(comp: Component, rebuild: bool = False) -> Path:
    """Directory holding the component's binaries; built once per cache key."""
    go = go_version()
    out = output_dir(comp, go)
    if (out / "build.json").exists() and not rebuild:
        return out
    out.mkdir(parents=True, exist_ok=True)
    _ensure_build_deps(comp)
    with step(f"go build {comp.module}@{comp.version} ({', '.join(comp.binaries())})"):
        started = time.monotonic()
        src = module_dir(comp)
        replaced = relative_replaces((src / "go.mod").read_text())
        cmd = ["go", "build", "-p", PARALLEL, "-o", str(out) + "/"]
        if comp.tags:
            cmd += ["-tags", comp.tags]
        ldflags = comp.expand(comp.ldflags)
        cmd += ["-ldflags", f"-s -w {ldflags}".strip()]
        if replaced:
            work = cache_dir() / "gobuild" / "src" / f"{comp.name}-{comp.version}"
            work.mkdir(parents=True, exist_ok=True)
            # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them; elsewhere
            # (etcd) the require lines already name the published sibling versions.
            staging = replaced if comp.module == "k8s.io/kubernetes" else []
            overrides = comp.extra.get("staging_overrides", {})
            (work / "go.mod").write_text(wrapper_go_mod(comp, staging, staging_version(comp.version), overrides))
            # Blank imports of the main packages let `go mod tidy` record every dependency.
            imports = "\n".join(f'\t_ "{package_path(comp, p)}"' for p in comp.packages)
            (work / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n")
            run(["go", "mod", "tidy"], cwd=work, env=go_env(comp.cgo), timeout=1800)
            cmd += ["-mod=mod", *(package_path(comp, p) for p in comp.packages)]
            cwd = work
        else:
            # Module zips carry vendor/modules.txt but not the vendored code: use go.sum instead.
            cmd += ["-mod=readonly", *(f"./{p}" if p != "." else "." for p in comp.packages)]
            cwd = source_with_placeholders(comp, src)
        # This build's peak RSS (largest compile/link) by GNU time, in a file beside `out` (copied whole).
        rss = Path(f"{out}.rss")
        timer = [gnu_time, "-f", "%M", "-o", str(rss)] if (gnu_time := shutil.which("time")) else []
        run([*timer, *cmd], cwd=cwd, env=go_env(comp.cgo), timeout=4 * 3600)
        for built_name, wanted in comp.extra.get("rename", {}).items():
            (out / built_name).replace(out / wanted)
        seconds = time.monotonic() - started
    peak = round(int(rss.read_text().split()[-1]) / 1024) if timer else None
    rss.unlink(missing_ok=True)
    record = {
        "module": comp.module,
        "version": comp.version,
        "binaries": comp.binaries(),
        "seconds": round(seconds, 1),
        "peak_rss_mib": peak,
        "go": go,
    }
    (out / "build.json").write_text(json.dumps(record, indent=2) + "\n")
    say(f"    {comp.name}: {record['seconds']}s, peak RSS {peak} MiB")
    return out


def _ensure_build_deps(comp: Component) -> None:
    """Debian packages a cgo build links against (runc: libseccomp), installed when missing."""
    missing = [
        pkg
        for pkg in comp.extra.get("debian_build_deps", [])
        if run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False, timeout=60).stdout != "install ok installed"
    ]
    if missing:
        with step(f"install build dependencies of {comp.name}: {' '.join(missing)}"):
            for pkg in missing:
                apt_install(pkg)


def build_static(src: Path, binary: Path, *, ldflags: str = "", rebuild: bool = False, what: str = "") -> Path:
    """`binary`, a static build of the local main package in `src`, unless it exists already (the
    callers' paths name a key of its inputs)."""
    if rebuild or not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        with step(what or f"go build {binary.name}"):
            cmd = ["go", "build", "-ldflags", f"-s -w {ldflags}".strip(), "-o", str(binary), "."]
            run(cmd, cwd=src, env=go_env(), timeout=600)
    return binary


def build_pause(rebuild: bool = False) -> Path:
    """The pod sandbox program (platform/kind/pause), static."""
    src = REPO_ROOT / "platform" / "kind" / "pause"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(src.glob("*"))) + go_version().encode())
    out = cache_dir() / "gobuild" / f"pause-{digest.hexdigest()[:12]}"
    return build_static(src, out / "pause", rebuild=rebuild).parent


def build_all(rebuild: bool = False, only: list[str] | None = None) -> dict[str, Path]:
    """Every component (or those named), JOBS at a time: the longest (Kubernetes) first, the rest beside it."""
    comps = components()
    order = ["kubernetes", "containerd", "runc", "crictl", "cni-plugins", "etcd", "coredns"]  # then the CNI
    names = [n for n in order if n in comps] + [n for n in comps if n not in order]
    if only:
        unknown = set(only) - set(comps) - {"pause"}
        if unknown:
            raise UserError(f"unknown cluster components: {', '.join(sorted(unknown))} (known: {', '.join(names)})")
        names = [n for n in names if n in only]
    with ThreadPoolExecutor(JOBS) as pool:
        built = dict(zip(names, pool.map(lambda name: build(comps[name], rebuild), names), strict=True))
    if not only or "pause" in only:
        built["pause"] = build_pause(rebuild)
    return built
