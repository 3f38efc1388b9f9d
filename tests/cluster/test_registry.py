"""The `registry` image source (verification/cluster/registry.py) without Docker: mirror paths,
containerd's hosts files, the kind config patch, and what `up` does with the pushed images."""

import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from verification.cluster import cluster, registry
from verification.errors import UserError
from verification.versions import versions
from verification.wait import wait_for


def test_every_pinned_image_has_a_mirror_path_of_its_own() -> None:
    refs = list(versions()["images"].values())
    paths = registry.mirror_paths(refs)
    assert paths["quay.io/prometheus/prometheus:v3.16.0"] == "prometheus/prometheus:v3.16.0"
    assert paths["registry.example.local/platform/sample-app:1.0.0"] == "platform/sample-app:1.0.0"
    assert len(set(paths.values())) == len(refs)


def test_two_hosts_sharing_a_path_are_refused() -> None:
    with pytest.raises(UserError, match=r"quay.io/a/b:1 and registry.k8s.io/a/b:1 would both be a/b:1"):
        registry.mirror_paths(["registry.k8s.io/a/b:1", "quay.io/a/b:1"])


@pytest.mark.parametrize("ref", ["busybox:1", "quay.io/prometheus/prometheus", "library/x:1", "quay.io/x:1/y"])
def test_a_reference_without_host_or_tag_is_one_line(ref: str) -> None:
    with pytest.raises(UserError, match="expected HOST/PATH:TAG"):
        registry.split(ref)


def test_hosts_file_sends_pulls_to_the_local_registry_over_http() -> None:
    hosts = tomllib.loads(registry.hosts_toml("quay.io", "172.18.0.1:41000"))
    assert hosts["server"] == "https://quay.io"
    assert hosts["host"] == {"http://172.18.0.1:41000": {"capabilities": ["pull", "resolve"]}}


@pytest.mark.parametrize("source", ["pull", "build", "registry"])
def test_every_kind_config_reads_registry_hosts_from_files(source: str) -> None:
    config = yaml.safe_load(cluster.kind_config(source, 3, "n3"))
    (patch,) = config["containerdConfigPatches"]
    assert tomllib.loads(patch)["plugins"]["io.containerd.grpc.v1.cri"]["registry"] == {"config_path": registry.CERTS_D}
    # The registry source runs the node image built here, so kubeadm needs its etcd/CoreDNS tags too.
    assert ("kubeadmConfigPatches" in config) == (source in cluster.BUILT_NODE_IMAGE)


def test_registry_is_an_image_source_asked_for() -> None:
    assert cluster.choose_image_source("registry") == ("registry", "asked for")


def test_up_with_the_registry_source_pushes_the_stack_and_loads_only_the_smoke_image(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[str, Any]] = []
    served = registry.Registry("n3", "172.18.0.1:41000", 1)
    stack = ["quay.io/prometheus/prometheus:v3.16.0", "registry.example.local/platform/sample-app:1.0.0"]
    monkeypatch.setattr(cluster.docker, "ensure_engine", lambda: None)
    monkeypatch.setattr(cluster, "stack_image_refs", lambda source: calls.append(("stack", source)) or stack)
    monkeypatch.setattr(cluster.tools, "require", lambda name: SimpleNamespace(path=Path(f"/bin/{name}")))
    monkeypatch.setattr(cluster, "kind_clusters", lambda: ["n3"])
    monkeypatch.setattr(cluster, "kind_nodes", lambda name: ["n3-control-plane", "n3-worker", "n3-worker2"])
    monkeypatch.setattr(cluster, "kubeconfig_path", lambda name: tmp_path / "kubeconfig")
    monkeypatch.setattr(cluster, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", ""))
    monkeypatch.setattr(cluster.cni, "install", lambda *a: None)
    monkeypatch.setattr(cluster.cni, "wait_ready", lambda *a: None)
    monkeypatch.setattr(cluster, "wait_for", lambda *a, **k: None)
    monkeypatch.setattr(cluster.Cluster, "kubectl", lambda self, *a, **k: subprocess.CompletedProcess(a, 0, "", ""))
    monkeypatch.setattr(cluster.smoke_image, "ensure_smoke_image", lambda: "smoke:1")
    monkeypatch.setattr(cluster, "check_dns", lambda *a: None)
    monkeypatch.setattr(registry, "start", lambda name: calls.append(("start", name)) or served)
    digests = {ref: "sha256:" + str(i) * 64 for i, ref in enumerate(stack)}
    monkeypatch.setattr(registry, "push", lambda reg, refs: calls.append(("push", refs)) or digests)
    monkeypatch.setattr(registry, "configure_nodes", lambda reg, nodes, refs: calls.append(("nodes", nodes)))
    monkeypatch.setattr(cluster, "load_images", lambda c, refs: calls.append(("load", refs)))
    monkeypatch.setattr(cluster, "restart_stale_pods", lambda c, refs, pushed: calls.append(("stale", pushed)))
    found = cluster.up("n3", "registry", nodes=3)
    assert found.image_source == "registry"
    assert calls == [
        ("stack", "registry"),
        ("start", "n3"),
        ("push", stack),
        ("nodes", ["n3-control-plane", "n3-worker", "n3-worker2"]),
        ("load", ["smoke:1"]),
        ("stale", digests),
    ]


def test_stop_ends_only_a_crane_registry_it_started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLATFORM_VERIFY_CACHE", str(tmp_path))
    state = registry.state_dir("n3") / "state.json"
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        state.write_text(f'{{"pid": {stranger.pid}, "address": "x:1"}}')
        assert registry.stop("n3") is False  # a pid file naming another program: left alone
        assert stranger.poll() is None and not state.exists()
    finally:
        stranger.kill()
        stranger.wait()
    crane = tmp_path / "crane"  # argv[0] ends in crane and `serve` is an argument, as start() runs it
    crane.symlink_to(sys.executable)
    ours = subprocess.Popen([str(crane), "-c", "import time; time.sleep(30)", "registry", "serve"])
    try:
        state.write_text(f'{{"pid": {ours.pid}, "address": "x:1"}}')
        # Until the child has exec'd, /proc/<pid>/cmdline is the forked pytest's (failed once so).
        wait_for(lambda: Path(f"/proc/{ours.pid}/cmdline").read_bytes(), what="the child to exec", timeout=10,
                 interval=0.05, until=lambda cmdline: b"serve" in cmdline)  # fmt: skip
        assert registry._ours(ours.pid)
        assert registry.stop("n3") is True
        assert ours.wait(10) == -15
    finally:
        if ours.poll() is None:
            ours.kill()


def test_pulled_tells_registry_digests_from_side_loaded_images() -> None:
    digests = {
        "quay.io/prometheus/prometheus:v3.16.0": "sha256:" + "a" * 64,
        "registry.example.local/platform/sample-app:1.0.0": "sha256:" + "d" * 64,
    }

    def pod(name: str, image: str, image_id: str) -> dict[str, Any]:
        status = {"containerStatuses": [{"name": "c", "image": image, "imageID": image_id}]}
        return {"metadata": {"namespace": "monitoring", "name": name}, "status": status}

    pods = [
        pod(
            "from-registry", "quay.io/prometheus/prometheus:v3.16.0", "quay.io/prometheus/prometheus@sha256:" + "a" * 64
        ),
        pod("side-loaded", "quay.io/prometheus/prometheus:v3.16.0", "sha256:" + "b" * 64),
        pod("unrelated", "registry.k8s.io/coredns/coredns:v1.12.0", "sha256:" + "c" * 64),
        # Started by digest (TAG@DIGEST): the kubelet reports the image as its config's ID.
        pod("by-digest", "sha256:" + "e" * 64, "registry.example.local/platform/sample-app@sha256:" + "d" * 64),
    ]
    ours, other = registry.pulled(pods, digests)
    assert ours == [
        "monitoring/from-registry c (quay.io/prometheus/prometheus@sha256:" + "a" * 64 + ")",
        "monitoring/by-digest c (registry.example.local/platform/sample-app@sha256:" + "d" * 64 + ")",
    ]
    assert other == ["monitoring/side-loaded c (quay.io/prometheus/prometheus:v3.16.0): sha256:" + "b" * 64]


def test_a_warm_up_pushes_only_what_this_registry_process_does_not_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    refs = ["quay.io/prometheus/prometheus:v3.16.0", "registry.example.local/platform/sample-app:1.0.0"]
    ids = {ref: f"sha256:{'a' * 63}{i}" for i, ref in enumerate(refs)}
    pushed: list[str] = []
    served: set[str] = set()

    def fake_run(cmd: list[Any], **_: Any) -> subprocess.CompletedProcess[str]:
        if cmd[:3] == ["docker", "image", "inspect"]:
            return subprocess.CompletedProcess(cmd, 0, ids[cmd[3]] + "\n", "")
        if cmd[1] == "push":
            pushed.append(str(cmd[-1]))
            digest = "sha256:" + ids[next(r for r in refs if r.split("/", 1)[1] in str(cmd[-1]))][7:]
            return subprocess.CompletedProcess(cmd, 0, f"{cmd[-1]}@{digest}\n", "")
        Path(cmd[3]).write_text("tar")  # docker save -o TARBALL REF
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(registry, "run", fake_run)
    monkeypatch.setattr(registry, "state_dir", lambda name: tmp_path)
    monkeypatch.setattr(registry.tools, "require", lambda name: SimpleNamespace(path=Path(f"/bin/{name}")))
    monkeypatch.setattr(registry, "_serves", lambda reg, local, digest: f"{local}@{digest}" in served)
    first = registry.push(registry.Registry("c", "172.18.0.1:5000", 7), refs)
    assert len(pushed) == 2
    served.update(f"{registry.mirror_paths(refs)[r]}@{d}" for r, d in first.items())
    # The same process, the same images: nothing to push, the same digests.
    assert registry.push(registry.Registry("c", "172.18.0.1:5000", 7), refs) == first and len(pushed) == 2
    # A rebuilt image is pushed again; another registry process (manifests in memory) gets everything.
    ids[refs[1]] = "sha256:" + "b" * 64
    registry.push(registry.Registry("c", "172.18.0.1:5000", 7), refs)
    assert pushed[2:] == ["172.18.0.1:5000/platform/sample-app:1.0.0"]
    registry.push(registry.Registry("c", "172.18.0.1:5000", 8), refs)
    assert len(pushed) == 5
    served.clear()  # the process lost its manifests (restarted under the same pid): pushed again
    registry.push(registry.Registry("c", "172.18.0.1:5000", 8), refs)
    assert len(pushed) == 7
