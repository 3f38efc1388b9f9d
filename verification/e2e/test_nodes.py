"""Nodes: testinfra (docker backend) checks on every kind node of the e2e cluster.

- the kubelet as the cluster runs it (its live configuration from the API server's
  /api/v1/nodes/NODE/proxy/configz, and the file on the node): anonymous authentication off,
  Webhook authorization, read-only port off;
- containerd and kubelet are running systemd services;
- the node runtime as built: kubelet and containerd of the pinned versions; with the offline
  (`build`) node image, containerd calls the runc wrapper (/usr/local/sbin/runc) in front of
  the real runc (/usr/local/sbin/runc.real) of the pinned version.
"""

import json
from typing import Any

import pytest
import testinfra
import yaml

from verification.cluster.cluster import BUILT_NODE_IMAGE, Cluster
from verification.versions import versions

RUNC = "/usr/local/sbin/runc"
REAL_RUNC = "/usr/local/sbin/runc.real"


def _nodes(cluster: Cluster) -> list[str]:
    return cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[*].metadata.name}").stdout.split()


@pytest.fixture(scope="module")
def nodes(cluster: Cluster) -> list[str]:
    if cluster.provider != "kind":
        pytest.fail("node checks run on kind nodes (docker containers); use --cluster kind", pytrace=False)
    found = _nodes(cluster)
    assert found, "the cluster has no nodes"
    return found


def _host(node: str) -> Any:  # testinfra ships no types
    return testinfra.get_host(f"docker://{node}")


def _pin(name: str) -> str:
    return str(versions()["cluster_components"][name]["version"])


def test_kubelet_live_configuration_is_hardened(cluster: Cluster, nodes: list[str]) -> None:
    problems = []
    for node in nodes:
        raw = cluster.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/configz").stdout
        config = json.loads(raw)["kubeletconfig"]
        anonymous = config.get("authentication", {}).get("anonymous", {}).get("enabled")
        mode = config.get("authorization", {}).get("mode")
        read_only = config.get("readOnlyPort", 0)
        if anonymous is not False:
            problems.append(f"{node}: anonymous authentication enabled={anonymous}")
        if mode != "Webhook":
            problems.append(f"{node}: authorization mode {mode}, not Webhook")
        if read_only:
            problems.append(f"{node}: read-only port {read_only} open")
    assert not problems, "; ".join(problems)


def test_kubelet_configuration_file_is_hardened(nodes: list[str]) -> None:
    for node in nodes:
        file = _host(node).file("/var/lib/kubelet/config.yaml")
        assert file.exists, f"{node}: no /var/lib/kubelet/config.yaml"
        config = yaml.safe_load(file.content_string)
        assert config["authentication"]["anonymous"]["enabled"] is False, f"{node}: anonymous auth on"
        assert config["authorization"]["mode"] == "Webhook", f"{node}: {config['authorization']}"
        assert not config.get("readOnlyPort"), f"{node}: readOnlyPort {config.get('readOnlyPort')}"


def test_containerd_and_kubelet_are_running(nodes: list[str]) -> None:
    for node in nodes:
        host = _host(node)
        for service in ("containerd", "kubelet"):
            assert host.service(service).is_running, f"{node}: {service} is not running"
            assert host.service(service).is_enabled, f"{node}: {service} is not enabled"


def test_node_runtime_is_the_pinned_one(cluster: Cluster, nodes: list[str]) -> None:
    kube = _pin("kubernetes")
    containerd = _pin("containerd")
    for node in nodes:
        host = _host(node)
        assert kube in host.check_output("kubelet --version"), f"{node}: kubelet is not {kube}"
        if cluster.image_source not in BUILT_NODE_IMAGE:
            continue  # a published node image brings its own versions
        assert containerd in host.check_output("containerd --version"), f"{node}: containerd is not {containerd}"
        assert host.file(REAL_RUNC).is_file, f"{node}: no {REAL_RUNC} (the offline node image puts the real runc there)"
        assert _pin("runc").lstrip("v") in host.check_output(f"{REAL_RUNC} --version"), f"{node}: runc version"
        assert host.file(RUNC).is_file, f"{node}: no runc wrapper at {RUNC}"
        assert host.file(RUNC).sha256sum != host.file(REAL_RUNC).sha256sum, f"{node}: {RUNC} is not the wrapper"
        # containerd runs the wrapper: runc is found on PATH, and PATH finds the wrapper first
        assert host.check_output("command -v runc") == RUNC, f"{node}: `runc` on PATH is not the wrapper"
