"""The `build` image source for the monitoring stack, the probes and the apps.

Every image is built here, offline, and tagged with the exact reference the manifests use
(platform/versions.yaml `images:`), so manifests never change between `pull` and `build`.

- runtime-base (local only, `platform-verify/runtime-base:<key>`): scratch + busybox applets,
  tini, users (app = 10001), CA certificates, zoneinfo, copied out of the Debian base image.
- prometheus, alertmanager, prometheus-operator, prometheus-config-reloader, kube-state-metrics: built
  on the host from their Go modules at the image tag's version, copied onto runtime-base. Prometheus
  and Alertmanager are the releases promtool and amtool are (platform/versions.yaml); Prometheus'
  module v0.316.0 is release v3.16.0. Debian's packages are 2.42/0.25 (2023), and Debian builds
  Prometheus without the Kubernetes service discovery the operator's configuration needs.
- netpol-probe, alert-receiver: our own Go programs (platform/images/<name>/).
- every app of verification/catalog.py: its own Dockerfile, build context filled by its prepare script.

Each image's inputs (versions, source and Dockerfile checksums, base images, Go version) give a key
stored as a label; `build_all()` rebuilds only images whose key changed.
"""

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification import catalog
from verification.cluster import gobuild, image_archive, image_cache
from verification.cluster import stack_programs as go_build
from verification.cluster.build_log import logged_run
from verification.cluster.progress import say, step
from verification.cluster.stack_programs import GoPrograms
from verification.errors import UserError
from verification.paths import REPO_ROOT, cache_dir
from verification.run import run
from verification.versions import image as image_ref
from verification.versions import prometheus_module_version, versions
from verification.versions import tool as tool_pin

STACK_IMAGES_DIR = REPO_ROOT / "platform" / "images"
COMMON = STACK_IMAGES_DIR / "common"
RUNTIME_BASE_REPO = "platform-verify/runtime-base"
# Bump when this module changes how images are assembled in a way the inputs below do not show.
RECIPE_REVISION = "1"

_PROM_COMMON = "github.com/prometheus/common/version"
_PROM_LDFLAGS = (
    f"-X {_PROM_COMMON}.Version={{version_plain}} -X {_PROM_COMMON}.Revision={{version}} "
    f"-X {_PROM_COMMON}.Branch=HEAD -X {_PROM_COMMON}.BuildUser=platform-verify"
)
# Both operator images come from one module build at their (shared) tag.
OPERATOR_GO = GoPrograms(
    "prometheus-operator",
    ("cmd/operator", "cmd/prometheus-config-reloader"),
    "github.com/prometheus-operator/prometheus-operator",
    _PROM_LDFLAGS,
)
PROMETHEUS_GO = GoPrograms(
    "prometheus",
    ("cmd/prometheus", "cmd/promtool"),
    "github.com/prometheus/prometheus",
    _PROM_LDFLAGS,
    module_version=prometheus_module_version,
)
ALERTMANAGER_GO = GoPrograms(
    "alertmanager",
    ("cmd/alertmanager", "cmd/amtool"),
    "github.com/prometheus/alertmanager",
    _PROM_LDFLAGS,
    # The same placeholders as the alertmanager tool (the UI's npm-built assets are not in the module).
    embed_placeholders=tuple(tool_pin("prometheus-alertmanager").get("embed_placeholders", ())),
)
KSM_GO = GoPrograms(
    "kube-state-metrics",
    (".",),
    "k8s.io/kube-state-metrics/v2",
    _PROM_LDFLAGS.replace("{version_plain}", "{version}"),  # ksm stamps its tag with the "v"
)


_GENERATED = ("node_modules", "__pycache__", ".venv", "build", "dist", ".pytest_cache")


@dataclass(frozen=True)
class StackImage:
    name: str  # key in platform/versions.yaml `images:`
    context: Path  # directory with the Dockerfile and its sources
    go: GoPrograms | None = None  # Go programs to build on the host ...
    binaries: tuple[str, ...] = ()  # ... and the ones copied into the build context
    common: tuple[str, ...] = ()  # files from platform/images/common copied into the context
    prepare: tuple[str, ...] = ()  # command (relative to context) that fills the context (apps)
    ignore: tuple[str, ...] = _GENERATED
    own: bool = False  # the project's own image: no registry has it, so `pull` builds it too

    @property
    def ref(self) -> str:
        return image_ref(self.name)

    @property
    def version(self) -> str:
        return image_cache.ref_tag(self.ref)


def _upstream(name: str, go: GoPrograms, *binaries: str) -> StackImage:
    """An upstream program's image (platform/images/<name>/), its binaries built from `go`."""
    return StackImage(name, STACK_IMAGES_DIR / name, go, binaries)


def _own(name: str) -> StackImage:
    """Our own Go program's image (platform/images/<name>/: the module and its Dockerfile)."""
    go = GoPrograms(name, ldflags="-X main.version={version}", local=STACK_IMAGES_DIR / name)
    return StackImage(name, STACK_IMAGES_DIR / name, go, (name,), own=True)


STACK: tuple[StackImage, ...] = (
    # Prometheus 3 dropped the example consoles (CHANGELOG 3.0.0): nothing else to copy from the module.
    _upstream("prometheus", PROMETHEUS_GO, "prometheus", "promtool"),
    _upstream("alertmanager", ALERTMANAGER_GO, "alertmanager", "amtool"),
    _upstream("prometheus-operator", OPERATOR_GO, "operator"),
    _upstream("prometheus-config-reloader", OPERATOR_GO, "prometheus-config-reloader"),
    _upstream("kube-state-metrics", KSM_GO, "kube-state-metrics"),
    _own("netpol-probe"),
    _own("alert-receiver"),
)
APP_PREPARE = "prepare-image.sh"
# Not inputs: vendor/ and wheels/ (what the prepare script generates), app.yaml (the suite's).
_APP_IGNORE = (*_GENERATED, "vendor", "wheels", catalog.DESCRIPTOR)
APPS_IMAGES: tuple[StackImage, ...] = tuple(
    StackImage(app.name, app.source, prepare=("sh", APP_PREPARE), ignore=_APP_IGNORE, own=True)
    for app in catalog.current().apps.values()
)
RUNTIME_BASE = StackImage("runtime-base", STACK_IMAGES_DIR / "runtime-base", common=("copy-with-libs.sh",))


def all_images() -> tuple[StackImage, ...]:
    return (*STACK, *APPS_IMAGES)


def refs() -> list[str]:
    """Every reference this module provides (what `pull` would fetch instead)."""
    return [img.ref for img in all_images()]


def unbuilt() -> list[str]:
    """Pinned images this module has no recipe for: `build` cannot provide them (say so, don't hide it)."""
    known = {img.name for img in all_images()}
    return sorted(name for name in versions().get("images", {}) if name not in known)


def source_files(img: StackImage) -> list[Path]:
    """The files that define an image: its directory minus generated folders, plus shared helpers."""
    files = [
        p
        for p in img.context.rglob("*")
        if p.is_file() and not any(part in img.ignore for part in p.relative_to(img.context).parts)
    ]
    return sorted(files) + [COMMON / name for name in img.common]


def inputs(img: StackImage, *, base: str, runtime_base: str | None) -> dict[str, Any]:
    """Everything that determines an image's content; its digest is the image's cache key."""
    files = image_cache.file_digests(REPO_ROOT, source_files(img))
    return {
        "recipe": RECIPE_REVISION,
        "name": img.name,
        "ref": None if img.name == RUNTIME_BASE.name else img.ref,
        "files": files,
        "base": base,
        "runtime_base": runtime_base,
        "go": img.go.inputs(img.version) if img.go else None,
        "binaries": list(img.binaries),
        "module_files": [],  # no image copies Go module sources any more; kept so built images stay current
        # Apps bundle a runtime fetched by their prepare script (Node.js from npm, Debian's Python).
        "runtimes": versions().get("runtimes", {}) if img.prepare else None,
    }


def runtime_base_ref(key: str) -> str:
    return f"{RUNTIME_BASE_REPO}:{key[:12]}"


def build_all(rebuild: bool = False, names: list[str] | None = None) -> list[str]:
    """Build every stack image that is not current (all when `rebuild`); return their references."""
    from verification.cluster import docker
    from verification.cluster.debian_base import ensure_base_image

    chosen = list(all_images()) if names is None else [_by_name(n) for n in names]
    started = time.monotonic()
    with step("Docker engine"):
        docker.ensure_engine()
    with step("Debian base image"):
        base = ensure_base_image()
    runtime = _ensure(RUNTIME_BASE, base=base, runtime_base=None, rebuild=rebuild)
    _forget_old_runtime_bases(keep=runtime)
    groups: dict[object, list[StackImage]] = {}  # the images of one Go build (operator, reloader) in one task
    for img in chosen:
        if img.prepare and not (img.context / "Dockerfile").exists():
            # The apps land separately; the rest of the stack stays buildable meanwhile.
            say(f"!!! {img.name}: no {img.context / 'Dockerfile'} yet: not built")
        else:
            groups.setdefault(img.go or img.name, []).append(img)
    with ThreadPoolExecutor(gobuild.JOBS) as pool:  # Go builds beside docker builds and each other
        done = pool.map(
            lambda imgs: [_ensure(i, base=base, runtime_base=runtime, rebuild=rebuild) for i in imgs], groups.values()
        )
        built = [ref for refs in done for ref in refs]
    # Superseded builds of ours (tag moved on) only: other dangling images are not ours to remove.
    run(["docker", "image", "prune", "-f", "--filter", f"label={image_cache.LABEL}"], check=False, timeout=300)
    if names is None and unbuilt():
        say(f"!!! no offline recipe for: {', '.join(unbuilt())} (only `pull` provides them)")
    say(f"stack images ready in {time.monotonic() - started:.1f}s: {len(built)} images")
    return built


def plan(source: str) -> tuple[list[StackImage], list[StackImage]]:
    """(to pull, to build) for an image source: `pull` still builds the project's own images."""
    if source not in ("pull", "build"):
        raise UserError(f"unknown image source {source!r} (pull or build)")
    images = list(all_images())
    if source == "build":
        return [], images
    return [img for img in images if not img.own], [img for img in images if img.own]


def ensure(source: str, rebuild: bool = False) -> list[str]:
    """Every stack image present locally with its exact reference: pulled or built; returns the references."""
    to_pull, to_build = plan(source)
    refs = [_pull(img.ref, rebuild) for img in to_pull]
    return refs + build_all(rebuild, [img.name for img in to_build])


def _pull(ref: str, again: bool) -> str:
    if not again and run(["docker", "image", "inspect", ref], check=False, timeout=60).returncode == 0:
        say(f"--- {ref}: present")
        return ref
    with step(f"docker pull {ref}"):
        run(["docker", "pull", ref], timeout=1800)
    return ref


def _forget_old_runtime_bases(keep: str) -> None:
    """Untag runtime bases of earlier inputs: each change of the recipe would otherwise leave one behind."""
    listed = run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", RUNTIME_BASE_REPO], timeout=60)
    for ref in listed.stdout.split():
        if ref != keep:
            run(["docker", "image", "rm", ref], check=False, timeout=60)


def _by_name(name: str) -> StackImage:
    for img in all_images():
        if img.name == name:
            return img
    known = ", ".join(i.name for i in all_images())
    raise UserError(f"unknown stack image {name!r} (known: {known})")


def _ensure(img: StackImage, *, base: str, runtime_base: str | None, rebuild: bool) -> str:
    key = image_cache.cache_key(inputs(img, base=base, runtime_base=runtime_base))
    ref = runtime_base_ref(key) if img.name == RUNTIME_BASE.name else img.ref
    if not rebuild and image_archive.current(ref, image_cache.LABEL, key):
        say(f"--- {ref}: current (inputs {key[:12]})")
        return ref
    log = cache_dir() / "logs" / "images" / f"{img.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"# {ref} inputs {key}\n")
    with step(f"build {ref} (inputs {key[:12]}, log {log})"):
        with tempfile.TemporaryDirectory(prefix=f"image-{img.name}-") as tmp:
            context = _stage(img, Path(tmp) / "context", log)
            _docker_build(img, ref, key, context, base=base, runtime_base=runtime_base, log=log, fresh=rebuild)
    say(f"    {ref}: {image_cache.image_size(ref) / 1e6:.1f} MB")
    image_archive.keep(ref, key)
    return ref


def _stage(img: StackImage, context: Path, log: Path) -> Path:
    """Copy the image's sources, shared helpers and freshly built (or cached) binaries into `context`."""
    if img.prepare:
        if not (img.context / img.prepare[-1]).exists():
            raise UserError(f"{img.context}: missing {img.prepare[-1]} (fills the offline build context)")
        with step(f"prepare {img.name} build context"):
            shutil.copytree(img.context, context, ignore=shutil.ignore_patterns(*img.ignore))
            logged_run([*img.prepare, str(context)], log, cwd=img.context)
        return context
    shutil.copytree(img.context, context, ignore=shutil.ignore_patterns(*img.ignore, "*.go", "go.mod", "go.sum"))
    for name in img.common:
        shutil.copy2(COMMON / name, context / name)
    if img.go:
        built = go_build.build(img.go, img.version)
        for binary in img.binaries:
            shutil.copy2(built / binary, context / binary)
    return context


def _docker_build(
    img: StackImage, ref: str, key: str, context: Path, *, base: str, runtime_base: str | None, log: Path, fresh: bool
) -> None:
    args = ["docker", "build", "--label", f"{image_cache.LABEL}={key}", "--build-arg", f"BASE_IMAGE={base}", "-t", ref]
    if fresh:  # a forced rebuild also refreshes the apt layers (security updates), not just the tag
        args.append("--no-cache")
    if runtime_base:
        args += ["--build-arg", f"RUNTIME_BASE={runtime_base}"]
    if img.name != RUNTIME_BASE.name:
        args += ["--label", f"org.opencontainers.image.version={img.version}", "--build-arg", f"VERSION={img.version}"]
    # The classic builder: Debian's engine (20.10) has no buildx, and nothing here needs BuildKit.
    logged_run([*args, str(context)], log, env={**os.environ, "DOCKER_BUILDKIT": "0"})
