"""The platform deployed on the e2e cluster, in dependency order (session fixture `stack`).

1. CRDs of the pinned prometheus-operator and ArgoCD (the files of the Go modules that
   `platform-verify crds fetch` downloaded), until Established;
2. namespaces, RBAC, NetworkPolicies (platform/manifests/{namespaces,rbac,network-policies});
3. the Secret `alertmanager-receivers` with test values (never in git: runbooks/README.md);
4. the monitoring operator and its custom resources (platform/manifests/monitoring), then the
   ArgoCD projects and applications (no ArgoCD runs in e2e: the API server only accepts them);
5. every app of the e2e profile (verification/catalog.py), blue and green, in namespace `test`
   (Helm, the orchestrator's release code, HELM_DRIVER=configmap).

Everything goes through `kubectl apply --server-side` / `helm upgrade --install`, so a reused
cluster (--keep-cluster) converges instead of failing. When the stack is not Ready in time,
the `stack` fixture (verification/e2e/conftest.py) fails with one line and the failure hook
collects the evidence of every test that needed it.
"""

import json
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from verification import catalog, versions
from verification.bluegreen import release
from verification.cluster import ownership, registry
from verification.cluster.cluster import Cluster
from verification.e2e import not_live
from verification.errors import UserError, WaitTimeout
from verification.models.delivery import chart
from verification.models.schema import crd as crd_schema
from verification.paths import ENVIRONMENTS, MANIFESTS
from verification.run import run
from verification.wait import wait_for
from verification.yamlio import load_file

if TYPE_CHECKING:  # for the annotation only: prometheus() imports the client when it is used
    from prometheus_api_client import PrometheusConnect

APP_NAMESPACE = "test"
PROFILE = "e2e"
# The apps of the e2e profile and their NodePorts (platform/environments/e2e/<app>.yaml).
APPS = catalog.current().apps_in(PROFILE)
NODE_PORTS = catalog.current().node_ports(PROFILE)
MONITORING = "monitoring"
NODEPORT_POLICY = f"{APP_NAMESPACE}/e2e-allow-nodeport-from-host"  # added by the harness, not the platform
PROXY_POLICY = f"{MONITORING}/e2e-allow-apiserver-proxy"  # likewise
HARNESS_POLICIES = (NODEPORT_POLICY, PROXY_POLICY)
E2E_OVERLAY = ENVIRONMENTS / PROFILE / "overlay" / "allowances.yaml"  # the e2e profile's quota and NodePort access
NAMESPACES = (APP_NAMESPACE, "staging", MONITORING, "argocd", "ingress-nginx")
# Test values of the receiver credentials the Alertmanager configuration reads from files.
RECEIVER_SECRET = {
    "slack-webhook-url": "http://alert-receiver.default.svc.cluster.local:8080/hook/slack",
    "pagerduty-routing-key": "e2e-routing-key",
    "smtp-password": "e2e-smtp-password",
    "heartbeat-token": "e2e-heartbeat-token",
}
# Workloads that must be Ready: (namespace, kind, name). The operator creates the StatefulSets.
READY = (
    (MONITORING, "deployment", "prometheus-operator"),
    (MONITORING, "deployment", "kube-state-metrics"),
    (MONITORING, "statefulset", "alertmanager-platform"),
    *((APP_NAMESPACE, "deployment", f"{app}-{color}") for app in APPS for color in ("blue", "green")),
)
# Prometheus is awaited too, but only the alert tests need it: when it is not Ready the stack is
# marked degraded (reason kept) and those tests fail with the reason (the hook collects evidence).
MONITORING_READY = ((MONITORING, "statefulset", "prometheus-platform"),)
READY_TIMEOUT = 420


@dataclass
class Stack:
    cluster: Cluster
    namespace: str = APP_NAMESPACE
    phases: list[tuple[str, float]] = field(default_factory=list)
    degraded: str = ""  # why Prometheus is not Ready ("" when it is)
    urls: dict[str, str] = field(default_factory=dict, repr=False)

    def require_prometheus(self) -> None:
        if self.degraded:
            pytest.fail(f"Prometheus of the stack is not Ready: {self.degraded}", pytrace=False)

    @property
    def kubeconfig(self) -> str:
        return str(self.cluster.kubeconfig)

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return self.cluster.kubectl(*args, input=input, check=check, timeout=timeout)

    def prometheus(self) -> "PrometheusConnect":
        """prometheus-api-client on the stack's Prometheus (API server service proxy)."""
        from verification.probes.prometheus import connect

        self.require_prometheus()
        return connect(self.kubeconfig, MONITORING)

    def set_fault(self, app: str, fault: dict[str, Any] | None) -> list[str]:
        """Set (None: clear) the fault of every pod behind the app's active Service; their names."""
        pods = self.kubectl("-n", self.namespace, "get", "endpoints", app, "-o",
                            "jsonpath={.subsets[*].addresses[*].targetRef.name}").stdout.split()  # fmt: skip
        assert pods, f"the active Service {app} has no endpoints"
        for pod in pods:
            path = f"/api/v1/namespaces/{self.namespace}/pods/{pod}:8080/proxy/admin/faults"
            if fault is None:
                self.kubectl("delete", "--raw", path)
            else:
                self.kubectl("create", "--raw", path, "-f", "-", input=json.dumps(fault))
        return pods

    def url(self, app: str) -> str:
        # 127.0.0.1:<port kind published>, asked of Docker once per app: it holds while the node runs.
        if app not in self.urls:
            self.urls[app] = f"http://{self.cluster.published(NODE_PORTS[app])}"
        return self.urls[app]

    def target(self, app: str) -> release.Target:
        return release.Target(app, PROFILE, self.namespace, None, self.kubeconfig)

    def digest(self, app: str, tag: str | None) -> str | None:
        """The digest the cluster's local registry served for the app's image at `tag` (image
        source `registry`: deploys pin it, as a pipeline pins what its build pushed); else None."""
        if self.cluster.image_source != "registry" or not tag:
            return None
        repository = chart.split_image(versions.image(app))[0]
        digest = registry.served(self.cluster.name).get(f"{repository}:{tag}")
        return str(digest) if digest else None


def crd_files() -> list[Path]:
    """The CRD YAML files of the pinned modules, in the Go module cache `crds fetch` filled."""
    gomodcache = Path(run(["go", "env", "GOMODCACHE"], timeout=60).stdout.strip())
    files: list[Path] = []
    for source in crd_schema.SOURCES:
        escaped = "".join(f"!{c.lower()}" if c.isupper() else c for c in source.module_path)
        directory = gomodcache / f"{escaped}@{source.version}" / source.directory
        found = [f for f in sorted(directory.glob("*.yaml")) if "kind: CustomResourceDefinition" in f.read_text()]
        if not found:
            raise UserError(f"no CRDs of {source.component} in {directory}: run `{crd_schema.FETCH_COMMAND}`")
        files += found
    return files


def rbac_manifests(root: Path = MANIFESTS) -> list[Path]:
    """The platform's RBAC folder and each component's `rbac.yaml` (platform/manifests/<component>/):
    a new component's RBAC is applied by adding its file, with no change here."""
    return [root / "rbac", *sorted(root.glob("*/rbac.yaml"))]


def apply(cluster: Cluster, *paths: Path | str) -> None:
    args = ownership.file_args(paths)
    if cluster.run_id:  # a cluster the suite did not create: take over nothing, mark what it makes
        ownership.refuse_foreign(cluster, paths)
    cluster.kubectl("apply", "--server-side", "--force-conflicts", *args, timeout=300)
    if cluster.run_id:
        ownership.mark(cluster, cluster.run_id, paths)


def apply_receiver_secret(cluster: Cluster) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "alertmanager-receivers", "namespace": MONITORING},
        "type": "Opaque",
        "stringData": RECEIVER_SECRET,
    }
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(secret))


def install_apps(stack: Stack) -> None:
    """Every app with the e2e profile; a reused cluster keeps each release's colour state."""
    for app in APPS:
        target = stack.target(app)
        colours = release.colour_values(target, release.current_values(target))
        for color in chart.COLORS:  # pinned to what this cluster's registry serves, or by tag alone
            colours[color].pop("digest", None)
            if digest := stack.digest(app, colours[color]["tag"]):
                colours[color]["digest"] = digest
        release.apply(target, colours, timeout=300)


def host_networks() -> list[str]:
    """IPv4 subnets of kind's docker network: where NodePort clients on the host come from."""
    out = run(["docker", "network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"], timeout=60)
    return [cidr for cidr in out.stdout.split() if "." in cidr]


def _from_hosts(key: str, selector: dict[str, Any], ports: list[str], cidrs: list[str]) -> dict[str, Any]:
    """An Ingress NetworkPolicy `namespace/name` admitting `cidrs` to `ports` (TCP) of the pods
    `selector` selects. The ipBlock matches no pod, so the pod-to-pod truth table is unchanged."""
    namespace, name = key.split("/")
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": selector,
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"ipBlock": {"cidr": c}} for c in cidrs],
                    "ports": [{"protocol": "TCP", "port": p} for p in ports],
                }
            ],
        },
    }


def nodeport_policy(cidrs: list[str]) -> dict[str, Any]:
    """e2e only: the apps' http port from the host through the NodePort.

    The platform admits app traffic only from the ingress controller; the e2e profile's NodePort
    is reached from the host, whose packets cross the node's FORWARD chain (where the CNI
    enforces policies) with the docker network's source address, before kube-proxy masquerades
    them.
    """
    selector = {
        "matchLabels": {"app.kubernetes.io/part-of": "devops-platform"},
        "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": list(APPS)}],
    }
    return _from_hosts(NODEPORT_POLICY, selector, e2e_overlay()["nodeportAccess"]["ports"], cidrs)


def proxy_policy(cidrs: list[str]) -> dict[str, Any]:
    """e2e only: the monitoring components' web port from the nodes, for the API server's proxy.

    The suite reads Prometheus and Alertmanager through the API server's service proxy, whose
    packets come from the control-plane node's address. The CNI admits a node's own address
    to the pods on that node, so one node hid it; on several nodes (the control-plane tainted,
    every pod on a worker) the platform's policies denied it and Alertmanager never answered.
    """
    access = e2e_overlay()["proxyAccess"]
    selector = {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": access["pods"]}]}
    return _from_hosts(PROXY_POLICY, selector, access["ports"], cidrs)


def allow_host_access(cluster: Cluster) -> None:
    if cluster.provider != "kind":
        return  # an existing cluster keeps its own policies
    cidrs = host_networks()
    listing = {"apiVersion": "v1", "kind": "List", "items": [nodeport_policy(cidrs), proxy_policy(cidrs)]}
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(listing))


def e2e_overlay() -> dict[str, Any]:
    """The e2e profile's own allowances (platform/environments/e2e/overlay/allowances.yaml)."""
    return load_file(E2E_OVERLAY) or {}


def nodeport_quota(cluster: Cluster) -> None:
    """e2e only: room for the e2e profile's NodePorts in namespace test, from the e2e overlay.

    A NodePort Service takes one node port per Service port, so each app's active Service (http
    and metrics) needs 2; platform/manifests/namespaces/test.yaml allows none
    (`services.nodeports: "0"`), so the overlay raises it on the e2e cluster only.
    """
    overlay = e2e_overlay()
    patch = {"spec": {"hard": {k: str(v) for k, v in (overlay.get("quota") or {}).items()}}}
    args = ["-n", overlay.get("namespace", APP_NAMESPACE), "patch", "resourcequota", "compute", "--type=merge"]
    cluster.kubectl(*args, "-p", json.dumps(patch))


def crashing(cluster: Cluster, namespace: str) -> list[str]:
    """Containers of `namespace` restarting again and again, with the last lines they printed."""
    pods = json.loads(cluster.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
    found = []
    for pod in pods:
        for status in pod.get("status", {}).get("containerStatuses") or []:
            if status.get("restartCount", 0) >= 3 and not status.get("ready"):
                name = pod["metadata"]["name"]
                logs = cluster.kubectl("-n", namespace, "logs", name, "-c", status["name"], "--previous", "--tail=1",
                                       check=False).stdout.strip()  # fmt: skip
                found.append(f"{namespace}/{name} container {status['name']} restarted {status['restartCount']}x: "
                             f"{logs[-400:]}")  # fmt: skip
    return found


def not_ready(cluster: Cluster, workloads: Iterable[tuple[str, str, str]] = READY) -> list[str]:
    """What is not Ready yet, one phrase per workload ([] when all are)."""
    pending = []
    for namespace, kind, name in workloads:
        proc = cluster.kubectl("-n", namespace, "get", kind, name, "-o", "json", check=False)
        if proc.returncode != 0:
            pending.append(f"{namespace}/{kind}/{name} absent")
            continue
        obj = json.loads(proc.stdout)
        want = obj["spec"].get("replicas", 1)
        status = obj.get("status", {})
        ready = status.get("readyReplicas", 0)
        updated = status.get("updatedReplicas", 0)
        if ready < want or updated < want:
            pending.append(f"{namespace}/{kind}/{name} {ready}/{want} ready, {updated} updated")
        elif status.get("replicas", 0) > want:  # pods of an old ReplicaSet or revision still run
            pending.append(f"{namespace}/{kind}/{name} {status['replicas'] - want} old pod(s) still running")
    return pending


def terminating(cluster: Cluster, namespaces: Iterable[str]) -> list[str]:
    """Pods still terminating: a test that diffs the namespace right after a deploy would see them go."""
    found = []
    for namespace in sorted(set(namespaces)):
        pods = json.loads(cluster.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
        found += [f"{namespace}/pod/{p['metadata']['name']} terminating" for p in pods
                  if p["metadata"].get("deletionTimestamp")]  # fmt: skip
    return found


def unsettled(cluster: Cluster) -> list[str]:
    """What keeps the stack from being settled: workloads not Ready, old or terminating pods."""
    return not_ready(cluster) + terminating(cluster, (namespace for namespace, _, _ in READY))


def deploy(stack: Stack) -> None:
    cluster = stack.cluster

    def phase(name: str, action: Callable[[], object]) -> None:
        begun = time.monotonic()
        action()
        stack.phases.append((name, time.monotonic() - begun))

    def crds() -> None:
        apply(cluster, *crd_files())
        cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=120s", timeout=150)

    phase("CRDs", crds)
    phase("namespaces", lambda: apply(cluster, MANIFESTS / "namespaces"))
    phase("e2e NodePort quota", lambda: nodeport_quota(cluster))
    # The components' RBAC too, though their images cannot run here (NOT PROVEN LIVE): the live SAR
    # comparison then covers every RBAC object of the repository, not the ones whose pods run.
    phase("RBAC", lambda: apply(cluster, *rbac_manifests()))
    phase("NetworkPolicies", lambda: apply(cluster, MANIFESTS / "network-policies"))
    phase("receiver secret", lambda: apply_receiver_secret(cluster))
    # Grafana's image has no offline source: not applied, listed as not proven live (not_live.py).
    phase("monitoring", lambda: apply(cluster, *not_live.runnable(MANIFESTS / "monitoring")))
    phase("argocd objects", lambda: apply(cluster, MANIFESTS / "argocd"))
    phase("apps (helm)", lambda: install_apps(stack))
    phase("e2e NodePort and proxy access", lambda: allow_host_access(cluster))
    phase(
        "wait Ready",
        lambda: wait_for(
            lambda: unsettled(cluster),
            what="the platform stack to be Ready, with no old or terminating pod",
            timeout=READY_TIMEOUT,
            interval=3,
            until=lambda pending: not pending,
            describe=lambda pending: "; ".join(
                pending + crashing(cluster, MONITORING) + crashing(cluster, APP_NAMESPACE)
            ),
        ),
    )
    phase("wait Prometheus", lambda: await_prometheus(stack))


def await_prometheus(stack: Stack) -> None:
    try:
        wait_for(
            lambda: not_ready(stack.cluster, MONITORING_READY),
            what="Prometheus to be Ready",
            timeout=180,
            interval=3,
            until=lambda pending: not pending or bool(crashing(stack.cluster, MONITORING)),
            describe=lambda pending: "; ".join(pending),
        )
    except WaitTimeout as exc:
        stack.degraded = exc.line()
    if not stack.degraded and not_ready(stack.cluster, MONITORING_READY):
        stack.degraded = "; ".join(crashing(stack.cluster, MONITORING)) or "not Ready"
    if stack.degraded:
        print(f"\nWARNING: stack degraded, Prometheus not Ready: {stack.degraded}")
