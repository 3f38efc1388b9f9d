"""Scale: a generated 50,000-resource manifest set through the loader, the RBAC model and the NetworkPolicy table.

Usage: python benchmarks/scale.py [--resources N] [--netpol-namespaces K] [--queries Q]

The set (written to a temp dir, one file per namespace like a GitOps repository): per namespace a
Namespace, ServiceAccounts, Deployments with realistic pod templates, Services, Roles,
RoleBindings and NetworkPolicies (default deny, DNS egress, app-to-app rules with AND peers and
port ranges), plus cluster-wide ClusterRoles (some aggregated) and ClusterRoleBindings.

Each phase runs in its own subprocess, so peak memory (ru_maxrss) belongs to that phase alone.
Baselines, measured in the same run on the same files: yaml.load_all with libyaml's CSafeLoader
(the fastest parse PyPI's PyYAML offers) and yaml.safe_load_all (pure Python, what most scripts use).
The NetworkPolicy truth table is quadratic in workloads (every ordered pair x every destination
port), so it is measured over the workloads of the first K namespaces against ALL policies.
Goal (issue 13): >= 2,000 resources/s and <= 1 GiB for load + RBAC.
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

GOAL_RATE = 2_000.0
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _clock() -> float:
    # CPU seconds of this process: the machine is shared (load average far above its 2 cores), so wall
    # time measures the neighbours; CPU time measures the code. Wall time is printed beside it.
    return time.process_time()


GOAL_RSS_MIB = 1024.0
PER_NAMESPACE = {"ServiceAccount": 4, "Deployment": 30, "Service": 30, "Role": 8, "RoleBinding": 8, "NetworkPolicy": 19}
CLUSTER_ROLES = 50
CLUSTER_BINDINGS = 50
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
RESOURCES = [
    ("", "pods"),
    ("", "pods/log"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("networking.k8s.io", "networkpolicies"),
]


# ------------------------------------------------------------------------------------ generator


def _deployment(ns: str, app: str, i: int) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": f"suite-{i % 5}", "tier": f"t{i % 3}"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": ns, "labels": labels, "annotations": {"owner": f"team-{i % 7}"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": dict(labels)},  # a shared dict would be dumped as an alias
                "spec": {
                    "serviceAccountName": f"sa-{i % 4}",
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": "app",
                            "image": f"registry.example.com/{app}:1.{i}.0",
                            "ports": [
                                {"name": "http", "containerPort": 8080},
                                {"name": "metrics", "containerPort": 9090},
                            ],
                            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
                            "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        },
    }


def _service(ns: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": app, "namespace": ns, "labels": {"app.kubernetes.io/name": app}},
        "spec": {
            "selector": {"app.kubernetes.io/name": app},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "metrics", "port": 9090}],
        },
    }


def _role(ns: str, i: int, rng: random.Random) -> dict[str, Any]:
    rules = []
    for _ in range(rng.randint(2, 4)):
        picked = rng.sample(RESOURCES, 2)
        groups = sorted({g for g, _ in picked})
        rules.append({"apiGroups": groups, "resources": [r for _, r in picked], "verbs": rng.sample(VERBS, 3)})
    if i == 0:
        rules.append(
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app-config"], "verbs": ["get"]}
        )
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": f"role-{i}", "namespace": ns},
        "rules": rules,
    }


def _role_binding(ns: str, i: int, n_ns: int, rng: random.Random) -> dict[str, Any]:
    subjects: list[dict[str, Any]] = [{"kind": "ServiceAccount", "name": f"sa-{i % 4}", "namespace": ns}]
    subjects.append({"kind": "Group", "name": f"team-{i % 7}", "apiGroup": "rbac.authorization.k8s.io"})
    if i % 3 == 0:  # a CI deployer of another namespace
        subjects.append({"kind": "ServiceAccount", "name": "deployer", "namespace": f"ns-{rng.randrange(n_ns):04d}"})
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"role-{i}"}
    if i >= 6:
        role_ref = {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": f"platform-{i * 3 % CLUSTER_ROLES}",
        }
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"binding-{i}", "namespace": ns},
        "roleRef": role_ref,
        "subjects": subjects,
    }


def _policies(ns: str, apps: list[str], rng: random.Random) -> list[dict[str, Any]]:
    meta = lambda name: {"name": name, "namespace": ns}  # noqa: E731
    api = "networking.k8s.io/v1"
    found = [
        {
            "apiVersion": api,
            "kind": "NetworkPolicy",
            "metadata": meta("default-deny"),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": api,
            "kind": "NetworkPolicy",
            "metadata": meta("allow-dns"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        },
    ]
    for j in range(PER_NAMESPACE["NetworkPolicy"] - 2):
        dst, src = apps[j % len(apps)], apps[(j * 7 + 3) % len(apps)]
        peer: dict[str, Any] = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": src}}}
        if j % 4 == 0:
            peer["namespaceSelector"] = {
                "matchExpressions": [{"key": "team", "operator": "In", "values": [f"team-{rng.randrange(7)}"]}]
            }
        port: dict[str, Any] = {"protocol": "TCP", "port": 8080}
        if j % 5 == 0:
            port = {"protocol": "TCP", "port": 9000, "endPort": 9100}
        found.append(
            {
                "apiVersion": api,
                "kind": "NetworkPolicy",
                "metadata": meta(f"allow-{src}-to-{dst}"),
                "spec": {
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": dst}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [peer], "ports": [port, {"protocol": "TCP", "port": "metrics"}]}],
                },
            }
        )
    return found


def _cluster_objects() -> list[dict[str, Any]]:
    rbac = "rbac.authorization.k8s.io/v1"
    found: list[dict[str, Any]] = []
    for i in range(CLUSTER_ROLES):
        labels = {"platform.example.com/aggregate-to-ops": "true"} if i % 5 == 0 else {}
        role: dict[str, Any] = {
            "apiVersion": rbac,
            "kind": "ClusterRole",
            "metadata": {"name": f"platform-{i}", "labels": labels},
        }
        if i % 10 == 9:
            role["aggregationRule"] = {
                "clusterRoleSelectors": [{"matchLabels": {"platform.example.com/aggregate-to-ops": "true"}}]
            }
            role["rules"] = []
        else:
            group, res = RESOURCES[i % len(RESOURCES)]
            role["rules"] = [{"apiGroups": [group], "resources": [res], "verbs": VERBS[: 1 + i % len(VERBS)]}]
            if i % 7 == 0:
                role["rules"].append({"nonResourceURLs": ["/metrics", "/healthz"], "verbs": ["get"]})
        found.append(role)
    for i in range(CLUSTER_BINDINGS):
        found.append(
            {
                "apiVersion": rbac,
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"platform-{i}"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"platform-{i}"},
                "subjects": [{"kind": "Group", "name": f"ops-{i % 4}", "apiGroup": "rbac.authorization.k8s.io"}],
            }
        )
    return found


def generate(root: Path, resources: int) -> dict[str, int]:
    """Write the set; returns the count per kind (sums to `resources`)."""
    rng = random.Random(13)
    per_ns = 1 + sum(PER_NAMESPACE.values())
    n_ns = (resources - CLUSTER_ROLES - CLUSTER_BINDINGS) // per_ns
    counts: dict[str, int] = {}
    cluster = _cluster_objects()
    (root / "cluster.yaml").write_text(yaml.dump_all(cluster, Dumper=_DUMPER, sort_keys=False))
    for obj in cluster:
        counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
    for n in range(n_ns):
        ns = f"ns-{n:04d}"
        apps = [f"app-{n:04d}-{i}" for i in range(PER_NAMESPACE["Deployment"])]
        labels = {
            "kubernetes.io/metadata.name": ns,
            "team": f"team-{n % 7}",
            "pod-security.kubernetes.io/enforce": "restricted",
        }
        objs: list[dict[str, Any]] = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}
        ]
        objs += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"sa-{i}", "namespace": ns}}
            for i in range(4)
        ]
        objs += [_deployment(ns, app, i) for i, app in enumerate(apps)]
        objs += [_service(ns, app) for app in apps]
        objs += [_role(ns, i, rng) for i in range(PER_NAMESPACE["Role"])]
        objs += [_role_binding(ns, i, n_ns, rng) for i in range(PER_NAMESPACE["RoleBinding"])]
        objs += _policies(ns, apps, rng)
        (root / f"{ns}.yaml").write_text(yaml.dump_all(objs, Dumper=_DUMPER, sort_keys=False))
        for obj in objs:
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
    return counts


# ---------------------------------------------------------------------------------------- phases


def _files(root: Path) -> list[Path]:
    return sorted(root.glob("*.yaml"))


def _phase_baseline_c(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    started = _clock()
    docs = [d for f in _files(root) for d in yaml.load_all(f.read_text(), Loader=loader) if d]  # held, as load does
    return {"objects": len(docs), "seconds": _clock() - started}


def _phase_baseline_py(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    started = _clock()
    docs = [d for f in _files(root) for d in yaml.safe_load_all(f.read_text()) if d]
    return {"objects": len(docs), "seconds": _clock() - started}


def _phase_load(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    from verification.yamlio import load_manifests

    started = _clock()
    objects = load_manifests([root])
    return {"objects": len(objects), "seconds": _clock() - started}


def _queries(n_ns: int, count: int) -> list[tuple[str, list[str], str, str, str, str]]:
    rng = random.Random(7)
    found = []
    for _ in range(count):
        ns = f"ns-{rng.randrange(n_ns):04d}"
        user = rng.choice([f"system:serviceaccount:{ns}:sa-{rng.randrange(4)}", "alice"])
        groups = (
            [f"team-{rng.randrange(7)}"]
            if user == "alice"
            else ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
        )
        group, res = rng.choice(RESOURCES)
        found.append((user, [*groups, "system:authenticated"], rng.choice(VERBS), group, res, ns))
    return found


def _phase_rbac(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    from verification.models.rbac.authorizer import Authorizer, Request
    from verification.yamlio import load_manifests

    started = _clock()
    objects = load_manifests([root])
    loaded = _clock()
    authorizer = Authorizer.from_objects(objects)
    authorizer.role_exists("ClusterRole", "platform-0")  # force the role index and aggregation
    authorizer.role_rules("ClusterRole", "platform-9", "")
    built = _clock()
    n_ns = sum(1 for o in objects if o["kind"] == "Namespace")
    allowed = 0
    for user, groups, verb, group, res, ns in _queries(n_ns, args.queries):
        resource_name, _, sub = res.partition("/")
        request = Request(
            user, tuple(groups), verb, resource=resource_name, subresource=sub, api_group=group, namespace=ns
        )
        allowed += authorizer.grant_for(request) is not None
    answered = _clock()
    return {
        "objects": len(objects),
        "seconds": answered - started,
        "load_seconds": loaded - started,
        "build_seconds": built - loaded,
        "query_seconds": answered - built,
        "queries": args.queries,
        "allowed": allowed,
        "roles": len(authorizer.roles),
        "bindings": len(authorizer.bindings),
    }


def _phase_netpol(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    from verification.models.netpol.model import Model, parse_workloads
    from verification.yamlio import load_manifests

    started = _clock()
    objects = load_manifests([root])
    loaded = _clock()
    model = Model.from_objects(objects)
    built = _clock()
    chosen = {f"ns-{n:04d}" for n in range(args.netpol_namespaces)}
    raw = []
    for obj in objects:
        meta = obj["metadata"]
        if obj["kind"] == "Deployment" and meta["namespace"] in chosen:
            raw.append(
                {
                    "namespace": meta["namespace"],
                    "name": meta["name"],
                    "labels": obj["spec"]["template"]["metadata"]["labels"],
                    "ports": [{"port": 8080, "name": "http"}, {"port": 9090, "name": "metrics"}],
                }
            )
    workloads = parse_workloads(raw, "generated workloads")
    matrix = model.truth_table(workloads)
    cells = sum(len(row) for row in matrix.as_table().values())
    done = _clock()
    return {
        "objects": len(objects),
        "policies": sum(1 for o in objects if o["kind"] == "NetworkPolicy"),
        "workloads": len(workloads),
        "cells": cells,
        "seconds": done - started,
        "load_seconds": loaded - started,
        "build_seconds": built - loaded,
        "table_seconds": done - built,
    }


PHASES = {
    "baseline-libyaml": _phase_baseline_c,
    "baseline-pure-python": _phase_baseline_py,
    "load": _phase_load,
    "rbac": _phase_rbac,
    "netpol": _phase_netpol,
}


def _run_phase(name: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--phase", name, "--dir", str(root)]
    argv += ["--queries", str(args.queries), "--netpol-namespaces", str(args.netpol_namespaces)]
    wall = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"phase {name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "wall": time.perf_counter() - wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=5_000, help="RBAC questions answered after the build")
    parser.add_argument("--netpol-namespaces", type=int, default=10, help="namespaces whose workloads form the table")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only", action="append", choices=sorted(PHASES), help="run only these phases")
    args = parser.parse_args()
    if args.phase:  # child: one phase, one JSON line with its own peak memory
        result = PHASES[args.phase](args.dir, args)
        result["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="platform-verify-scale-") as tmp:
        root = Path(tmp)
        started = _clock()
        counts = generate(root, args.resources)
        size = sum(f.stat().st_size for f in _files(root))
        total = sum(counts.values())
        print(
            f"scale benchmark: {total:,} resources, {size / 2**20:.1f} MiB in {len(_files(root))} files "
            f"(generated in {_clock() - started:.1f} s)"
        )
        print("  " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items())))
        results = {name: _run_phase(name, root, args) for name in (args.only or PHASES)}
    _report(results, total)
    load_rbac = results.get("rbac")
    if load_rbac:
        rate = total / (load_rbac["load_seconds"] + load_rbac["build_seconds"])
        ok = rate >= GOAL_RATE and load_rbac["max_rss_mib"] <= GOAL_RSS_MIB
        print(
            f"goal load + RBAC >= {GOAL_RATE:,.0f} resources/s and <= {GOAL_RSS_MIB:,.0f} MiB: "
            f"{rate:,.0f}/s, {load_rbac['max_rss_mib']:,.0f} MiB -> {'met' if ok else 'NOT met'}"
        )
    return 0


def _report(results: dict[str, dict[str, Any]], total: int) -> None:
    base = results.get("baseline-libyaml")
    header = f"  {'phase':22} {'CPU s':>8} {'resources/s':>12} {'peak MiB':>9}"
    print(f"{header}  ratios against the libyaml baseline  (wall s)")
    for name, r in results.items():
        ratio = (
            f"time x{r['seconds'] / base['seconds']:.2f}, memory x{r['max_rss_mib'] / base['max_rss_mib']:.2f}"
            if base
            else ""
        )
        figures = f"{r['seconds']:8.2f} {total / r['seconds']:12,.0f} {r['max_rss_mib']:9,.0f}"
        print(f"  {name:22} {figures}  {ratio}  ({r['wall']:.1f})")
    if "rbac" in results:
        r = results["rbac"]
        print(
            f"    rbac: load {r['load_seconds']:.2f} s, authorizer build {r['build_seconds']:.2f} s "
            f"({r['roles']:,} roles, {r['bindings']:,} bindings), {r['queries']:,} queries in "
            f"{r['query_seconds']:.2f} s ({r['queries'] / max(r['query_seconds'], 1e-9):,.0f}/s, "
            f"{r['allowed']:,} allowed)"
        )
    if "netpol" in results:
        r = results["netpol"]
        print(
            f"    netpol: load {r['load_seconds']:.2f} s, "
            f"model of {r['policies']:,} policies {r['build_seconds']:.2f} s, "
            f"truth table {r['workloads']} workloads x {r['cells']:,} cells in {r['table_seconds']:.2f} s "
            f"({r['cells'] / max(r['table_seconds'], 1e-9):,.0f} cells/s; quadratic in workloads, so a subset)"
        )


if __name__ == "__main__":
    sys.exit(main())
