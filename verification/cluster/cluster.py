"""Cluster providers for e2e: `kind` (create or reuse a named local cluster) and `existing`.

kind clusters use platform/kind/cluster.yaml (API server and NodePorts on 127.0.0.1 only) and
the CNI of cni.py (pod network and NetworkPolicy controller), whatever the image source:
- `pull`: kind's published node image, images pulled from their registries;
- `build`: the node image built here (node_image.py), images loaded from the local engine;
- `registry`: as `build`, but the stack images are pushed to a local registry (registry.py) that
  the nodes' containerd pulls from: the pull path, offline;
- `auto`: `pull` when a registry name resolves, else `build` (the reason is printed).

Nodes: one control-plane (the default, the fastest) plus `nodes - 1` workers without host ports
(`--nodes N`). Only the default-named cluster publishes the NodePorts on their own numbers
(127.0.0.1:30080-30084); any other name lets kind pick free ports on 127.0.0.1, so a second
cluster can run beside it, and `Cluster.published()` says where the host reaches a NodePort.
"""

import json
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from verification import tools
from verification.cluster import cni, docker, node_image, registry, smoke_image
from verification.cluster.progress import say, step
from verification.errors import CommandError, UserError, WaitTimeout
from verification.paths import PLATFORM, artifacts_dir, cache_dir
from verification.run import run
from verification.versions import versions
from verification.wait import wait_for
from verification.yamlio import load_file

DEFAULT_NAME = "platform-e2e"
DEFAULT_NODES = 1  # one control-plane that also runs the workloads: the fastest cluster
MAX_NODES = 5  # 2 cores and ~1 GiB per idle node: more is a typo, not a profile
KIND_DIR = PLATFORM / "kind"
REGISTRY_HOSTS = ("registry.k8s.io", "registry-1.docker.io")
SOURCES = ("pull", "build", "registry")  # what `auto` chooses between: pull or build
BUILT_NODE_IMAGE = ("build", "registry")  # sources whose node image is built here (node_image.py)


@dataclass(frozen=True)
class Cluster:
    name: str
    kubeconfig: Path
    provider: str  # kind | existing
    image_source: str  # pull | build | registry | existing
    context: str | None = None  # None: the kubeconfig's current-context
    # Set on a cluster the suite did not create: what it applies is labelled with it and removed
    # afterwards (verification/cluster/ownership.py); None on kind clusters the suite owns.
    run_id: str | None = None

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        context = ["--context", self.context] if self.context else []
        return run(
            [tools.require("kubectl").path, "--kubeconfig", self.kubeconfig, *context, *args],
            input=input,
            check=check,
            timeout=timeout,
        )

    def published(self, node_port: int) -> str:
        """host:port where this machine reaches the NodePort: the port kind published on 127.0.0.1
        for a kind cluster (a free one unless the cluster has the default name), else the NodePort
        on a node's own address (an existing cluster: 127.0.0.1 would be whatever else holds that
        port here, e.g. the suite's own kind cluster, measured instead without a word)."""
        if self.provider != "kind":
            return f"{node_address(self)}:{node_port}"
        return published_port(self.name, node_port)


def choose_image_source(requested: str) -> tuple[str, str]:
    """(source, reason). `auto` only resolves registry names: no traffic leaves the machine."""
    if requested in SOURCES:
        return requested, "asked for"
    for host in REGISTRY_HOSTS:
        try:
            socket.getaddrinfo(host, 443)
        except OSError:
            return "build", f"no container registry answers here ({host} does not resolve)"
    return "pull", f"registries resolve ({', '.join(REGISTRY_HOSTS)})"


def kubeconfig_path(name: str) -> Path:
    return cache_dir() / "clusters" / name / "kubeconfig"


def kind_config(source: str, nodes: int = DEFAULT_NODES, name: str = DEFAULT_NAME) -> str:
    """platform/kind/cluster.yaml with `nodes - 1` workers (no host ports) and, for built node
    images, kubeadm's etcd/CoreDNS tags. A cluster not named DEFAULT_NAME publishes the same
    NodePorts on free host ports (hostPort 0: kind picks one on the listen address), so it can
    run beside the default one."""
    check_nodes(nodes)
    config = load_file(KIND_DIR / "cluster.yaml")
    if name != DEFAULT_NAME:
        for node in config["nodes"]:
            for mapping in node.get("extraPortMappings") or []:
                mapping["hostPort"] = 0
    config["nodes"] += [{"role": "worker"} for _ in range(nodes - 1)]
    # Registry hosts from /etc/containerd/certs.d: a node pulls through a mirror once registry.py
    # writes its hosts.toml there (only with the `registry` source); without one, nothing changes.
    config["containerdConfigPatches"] = [registry.CONTAINERD_PATCH]
    text = yaml.safe_dump(config, sort_keys=False)
    if source not in BUILT_NODE_IMAGE:
        return text
    etcd_tag = node_image.image_tag_of(node_image.pinned_image("etcd"))
    dns_tag = node_image.image_tag_of(node_image.pinned_image("coredns"))
    # kubeadm v1.33.6 defaults to etcd 3.5.24-0 and CoreDNS v1.12.0; the Go module proxy serves
    # neither, so the node carries the nearest served versions and kubeadm is told their tags.
    patch = (
        "kubeadmConfigPatches:\n"
        "  - |\n"
        "    kind: ClusterConfiguration\n"
        "    etcd:\n"
        "      local:\n"
        f"        imageTag: {etcd_tag}\n"
        "    dns:\n"
        f"      imageTag: {dns_tag}\n"
    )
    return text + patch


def check_nodes(nodes: int) -> None:
    if not 1 <= nodes <= MAX_NODES:
        raise UserError(f"--nodes {nodes}: a kind cluster has 1 to {MAX_NODES} nodes (a control-plane, then workers)")


def kind_nodes(name: str) -> list[str]:
    """The node containers of kind cluster `name` (kind get nodes)."""
    out = run([tools.require("kind").path, "get", "nodes", "--name", name], timeout=60).stdout
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def published_port(name: str, node_port: int) -> str:
    """127.0.0.1:PORT that docker publishes for `node_port` of the kind cluster's control-plane."""
    node = f"{name}-control-plane"
    proc = run(["docker", "port", node, f"{node_port}/tcp"], check=False, timeout=60)
    found = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("127.0.0.1:")]
    if proc.returncode != 0 or not found:
        raise UserError(
            f"NodePort {node_port} is not published on 127.0.0.1 by {node} "
            f"(platform/kind/cluster.yaml extraPortMappings): {(proc.stderr or proc.stdout).strip() or 'no mapping'}"
        )
    return found[0]


def pull_node_image() -> str:
    return str(versions()["cluster_components"]["kind-node-pull"]["image"])


def kind_clusters() -> list[str]:
    out = run([tools.require("kind").path, "get", "clusters"], timeout=60).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def stack_image_refs(source: str) -> list[str]:
    """The stack images (apps, monitoring, probe, ...): pulled or built per source; the project's own
    images (apps, probe, receiver) exist in no registry, so they are built with either source. The
    `registry` source builds them all, as `build` does, and pushes them instead of loading them."""
    from verification.cluster import stack_images

    return list(stack_images.ensure("build" if source == "registry" else source))


def up(
    name: str = DEFAULT_NAME,
    image_source: str = "auto",
    extra_images: list[str] | None = None,
    nodes: int = DEFAULT_NODES,
) -> Cluster:
    """Create (or reuse) the kind cluster and wait until nodes are Ready and CoreDNS answers.

    The stack images are made present (pulled or built, cached) and loaded into every node, or,
    with the `registry` source, pushed to the cluster's local registry, which every node's
    containerd then pulls them from. A reused cluster must have `nodes` nodes (else one line:
    delete it or choose another name).
    """
    check_nodes(nodes)
    docker.ensure_engine()
    source, reason = choose_image_source(image_source)
    say(f"image source: {source} ({reason})")
    stack = stack_image_refs(source)
    pushed = stack if source == "registry" else []
    extra_images = [*(stack if not pushed else []), *(extra_images or [])]
    kind = tools.require("kind").path
    cluster = Cluster(name, kubeconfig_path(name), "kind", source)
    cluster.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    if name in kind_clusters():
        have = kind_nodes(name)
        if len(have) != nodes:
            raise UserError(
                f"kind cluster {name!r} exists with {len(have)} node(s), --nodes {nodes} asked: "
                f"`platform-verify cluster down --name {name}` first, or choose another --name"
            )
        say(f"reusing kind cluster {name!r} ({nodes} node(s))")
        # After a reboot or an engine restart the node containers are stopped, or just started
        # with the API server not yet listening: start them and wait, then go on as usual.
        run(["docker", "start", *have], timeout=120)
        run([kind, "export", "kubeconfig", "--name", name, "--kubeconfig", cluster.kubeconfig], timeout=60)
        with step("wait for the API server of the reused cluster"):
            wait_for(lambda: api_ready(cluster), what="the API server to answer /readyz", timeout=300,
                     interval=2, until=lambda r: r[0], describe=lambda r: r[1])  # fmt: skip
    else:
        image = node_image.ensure_node_image() if source in BUILT_NODE_IMAGE else pull_node_image()
        with step(f"kind create cluster {name}, {nodes} node(s) ({image})"), tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "kind.yaml"
            config.write_text(kind_config(source, nodes, name))
            load_file(config)  # a malformed config fails here with one line, not deep in kind
            try:
                run(
                    [kind, "create", "cluster", "--name", name, "--image", image, "--config", config,
                     "--kubeconfig", cluster.kubeconfig, "--retain"],
                    timeout=1200,
                )  # fmt: skip
            except CommandError:
                # Keep the node's logs (journal, containerd, kubelet, pods) for the failure report,
                # then remove the half-made cluster so the next `up` starts clean.
                logs = artifacts_dir() / f"kind-logs-{name}"
                run([kind, "export", "logs", logs, "--name", name], check=False, timeout=600)
                run([kind, "delete", "cluster", "--name", name], check=False, timeout=600)
                say(f"kind create failed; node logs in {logs}")
                raise
    with step(f"apply the CNI, {cni.NAME} (pod network + NetworkPolicy)"):
        cni.install(cluster, node_image.pinned_image(cni.NAME))
    with step("wait for every node to be Ready"):
        wait_for(
            lambda: nodes_ready(cluster),
            what="every node Ready",
            timeout=300,
            interval=2,
            until=lambda r: r[0],
            describe=lambda r: r[1],
        )
    with step(f"wait for {cni.NAME} on every node"):
        cni.wait_ready(cluster)
    with step("wait for CoreDNS"):
        cluster.kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=300s", timeout=320)
    digests: dict[str, str] = {}
    if pushed:
        served = registry.start(name)
        digests = registry.push(served, pushed)
        registry.configure_nodes(served, kind_nodes(name), pushed)
    images = [smoke_image.ensure_smoke_image(), *(extra_images or [])]
    load_images(cluster, images)
    restart_stale_pods(cluster, images, digests)
    with step("check that CoreDNS answers from a pod"):
        check_dns(cluster, images[0])
    return cluster


def node_address(cluster: Cluster) -> str:
    """The first node's ExternalIP, else its InternalIP: where a NodePort answers (every node
    forwards it with the Services' default externalTrafficPolicy, Cluster)."""
    items = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    for kind in ("ExternalIP", "InternalIP"):
        for node in sorted(items, key=lambda n: n["metadata"]["name"]):
            found = [a["address"] for a in node["status"].get("addresses") or [] if a.get("type") == kind]
            if found:
                return str(found[0])
    raise UserError(f"no node of context {cluster.context or '(current)'} reports an address to reach a NodePort on")


def schedulable(cluster: Cluster) -> tuple[list[str], int]:
    """(nodes pods may be scheduled on, all nodes): not cordoned, no NoSchedule/NoExecute taint
    (kind taints its control-plane once there are workers)."""
    items = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    free = [
        n["metadata"]["name"]
        for n in items
        if not n["spec"].get("unschedulable")
        and not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in n["spec"].get("taints") or [])
    ]
    return sorted(free), len(items)


def api_ready(cluster: Cluster) -> tuple[bool, str]:
    proc = cluster.kubectl("get", "--raw", "/readyz", "--request-timeout=10s", check=False, timeout=30)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()[-300:] or f"exit {proc.returncode}"


def nodes_ready(cluster: Cluster) -> tuple[bool, str]:
    data = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)
    pending = [
        node["metadata"]["name"]
        for node in data["items"]
        if not any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))
    ]
    if not data["items"]:
        return False, "no nodes"
    return not pending, f"not Ready: {pending}" if pending else "all Ready"


def load_images(cluster: Cluster, refs: list[str]) -> None:
    """Side-load local images into every node: `kind load` without --nodes loads into all the
    cluster's nodes, and skips a node that already has the image with the same ID."""
    if not refs:
        return
    with step(f"load {len(refs)} image(s) into kind cluster {cluster.name}"):
        run([tools.require("kind").path, "load", "docker-image", "--name", cluster.name, *refs], timeout=1800)


def stale_pods(pods: list[dict[str, Any]], image_ids: dict[str, str]) -> list[tuple[str, str, str]]:
    """(namespace, pod, image) of pods running an older build of a loaded image (same tag, other ID)."""
    found = []
    for pod in pods:
        for status in pod.get("status", {}).get("containerStatuses") or []:
            want = image_ids.get(status.get("image", ""))
            have = status.get("imageID", "").rsplit("@", 1)[-1]
            if want and have and have != want:
                found.append((pod["metadata"]["namespace"], pod["metadata"]["name"], status["image"]))
                break
    return found


def restart_stale_pods(cluster: Cluster, refs: list[str], pushed: dict[str, str] | None = None) -> None:
    """A reused cluster keeps running the previous build of a rebuilt tag: delete those pods so
    their controllers start them on the image just loaded or pushed (else, e.g., a fixed image
    stays in CrashLoopBackOff with the broken build for minutes). `pushed`: ref -> the digest
    the local registry serves (a pulled image's ID is its manifest digest)."""
    ids = dict(pushed or {})
    for ref in refs:
        proc = run(["docker", "image", "inspect", ref, "-f", "{{.Id}}"], check=False, timeout=60)
        if proc.returncode == 0:
            ids[ref] = proc.stdout.strip()
    pods = json.loads(cluster.kubectl("get", "pods", "-A", "-o", "json", timeout=60).stdout)["items"]
    for namespace, pod, image in stale_pods(pods, ids):
        say(f"--- {namespace}/{pod} runs an older build of {image}: restarting it")
        cluster.kubectl("-n", namespace, "delete", "pod", pod, "--wait=false", check=False)


def check_dns(cluster: Cluster, image: str, timeout: float = 150) -> None:
    """A pod resolves kubernetes.default through CoreDNS, retried until `timeout`: after the node
    restarts (a reused cluster after an engine restart) CoreDNS is Ready before its watch of the
    API server has synced, and answers NXDOMAIN meanwhile (measured: "no such host" once)."""
    pod = "platform-verify-dns-check"

    def attempt() -> tuple[bool, str]:
        cluster.kubectl("delete", "pod", pod, "--ignore-not-found", "--wait=true", timeout=120)
        cluster.kubectl(
            "run", pod, f"--image={image}", "--image-pull-policy=Never", "--restart=Never",
            "--command", "--", "/smoke", "resolve", "kubernetes.default.svc.cluster.local",
        )  # fmt: skip
        phase = wait_for(
            lambda: cluster.kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}").stdout,
            what=f"pod {pod} to resolve kubernetes.default via CoreDNS",
            timeout=120,
            interval=2,
            until=lambda phase: phase in ("Succeeded", "Failed"),
        )
        logs = cluster.kubectl("logs", pod, check=False)
        return phase == "Succeeded", (logs.stdout + logs.stderr).strip() or f"pod {phase}"

    try:
        wait_for(attempt, what="CoreDNS to answer from a pod", timeout=timeout, interval=3,
                 until=lambda r: r[0], describe=lambda r: r[1])  # fmt: skip
    except WaitTimeout as exc:
        raise UserError(f"CoreDNS does not answer from a pod: {exc.line()}") from None
    finally:
        cluster.kubectl("delete", "pod", pod, "--ignore-not-found", "--wait=false", check=False)


def down(name: str = DEFAULT_NAME) -> bool:
    """Delete the kind cluster; False if there was none."""
    if name not in kind_clusters():
        return False
    with step(f"kind delete cluster {name}"):
        run([tools.require("kind").path, "delete", "cluster", "--name", name], timeout=600)
    kubeconfig_path(name).unlink(missing_ok=True)
    registry.stop(name)
    return True


def status(name: str = DEFAULT_NAME) -> list[str]:
    """Lines describing what exists: engine, cluster, nodes."""
    lines = []
    if not docker.engine_answers():
        return ["docker engine: not answering (`platform-verify docker up`)"]
    lines.append("docker engine: answering")
    if name not in kind_clusters():
        return [*lines, f"kind cluster {name!r}: absent (`platform-verify cluster up`)"]
    cluster = Cluster(name, kubeconfig_path(name), "kind", "unknown")
    run([tools.require("kind").path, "export", "kubeconfig", "--name", name, "--kubeconfig", cluster.kubeconfig])
    lines.append(f"kind cluster {name!r}: present, kubeconfig {cluster.kubeconfig}")
    try:
        lines.append(cluster.kubectl("get", "nodes", "-o", "wide").stdout.rstrip())
    except CommandError as exc:
        lines.append(f"API server not answering: {exc}")
    return lines
