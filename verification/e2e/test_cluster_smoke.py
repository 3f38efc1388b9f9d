"""The cluster does the four things every later e2e test relies on.

1. a Deployment of a locally built image serves HTTP to the host through a NodePort on 127.0.0.1;
2. CoreDNS resolves a Service name from a pod;
3. a default-deny NetworkPolicy blocks a probe that worked just before, and an allow rule restores it;
4. `kubectl auth can-i --as` answers from the cluster's real authorizer.
"""

import json
import subprocess
from typing import Any

import httpx
import pytest

from verification.cluster import smoke_image
from verification.cluster.cluster import Cluster
from verification.wait import wait_for

NODE_PORT = 30084  # published on 127.0.0.1 by platform/kind/cluster.yaml


def _apply(cluster: Cluster, namespace: str, manifest: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))


def _workload(cluster: Cluster, namespace: str, name: str, image: str, labels: dict[str, str]) -> None:
    _apply(
        cluster,
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": name,
                                "image": image,
                                "imagePullPolicy": "IfNotPresent",
                                "args": ["serve", "8080"],
                                "ports": [{"name": "http", "containerPort": 8080}],
                                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                            }
                        ]
                    },
                },
            },
        },
    )
    cluster.kubectl("-n", namespace, "rollout", "status", f"deployment/{name}", "--timeout=180s", timeout=200)


def _service(
    cluster: Cluster, namespace: str, name: str, selector: dict[str, str], node_port: int | None = None
) -> None:
    port: dict[str, Any] = {"name": "http", "port": 8080, "targetPort": 8080}
    spec: dict[str, Any] = {"selector": selector, "ports": [port]}
    if node_port:
        port["nodePort"] = node_port
        spec["type"] = "NodePort"
    _apply(cluster, namespace, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})


def _exec(cluster: Cluster, namespace: str, deployment: str, *args: str) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl("-n", namespace, "exec", f"deployment/{deployment}", "--", "/smoke", *args, check=False)


@pytest.fixture(scope="module")
def image(cluster: Cluster) -> str:
    if cluster.provider != "kind":
        pytest.fail("the smoke image is loaded into kind clusters only; run this module with --cluster kind")
    return smoke_image.ensure_smoke_image()


def test_nodeport_serves_locally_built_image_on_loopback(cluster: Cluster, namespace: str, image: str) -> None:
    _workload(cluster, namespace, "web", image, {"app": "web"})
    _service(cluster, namespace, "web", {"app": "web"}, node_port=NODE_PORT)
    address = cluster.published(NODE_PORT)  # 127.0.0.1:30084 on the default cluster
    response = wait_for(
        lambda: httpx.get(f"http://{address}/", timeout=3),
        what=f"HTTP 200 from the NodePort {NODE_PORT} on {address}",
        timeout=60,
        until=lambda r: r.status_code == 200,
        describe=lambda r: f"HTTP {r.status_code}: {r.text[:100]}",
    )
    assert response.text.startswith("smoke ok web-")


def test_coredns_resolves_a_service_from_a_pod(cluster: Cluster, namespace: str, image: str) -> None:
    _workload(cluster, namespace, "web", image, {"app": "web"})
    _service(cluster, namespace, "web", {"app": "web"})
    cluster_ip = cluster.kubectl("-n", namespace, "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}").stdout
    fqdn = f"web.{namespace}.svc.cluster.local"
    proc = _exec(cluster, namespace, "web", "resolve", fqdn)
    assert proc.returncode == 0, f"{fqdn} did not resolve from a pod: {proc.stderr.strip()}"
    assert proc.stdout.split() == [cluster_ip]


def test_default_deny_blocks_and_allow_rule_restores(cluster: Cluster, namespace: str, image: str) -> None:
    _workload(cluster, namespace, "web", image, {"app": "web"})
    _workload(cluster, namespace, "client", image, {"app": "client"})
    _service(cluster, namespace, "web", {"app": "web"})
    target = f"web.{namespace}.svc.cluster.local:8080"

    def reachable() -> bool:
        return _exec(cluster, namespace, "client", "connect", target, "2").returncode == 0

    assert reachable(), "client could not reach web before any NetworkPolicy"
    _apply(
        cluster,
        namespace,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
    )
    wait_for(lambda: not reachable(), what="default-deny to block client -> web:8080", timeout=60, interval=1)
    _apply(
        cluster,
        namespace,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "allow-client-to-web"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}], "ports": [{"port": 8080}]}],
            },
        },
    )
    wait_for(reachable, what="the allow rule to restore client -> web:8080", timeout=60, interval=1)


def test_auth_can_i_answers_from_the_real_authorizer(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("-n", namespace, "create", "serviceaccount", "reader")
    cluster.kubectl("-n", namespace, "create", "role", "pod-reader", "--verb=get,list", "--resource=pods")
    cluster.kubectl(
        "-n", namespace, "create", "rolebinding", "reader", "--role=pod-reader", f"--serviceaccount={namespace}:reader"
    )
    who = f"system:serviceaccount:{namespace}:reader"

    def can_i(verb: str, resource: str, ns: str = namespace) -> str:
        proc = cluster.kubectl("auth", "can-i", verb, resource, "-n", ns, "--as", who, check=False)
        return proc.stdout.strip()

    wait_for(lambda: can_i("get", "pods"), what="the RoleBinding to apply", timeout=30, until=lambda a: a == "yes")
    assert can_i("list", "pods") == "yes"
    assert can_i("delete", "pods") == "no"
    assert can_i("get", "secrets") == "no"
    assert can_i("get", "pods", ns="default") == "no"
