"""Cluster configuration and image-tag derivation: pure logic, no Docker."""

import json
import socket
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from verification import catalog
from verification.cluster import cluster, node_image
from verification.errors import UserError


def test_kind_config_publishes_only_on_loopback() -> None:
    config = yaml.safe_load(cluster.kind_config("pull"))
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"
    assert config["networking"]["disableDefaultCNI"] is True
    mappings = [m for node in config["nodes"] for m in node.get("extraPortMappings", [])]
    assert mappings and all(m["listenAddress"] == "127.0.0.1" for m in mappings)
    assert "kubeadmConfigPatches" not in config


def test_build_source_tells_kubeadm_the_built_etcd_and_coredns_tags() -> None:
    config = yaml.safe_load(cluster.kind_config("build"))
    patch = yaml.safe_load(config["kubeadmConfigPatches"][0])
    assert patch["kind"] == "ClusterConfiguration"
    assert patch["etcd"]["local"]["imageTag"] == node_image.image_tag_of(node_image.pinned_image("etcd"))
    assert patch["dns"]["imageTag"] == node_image.image_tag_of(node_image.pinned_image("coredns"))


def test_pinned_image_tags_follow_versions() -> None:
    assert node_image.expand("registry.k8s.io/etcd:{version_plain}-0", "v3.5.31") == "registry.k8s.io/etcd:3.5.31-0"
    assert node_image.kube_image("kube-apiserver", "v1.33.6") == "registry.k8s.io/kube-apiserver:v1.33.6"
    assert node_image.pinned_image("pause") == "registry.k8s.io/pause:3.10"


def test_containerd_reference_normalisation() -> None:
    assert node_image._normalise("registry.k8s.io/pause:3.10") == "registry.k8s.io/pause:3.10"
    assert node_image._normalise("cloudnativelabs/kube-router:v2.1.0") == "docker.io/cloudnativelabs/kube-router:v2.1.0"
    assert node_image._normalise("busybox:1") == "docker.io/library/busybox:1"


def test_image_source_choice(monkeypatch) -> None:
    assert cluster.choose_image_source("build") == ("build", "asked for")
    assert cluster.choose_image_source("pull") == ("pull", "asked for")

    def no_dns(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    source, reason = cluster.choose_image_source("auto")
    assert source == "build" and "does not resolve" in reason
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [("ok",)])
    assert cluster.choose_image_source("auto")[0] == "pull"


def test_stale_pods_are_those_on_another_build_of_a_loaded_tag() -> None:
    from verification.cluster.cluster import stale_pods

    def pod(ns: str, name: str, *containers: tuple[str, str]) -> dict:
        statuses = [{"name": f"c{i}", "image": image, "imageID": iid} for i, (image, iid) in enumerate(containers)]
        return {"metadata": {"namespace": ns, "name": name}, "status": {"containerStatuses": statuses}}

    ids = {"quay.io/prometheus/prometheus:v2.42.0": "sha256:new", "quay.io/x/reloader:v1": "sha256:r"}
    pods = [
        pod(
            "monitoring",
            "prom-0",
            ("quay.io/x/reloader:v1", "sha256:r"),
            ("quay.io/prometheus/prometheus:v2.42.0", "sha256:old"),
        ),
        pod("monitoring", "fresh", ("quay.io/prometheus/prometheus:v2.42.0", "sha256:new")),
        pod("kube-system", "coredns", ("registry.k8s.io/coredns:v1", "sha256:zzz")),  # not ours: untouched
        pod("test", "pending", ("quay.io/prometheus/prometheus:v2.42.0", "")),  # not started yet
        pod("test", "digest", ("quay.io/prometheus/prometheus:v2.42.0", "quay.io/prometheus/prometheus@sha256:old")),
    ]
    assert stale_pods(pods, ids) == [
        ("monitoring", "prom-0", "quay.io/prometheus/prometheus:v2.42.0"),
        ("test", "digest", "quay.io/prometheus/prometheus:v2.42.0"),
    ]


# --------------------------------------------------------------------------- several nodes


def _nodes(config_text: str) -> list[dict]:
    return yaml.safe_load(config_text)["nodes"]


@pytest.mark.parametrize("source", ["pull", "build"])
@pytest.mark.parametrize("count", [1, 2, 3])
def test_kind_config_has_one_control_plane_and_n_minus_one_workers(source: str, count: int) -> None:
    nodes = _nodes(cluster.kind_config(source, count))
    assert [n["role"] for n in nodes] == ["control-plane"] + ["worker"] * (count - 1)
    # Workers publish nothing on the host: the NodePorts enter through the control-plane only.
    assert all(not n.get("extraPortMappings") for n in nodes[1:])
    assert cluster.kind_config(source, count).count("kubeadmConfigPatches") == (source == "build")


def test_default_cluster_publishes_the_node_ports_on_their_own_numbers() -> None:
    mappings = _nodes(cluster.kind_config("pull", 3))[0]["extraPortMappings"]
    assert [m["hostPort"] for m in mappings] == [m["containerPort"] for m in mappings]
    assert {m["containerPort"] for m in mappings} >= set(catalog.current().node_ports("e2e").values())


def test_another_cluster_lets_kind_pick_free_loopback_ports() -> None:
    """A second cluster cannot bind 30080-30084 beside the default one: hostPort 0, still on 127.0.0.1."""
    default = _nodes(cluster.kind_config("pull", 3))[0]["extraPortMappings"]
    other = _nodes(cluster.kind_config("pull", 3, "platform-e2e-n3"))[0]["extraPortMappings"]
    assert [m["containerPort"] for m in other] == [m["containerPort"] for m in default]
    assert all(m["hostPort"] == 0 and m["listenAddress"] == "127.0.0.1" for m in other)


@pytest.mark.parametrize("count", [0, -1, cluster.MAX_NODES + 1])
def test_node_count_out_of_range_is_one_line(count: int) -> None:
    with pytest.raises(UserError, match=rf"--nodes {count}: a kind cluster has 1 to {cluster.MAX_NODES} nodes"):
        cluster.kind_config("pull", count)


def test_published_reads_the_loopback_mapping_docker_made(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append([str(a) for a in args])
        return subprocess.CompletedProcess(args, 0, "127.0.0.1:41234\n[::1]:41234\n", "")

    monkeypatch.setattr(cluster, "run", fake_run)
    kind = cluster.Cluster("platform-e2e-n3", Path("k"), "kind", "build")
    assert kind.published(30080) == "127.0.0.1:41234"
    assert calls == [["docker", "port", "platform-e2e-n3-control-plane", "30080/tcp"]]
    assert len(calls) == 1


def test_an_existing_clusters_node_port_is_reached_on_a_node_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not 127.0.0.1: on a machine that also runs the suite's kind cluster, that is the wrong one."""

    def node(name: str, *addresses: tuple[str, str]) -> dict[str, object]:
        return {"metadata": {"name": name}, "status": {"addresses": [{"type": t, "address": a} for t, a in addresses]}}

    nodes = {"items": [node("w2", ("InternalIP", "172.18.0.4")), node("w1", ("InternalIP", "172.18.0.3"))]}
    monkeypatch.setattr(cluster, "run", lambda args, **kw: subprocess.CompletedProcess(args, 0, json.dumps(nodes), ""))
    monkeypatch.setattr(cluster.tools, "require", lambda name: type("T", (), {"path": name})())
    existing = cluster.Cluster("elsewhere", Path("k"), "existing", "existing", context="theirs")
    assert existing.published(30080) == "172.18.0.3:30080"
    nodes["items"].append(node("a0", ("InternalIP", "10.0.0.9"), ("ExternalIP", "203.0.113.7")))
    assert existing.published(30080) == "203.0.113.7:30080"
    nodes["items"] = [node("cp")]
    with pytest.raises(UserError, match="no node of context theirs reports an address"):
        existing.published(30080)


def test_unpublished_node_port_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        cluster, "run", lambda args, **kw: subprocess.CompletedProcess(args, 1, "", "Error: No public port '30089/tcp'")
    )
    with pytest.raises(UserError, match=r"NodePort 30089 is not published on 127.0.0.1 by x-control-plane.*30089"):
        cluster.published_port("x", 30089)


def test_reused_cluster_with_another_node_count_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster.docker, "ensure_engine", lambda: None)
    monkeypatch.setattr(cluster, "stack_image_refs", lambda source: [])
    monkeypatch.setattr(cluster.tools, "require", lambda name: SimpleNamespace(path=Path(f"/bin/{name}")))
    monkeypatch.setattr(cluster, "kind_clusters", lambda: ["platform-e2e"])
    monkeypatch.setattr(cluster, "kind_nodes", lambda name: [f"{name}-control-plane"])
    with pytest.raises(UserError, match=r"'platform-e2e' exists with 1 node\(s\), --nodes 3 asked: .*cluster down"):
        cluster.up("platform-e2e", "build", nodes=3)


def test_cli_takes_nodes_for_up_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from verification import cli

    seen: dict[str, object] = {}

    def fake_up(name: str, source: str, nodes: int = 1) -> cluster.Cluster:
        seen.update(name=name, source=source, nodes=nodes)
        return cluster.Cluster(name, Path("k"), "kind", source)

    monkeypatch.setattr(cluster, "up", fake_up)
    assert cli.main(["cluster", "up", "--name", "n3", "--image-source", "build", "--nodes", "3"]) == 0
    assert seen == {"name": "n3", "source": "build", "nodes": 3}
    monkeypatch.setattr(cluster, "down", lambda name: pytest.fail("down must not run"))
    assert cli.main(["cluster", "down", "--nodes", "3"]) == 2
