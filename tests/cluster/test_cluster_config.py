"""Cluster configuration and image-tag derivation: pure logic, no Docker."""

import socket

import yaml

from verification.cluster import cluster, node_image


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
