"""The kind node image, built offline: base image, component images, node image with images preloaded.

Tags, and how each is derived:
- control plane: `registry.k8s.io/<component>:<kubernetes.version>` (kubeadm's default image
  repository and tag, what `kubeadm config images list` prints);
- etcd, CoreDNS, pause, the CNI (cni.py): the `image` of their pin in platform/versions.yaml
  (etcd and CoreDNS follow the versions built, and the cluster's kubeadm configuration names
  those tags, because the ones kubeadm v1.33.6 defaults to are not served as Go modules);
- `platform-verify/kind-base:<kind version>-<key>` and `platform-verify/kind-node:<kubernetes
  version>-<key>`: local names only, key = hash of every input, so a present tag is current.
Every image carries the label `platform-verify.key` with the hash of its inputs.
"""

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from verification.cluster import cni, debian_base, docker, gobuild, image_archive, runc_wrapper
from verification.cluster.image_cache import NODE_LABEL
from verification.cluster.progress import say, step
from verification.paths import PLATFORM
from verification.run import run
from verification.versions import tool as tool_pin
from verification.versions import versions
from verification.wait import wait_for

NODE_IMAGES_DIR = PLATFORM / "kind" / "images"
RECIPE_REVISION = "1"
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


@dataclass(frozen=True)
class ComponentImage:
    ref: str
    dockerfile: str
    binary: Path
    extra_files: tuple[str, ...] = ()


def expand(template: str, version: str) -> str:
    return template.replace("{version_plain}", version.lstrip("v")).replace("{version}", version)


def pinned_image(name: str, version: str | None = None) -> str:
    pin = versions()["cluster_components"][name]
    return expand(pin["image"], version or pin.get("version", ""))


def kube_image(component: str, kube_version: str) -> str:
    return f"registry.k8s.io/{component}:{kube_version}"


def image_tag_of(ref: str) -> str:
    return ref.rsplit(":", 1)[1]


def key_of(*parts: object) -> str:
    return hashlib.sha256(json.dumps([RECIPE_REVISION, *map(str, parts)]).encode()).hexdigest()[:12]


def component_images(bins: dict[str, Path]) -> list[ComponentImage]:
    kube = gobuild.kubernetes_version()
    kbin = bins["kubernetes"]
    wrapper_files = ("iptables-wrapper", "install-iptables-wrapper")
    images = [ComponentImage(kube_image(c, kube), "control-plane.Dockerfile", kbin / c) for c in CONTROL_PLANE]
    images += [
        ComponentImage(kube_image("kube-proxy", kube), "iptables.Dockerfile", kbin / "kube-proxy", wrapper_files),
        ComponentImage(pinned_image("etcd"), "control-plane.Dockerfile", bins["etcd"] / "etcd"),
        ComponentImage(pinned_image("coredns"), "coredns.Dockerfile", bins["coredns"] / "coredns"),
        ComponentImage(pinned_image("pause"), "pause.Dockerfile", bins["pause"] / "pause"),
        ComponentImage(pinned_image(cni.NAME), cni.NODE_IMAGE_DOCKERFILE, bins[cni.NAME] / cni.NAME, wrapper_files),
    ]
    return images


def ensure_component_image(image: ComponentImage, base: str, rebuild: bool) -> str:
    """Build `image` unless a local image with that ref and the same input key exists; return the key."""
    dockerfile = NODE_IMAGES_DIR / image.dockerfile
    key = key_of(
        base,
        dockerfile.read_text(),
        image.binary.parent.name,  # the gobuild output dir name is the hash of the binary's inputs
        image.binary.name,
        *(hashlib.sha256((NODE_IMAGES_DIR / f).read_bytes()).hexdigest() for f in image.extra_files),
    )
    if not rebuild and image_archive.current(image.ref, NODE_LABEL, key):
        return key
    with step(f"build image {image.ref}"), tempfile.TemporaryDirectory(prefix="component-image-") as tmp:
        context = Path(tmp)
        shutil.copy2(image.binary, context / image.binary.name)
        for name in image.extra_files:
            shutil.copy2(NODE_IMAGES_DIR / name, context / name)
        docker.build_image(
            context,
            image.ref,
            dockerfile=dockerfile,
            build_args={"BASE": base, "BINARY": image.binary.name},
            labels={NODE_LABEL: key},
        )
    image_archive.keep(image.ref, key)
    return key


def kind_module_dir() -> Path:
    version = tool_pin("kind")["version"]
    out = run(["go", "mod", "download", "-json", f"sigs.k8s.io/kind@{version}"], timeout=900)
    return Path(json.loads(out.stdout)["Dir"])


def ensure_kind_base_image(bins: dict[str, Path], base: str, rebuild: bool) -> str:
    """The kind base image with containerd, runc (+ wrapper), crictl and CNI plugins; returns its tag."""
    kind_dir = kind_module_dir()
    wrapper = runc_wrapper.build(runc_wrapper.NODE_REAL_RUNC)
    dockerfile = NODE_IMAGES_DIR / "kind-base.Dockerfile"
    key = key_of(
        base,
        dockerfile.read_text(),
        kind_dir.name,
        wrapper.parent.name,
        *(bins[n].name for n in ("containerd", "runc", "crictl", "cni-plugins")),
    )
    tag = f"platform-verify/kind-base:{tool_pin('kind')['version']}-{key}"
    if not rebuild and image_archive.current(tag, NODE_LABEL, key):
        return tag
    with step(f"build kind base image {tag}"), tempfile.TemporaryDirectory(prefix="kind-base-") as tmp:
        context = Path(tmp)
        # kind's own entrypoint, containerd config, systemd units and kubelet drop-ins, read from
        # the pinned kind module (never copied into this repository).
        shutil.copytree(kind_dir / "images" / "base" / "files", context / "files")
        for path in (context / "files").rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)  # module cache files are read-only
        (context / "bin").mkdir()
        for name in ("containerd", "ctr", "containerd-shim-runc-v2"):
            shutil.copy2(bins["containerd"] / name, context / "bin" / name)
        shutil.copy2(bins["crictl"] / "crictl", context / "bin" / "crictl")
        shutil.copy2(bins["runc"] / "runc", context / "bin" / "runc")
        shutil.copy2(wrapper, context / "bin" / "runc-wrapper")
        shutil.copytree(bins["cni-plugins"], context / "cni", ignore=shutil.ignore_patterns("*.json"))
        docker.build_image(context, tag, dockerfile=dockerfile, build_args={"BASE": base}, labels={NODE_LABEL: key})
    image_archive.keep(tag, key)
    return tag


def ensure_node_image(rebuild: bool = False) -> str:
    """Tag of the offline kind node image for the pinned Kubernetes version, built if not current."""
    docker.ensure_engine()
    base = debian_base.ensure_base_image()
    bins = gobuild.build_all(rebuild=False)
    kind_base = ensure_kind_base_image(bins, base, rebuild)
    images = component_images(bins)
    keys = [ensure_component_image(image, base, rebuild) for image in images]
    kube = gobuild.kubernetes_version()
    key = key_of(kind_base, bins["kubernetes"].name, *(f"{i.ref}={k}" for i, k in zip(images, keys, strict=True)))
    tag = f"platform-verify/kind-node:{kube}-{key}"
    if not rebuild and image_archive.current(tag, NODE_LABEL, key):
        say(f"node image {tag} is current")
        return tag
    with step(f"build node image {tag} ({len(images)} images preloaded)"):
        _commit_node_image(kind_base, bins["kubernetes"], [i.ref for i in images], kube, tag, key)
    image_archive.keep(tag, key)
    return tag


def _commit_node_image(kind_base: str, kube_bins: Path, refs: list[str], kube: str, tag: str, key: str) -> None:
    """kind's node-image recipe without its registry pulls: every image comes from the local engine."""
    name = f"platform-verify-node-build-{key}"
    run(["docker", "rm", "-f", "-v", name], check=False, timeout=120)
    run(["docker", "run", "-d", "--name", name, "--entrypoint=sleep", kind_base, "infinity"], timeout=300)
    try:
        for binary in ("kubeadm", "kubelet", "kubectl"):
            # kind's kubelet.service expects /usr/bin/kubelet
            run(["docker", "cp", kube_bins / binary, f"{name}:/usr/bin/{binary}"], timeout=600)
        run(["docker", "exec", name, "sh", "-c", f"echo {kube} > /kind/version"], timeout=60)
        run(["docker", "exec", name, "bash", "-c", "nohup containerd > /var/log/containerd-build.log 2>&1 &"])
        wait_for(
            lambda: run(["docker", "exec", name, "ctr", "info"], check=False, timeout=30).returncode == 0,
            what="containerd in the node build container",
            timeout=60,
        )
        with tempfile.TemporaryDirectory(prefix="node-images-") as tmp:
            archive = Path(tmp) / "images.tar"
            run(["docker", "save", "-o", archive, *refs], timeout=1800)
            run(["docker", "cp", archive, f"{name}:/images.tar"], timeout=1800)
        run(
            [
                "docker", "exec", name, "ctr", "--namespace=k8s.io", "images", "import",
                "--label=io.cri-containerd.pinned=pinned", "--all-platforms", "--no-unpack", "--digests",
                "/images.tar",
            ],
            timeout=1800,
        )  # fmt: skip
        imported = run(["docker", "exec", name, "ctr", "--namespace=k8s.io", "images", "list", "-q"]).stdout
        missing = [ref for ref in refs if _normalise(ref) not in imported.split()]
        if missing:
            raise RuntimeError(f"node image build: images missing after import: {missing}")
        run(["docker", "exec", name, "rm", "-f", "/images.tar"], timeout=120)
        run(["docker", "exec", name, "pkill", "containerd"], timeout=60)
        # `sleep` is PID 1 here and reaps nothing: a stopped containerd stays as a zombie (state Z).
        wait_for(
            lambda: run(["docker", "exec", name, "ps", "-o", "stat=", "-C", "containerd"], check=False).stdout,
            what="containerd in the node build container to stop",
            timeout=60,
            until=lambda states: all(s.startswith("Z") for s in states.split()),
        )
        run(
            [
                "docker", "commit",
                "--change", 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
                "--change", f"LABEL {NODE_LABEL}={key}",
                name, tag,
            ],
            timeout=1800,
        )  # fmt: skip
    finally:
        run(["docker", "rm", "-f", "-v", name], check=False, timeout=300)


def _normalise(ref: str) -> str:
    """containerd's fully qualified form of a docker reference."""
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        return f"docker.io/library/{ref}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{ref}"
    return ref
