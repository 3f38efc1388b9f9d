"""The live NetworkPolicy matrix: probe pods with the labels of the platform's workloads.

Every workload of platform/intent/workloads.yaml gets two netpol-probe pods in its namespace with
exactly its labels and named container ports: `a` (the source of its row) and `b` (the
destination of its columns), so a workload's cell towards itself crosses the network like every
other cell instead of looping back inside one pod. Probe pods never become Ready (their readiness
probe checks a port nobody serves), so no Service sends them traffic and no app or DNS client is
disturbed; NetworkPolicy enforcement does not depend on readiness.

One `kubectl exec ... netpol-probe connect` per source tries every destination port at once with
a short timeout; sources run in parallel. The observed table has the model's shape
(`Matrix.as_table()`), so `verdicts.netpol.matrix_verdict` compares it with the model.
"""

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from verification.cluster.cluster import Cluster
from verification.models.netpol.model import Workload
from verification.verdicts.netpol import differing
from verification.versions import versions
from verification.wait import wait_for

PREFIX = "netpol-probe"
BINARY = "/bin/netpol-probe"
CONNECT_TIMEOUT = "1s"
PARALLEL = 6
NEVER_SERVED_PORT = 1  # readiness target: the probe pods stay unready, outside every Service


def pod_name(index: int, role: str) -> str:
    return f"{PREFIX}-{index:02d}-{role}"


def pod_manifest(workload: Workload, index: int, role: str, image: str) -> dict[str, Any]:
    args = ["serve"]
    for protocol in ("TCP", "UDP", "SCTP"):
        if ports := sorted({p.port for p in workload.ports if p.protocol == protocol}):
            args += [f"--{protocol.lower()}", ",".join(map(str, ports))]
    if len(args) == 1:  # a pure client still needs a running process to exec into
        args += ["--tcp", "8080"]
    declared = [
        {"containerPort": p.port, "protocol": p.protocol, **({"name": p.name} if p.name else {})}
        for p in workload.ports
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod_name(index, role), "namespace": workload.namespace, "labels": dict(workload.labels)},
        "spec": {
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 0,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
                # ports below 1024 (ingress 80/443, DNS 53) without any capability
                "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
            },
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "args": args,
                    "ports": declared,
                    "readinessProbe": {"tcpSocket": {"port": NEVER_SERVED_PORT}, "periodSeconds": 30},
                    "resources": {
                        "requests": {"cpu": "5m", "memory": "8Mi"},
                        "limits": {"cpu": "100m", "memory": "32Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


@dataclass
class ProbePods:
    """The probe pods of a set of workloads on one cluster; create, wait, probe, delete."""

    cluster: Cluster
    workloads: Sequence[Workload]
    ips: dict[tuple[int, str], str] | None = None
    # Which (source, destination) pairs to probe; None: every pair. The generated cases probe
    # within a lane only (verification/models/netpol/generated.py).
    scope: Callable[[Workload, Workload], bool] | None = None
    parallel: int = PARALLEL

    def manifests(self) -> list[dict[str, Any]]:
        image = versions()["images"]["netpol-probe"]
        return [pod_manifest(w, i, role, image) for i, w in enumerate(self.workloads) for role in ("a", "b")]

    def create(self, timeout: float = 240) -> float:
        """Create every probe pod and wait until all run with an IP; returns the seconds taken."""
        begun = time.monotonic()
        self.delete(wait=True)
        listing = {"apiVersion": "v1", "kind": "List", "items": self.manifests()}
        self.cluster.kubectl("apply", "-f", "-", input=json.dumps(listing), timeout=180)
        running = wait_for(
            self._running,
            what=f"{len(listing['items'])} probe pods running with an IP",
            timeout=timeout,
            interval=2,
            until=lambda found: isinstance(found, dict),
            describe=str,
        )
        assert isinstance(running, dict)  # `until` accepts nothing else
        self.ips = running
        return time.monotonic() - begun

    def _running(self) -> dict[tuple[int, str], str] | str:
        data = json.loads(self.cluster.kubectl("get", "pods", "-A", "-o", "json", timeout=60).stdout)
        found: dict[tuple[int, str], str] = {}
        by_name = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in data["items"]}
        pending = []
        for i, w in enumerate(self.workloads):
            for role in ("a", "b"):
                pod = by_name.get((w.namespace, pod_name(i, role)))
                statuses = (pod or {}).get("status", {}).get("containerStatuses") or []
                if not pod or not pod["status"].get("podIP") or not statuses or not statuses[0].get("started"):
                    phase = pod["status"].get("phase") if pod else "absent"
                    pending.append(f"{w.namespace}/{pod_name(i, role)} ({w.key}) {phase}")
                    continue
                found[(i, role)] = pod["status"]["podIP"]
        return found if not pending else f"{len(pending)} not running: " + ", ".join(pending[:6])

    def delete(self, wait: bool = False) -> None:
        def in_namespace(namespace: str) -> None:
            names = [pod_name(i, r) for i, w in enumerate(self.workloads) if w.namespace == namespace for r in "ab"]
            self.cluster.kubectl(
                "-n", namespace, "delete", "pod", *names, "--ignore-not-found", f"--wait={str(wait).lower()}",
                "--grace-period=0", check=False, timeout=180,
            )  # fmt: skip

        # One kubectl per namespace, side by side: one after another took 6 s for the platform's.
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            list(pool.map(in_namespace, sorted({w.namespace for w in self.workloads})))

    def addresses(self) -> dict[str, tuple[str, str]]:
        """Workload key -> the addresses of its source (`a`) and destination (`b`) pods."""
        assert self.ips is not None, "create() first"
        return {w.key: (self.ips[(i, "a")], self.ips[(i, "b")]) for i, w in enumerate(self.workloads)}

    def observe(self) -> dict[str, dict[str, bool]]:
        """One probe of every (source, destination port) in scope: {src key: {dst target: connected}}."""
        assert self.ips is not None, "create() first"
        ips = self.ips
        urls: dict[str, tuple[str, Workload]] = {}  # probe URL -> (model target label, destination)
        for j, dst in enumerate(self.workloads):
            for port in dst.ports:
                urls[f"{port.protocol.lower()}://{ips[(j, 'b')]}:{port.port}"] = (dst.target(port), dst)

        def row(i: int) -> tuple[str, dict[str, bool]]:
            src = self.workloads[i]
            targets = {u: label for u, (label, dst) in urls.items() if self.scope is None or self.scope(src, dst)}
            if not targets:  # `connect` needs at least one target
                return src.key, {}
            proc = self.cluster.kubectl(
                "-n", src.namespace, "exec", pod_name(i, "a"), "--", BINARY, "connect", "--timeout", CONNECT_TIMEOUT,
                *targets, check=False, timeout=60,
            )  # fmt: skip
            results = {label: False for label in targets.values()}
            for line in proc.stdout.splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                label = targets.get(record.get("target", ""))
                if label is None:
                    label = targets.get(f"{str(record.get('protocol', 'tcp')).lower()}://{record.get('target', '')}")
                if label is not None:
                    results[label] = record.get("result") == "connected"
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"probe from {src.key} failed: {proc.stderr.strip()}")
            return src.key, results

        with ThreadPoolExecutor(self.parallel) as pool:
            return dict(pool.map(row, range(len(self.workloads))))


def await_matrix(
    pods: ProbePods, expected: dict[str, dict[str, bool]], *, timeout: float, what: str,
    on_observe: Callable[[dict[str, dict[str, bool]]], None] = lambda _o: None,
) -> tuple[dict[str, dict[str, bool]], float, int, bool]:  # fmt: skip
    """Probe until the observed matrix equals `expected` or the time is up.

    Returns (last observed, seconds, rounds, equal); never raises for a mismatch (the caller
    prints grids), so a wrong cluster gives a readable report instead of a bare timeout.
    """
    begun = time.monotonic()
    rounds = 0
    last: dict[str, dict[str, bool]] = {}

    def probe() -> dict[str, dict[str, bool]]:
        nonlocal rounds, last
        rounds += 1
        last = pods.observe()
        on_observe(last)
        return last

    try:
        wait_for(
            probe,
            what=what,
            timeout=timeout,
            interval=1,
            until=lambda seen: not differing(expected, seen),
            describe=lambda seen: f"{len(differing(expected, seen))} cells differ",
        )
        equal = True
    except AssertionError:
        equal = False
    return last, time.monotonic() - begun, rounds, equal
