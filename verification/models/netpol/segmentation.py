"""The platform's segmentation checks: namespaces, quotas, NetworkPolicy hygiene, reachability intent.

Every check is a function returning readable violations (an empty list when all is well), so the
conformance suite and the mutation tests share them. Expectations from
platform/docs/conventions.md are written down here; the model lives in models/netpol/model.py.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from verification.models.netpol.boundaries import Boundaries, differences
from verification.models.netpol.model import (
    EGRESS,
    INGRESS,
    NAME_LABEL,
    Model,
    Policy,
    Port,
    Workload,
    load_workloads,
    parse_reachability,
)
from verification.verdicts.netpol import matrix_verdict
from verification.verdicts.verdict import Verdict
from verification.yamlio import iter_kind, load_file, load_manifests, read_text, source_of

# conventions.md: namespace -> labels it must carry.
NAMESPACE_LABELS: dict[str, dict[str, str]] = {
    "test": {"platform.io/environment": "test", "platform.io/tier": "apps"},
    "staging": {"platform.io/environment": "staging", "platform.io/tier": "apps"},
    "monitoring": {"platform.io/tier": "monitoring"},
    "argocd": {"platform.io/tier": "gitops"},
    "ingress-nginx": {"platform.io/tier": "ingress"},
}
APP_NAMESPACES = ("test", "staging")
PSA_MODES = ("enforce", "audit", "warn")
PSA_LEVELS = ("privileged", "baseline", "restricted")
QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods", "services")
# Used when the workloads file does not list the cluster DNS itself.
DEFAULT_DNS = Workload(
    "kube-system", "coredns", {"k8s-app": "kube-dns"}, (Port(53, "UDP", "dns"), Port(53, "TCP", "dns-tcp"))
)


@dataclass(frozen=True)
class Platform:
    """Everything the checks read: manifests, the model over them, workloads and the intent."""

    objects: list[dict[str, Any]]
    model: Model
    workloads: list[Workload]
    expected: dict[str, dict[str, bool]]
    intent: Any = None  # the reachability file's data (its layer lists too)
    intent_file: str = "reachability.yaml"

    @classmethod
    def load(cls, manifests: Path, intent: Path, objects: list[dict[str, Any]] | None = None) -> "Platform":
        """`objects`: the manifests already loaded (the conformance session fixture), else read."""
        objects = load_manifests([manifests]) if objects is None else objects
        workloads = load_workloads(intent / "workloads.yaml")
        path = intent / "reachability.yaml"
        data = load_file(path)
        expected = parse_reachability(data, str(path), workloads)
        return cls(objects, Model.from_objects(objects), workloads, expected, data, str(path))

    @cached_property
    def boundaries(self) -> Boundaries:
        """Platform + synthetic boundary workloads, their truth table computed once."""
        return Boundaries.of(self.model, self.workloads, self.intent, self.intent_file)


# ---------------------------------------------------------------- reachability


def reachability_verdict(platform: Platform) -> Verdict:
    """The intent (expected) against the truth table (observed); the model explains each differing cell."""
    observed = platform.model.truth_table(platform.workloads)
    why = [why for _src, _target, why in differences(observed, platform.expected)]
    title = "NetworkPolicy truth table against intent/reachability.yaml"
    cause = "\n  ".join(["the model says why:", *why]) if why else ""
    return matrix_verdict(title, platform.expected, observed.as_table(), platform.workloads, cause=cause)


# The boundary checks: platform + synthetic workloads, both sides, then each side alone.
BOUNDARY_CHECKS = {"boundaries": None, "ingress-layer": INGRESS, "egress-layer": EGRESS}


# ---------------------------------------------------------------- NetworkPolicy hygiene


def unselecting_policy_violations(policies: Sequence[Policy], workloads: Sequence[Workload]) -> list[str]:
    """A policy that selects no workload is dead code or a typo in a selector."""
    return [
        f"{p.source}: NetworkPolicy {p.key} selects no workload of intent/workloads.yaml"
        for p in policies
        if not any(p.selects(w) for w in workloads)
    ]


def _is_default_deny(policy: Policy, direction: str) -> bool:
    selector = policy.pod_selector
    selects_all = not selector.get("matchLabels") and not selector.get("matchExpressions")
    rules = policy.ingress if direction == INGRESS else policy.egress
    return selects_all and direction in policy.policy_types and not rules


def default_deny_violations(policies: Sequence[Policy], namespaces: Iterable[str] = APP_NAMESPACES) -> list[str]:
    """Every app namespace has a policy selecting all pods with no rules, in each direction."""
    return [
        f"namespace {ns}: no default-deny {direction} NetworkPolicy "
        f"(podSelector: {{}}, policyTypes including {direction}, no {direction.lower()} rules)"
        for ns in namespaces
        for direction in (INGRESS, EGRESS)
        if not any(p.namespace == ns and _is_default_deny(p, direction) for p in policies)
    ]


def _pins_namespace(selector: Mapping[str, Any]) -> bool:
    if NAME_LABEL in (selector.get("matchLabels") or {}):
        return True
    return any(e["key"] == NAME_LABEL and e["operator"] == "In" for e in selector.get("matchExpressions") or [])


def unpinned_peer_violations(policies: Sequence[Policy], namespaces: Iterable[str] = APP_NAMESPACES) -> list[str]:
    """In app namespaces every peer names its namespace(s) by `kubernetes.io/metadata.name`.

    Kubernetes sets that label and nobody can put it on another namespace, so a pod elsewhere
    that copies the peer's pod labels never matches. (A peer without namespaceSelector means
    the policy's own namespace; ipBlock peers are not pod peers.)
    """
    violations = []
    for p in policies:
        if p.namespace not in namespaces:
            continue
        for field, i, rule in p.rules():
            if not rule.peers:
                violations.append(f"{p.source}: {p.key} {field}[{i}] allows every peer (no from/to)")
            for j, peer in enumerate(rule.peers):
                if peer.namespace_selector is not None and not _pins_namespace(peer.namespace_selector):
                    violations.append(
                        f"{p.source}: {p.key} {field}[{i}] peer {j}: namespaceSelector does not name the "
                        f"namespace by {NAME_LABEL}, so pods of other namespaces can match"
                    )
    return violations


def dns_egress_violations(model: Model, workloads: Sequence[Workload]) -> list[str]:
    """Wherever egress is isolated, DNS to CoreDNS (53/UDP and 53/TCP) must stay allowed."""
    dns = next((w for w in workloads if w.namespace == "kube-system" and w.labels.get("k8s-app") == "kube-dns"), None)
    dns = dns or DEFAULT_DNS
    verdicts = [model.verdict(w, dns, port) for w in workloads for port in (Port(53, "UDP"), Port(53, "TCP"))]
    return [
        f"{v.src.key}: egress is isolated but DNS is denied: {v.explain()}"
        for v in verdicts
        if v.egress.selecting and not v.allowed
    ]


# ---------------------------------------------------------------- namespaces, Pod Security, quotas


def namespace_violations(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each platform namespace exists with its conventions labels and complete PSA labels."""
    found: dict[str, Mapping[str, Any]] = {}
    violations = []
    for declared in iter_kind(objects, "Namespace"):
        name = declared["metadata"].get("name")
        if name in found:
            violations.append(f"namespace {name}: defined twice ({source_of(found[name])}, {source_of(declared)})")
        found[name] = declared
    for ns, wanted in NAMESPACE_LABELS.items():
        obj = found.get(ns)
        if obj is None:
            violations.append(f"namespace {ns}: no Namespace object under platform/manifests")
            continue
        labels = obj["metadata"].get("labels") or {}
        where = f"{source_of(dict(obj))}: namespace {ns}"
        for key, value in wanted.items():
            if labels.get(key) != value:
                violations.append(f"{where}: label {key} is {labels.get(key)!r}, conventions want {value!r}")
        for mode in PSA_MODES:
            level = labels.get(f"pod-security.kubernetes.io/{mode}")
            if level not in PSA_LEVELS:
                violations.append(f"{where}: pod-security.kubernetes.io/{mode} is {level!r}, want one of {PSA_LEVELS}")
            if not labels.get(f"pod-security.kubernetes.io/{mode}-version"):
                violations.append(f"{where}: pod-security.kubernetes.io/{mode}-version is missing (pin it)")
        enforce = labels.get("pod-security.kubernetes.io/enforce")
        if enforce != "restricted" and "Pod Security EXCEPTION" not in _text(source_of(dict(obj))):
            violations.append(
                f"{where}: enforces {enforce!r}, not restricted, without a `# Pod Security EXCEPTION:` comment "
                "in its file saying why"
            )
        if ns in APP_NAMESPACES:
            for mode in PSA_MODES:
                if labels.get(f"pod-security.kubernetes.io/{mode}") != "restricted":
                    violations.append(f"{where}: app namespace must have pod-security.kubernetes.io/{mode}=restricted")
    return violations


def _text(path: str) -> str:
    """The manifest file an object came from, read by the loader's reader; '' for an object that
    came from no file (a unit test's object, `<unknown>`)."""
    return read_text(path) if Path(path).is_file() else ""


def quota_violations(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every Namespace has a ResourceQuota (compute and object counts) and a LimitRange with defaults."""
    violations = []
    namespaces = [o["metadata"].get("name") for o in iter_kind(objects, "Namespace")]
    for ns in namespaces:
        quotas = [o for o in iter_kind(objects, "ResourceQuota") if o["metadata"].get("namespace") == ns]
        hard: dict[str, Any] = {}
        for q in quotas:
            hard.update((q.get("spec") or {}).get("hard") or {})
        if not quotas:
            violations.append(f"namespace {ns}: no ResourceQuota")
        else:
            missing = [k for k in QUOTA_KEYS if k not in hard]
            if missing:
                violations.append(f"namespace {ns}: ResourceQuota lacks {', '.join(missing)}")
        ranges = [o for o in iter_kind(objects, "LimitRange") if o["metadata"].get("namespace") == ns]
        containers = [
            item
            for r in ranges
            for item in (r.get("spec") or {}).get("limits") or []
            if item.get("type") == "Container"
        ]
        if not containers:
            violations.append(f"namespace {ns}: no LimitRange for containers")
        elif not any(item.get("default") and item.get("defaultRequest") for item in containers):
            violations.append(f"namespace {ns}: LimitRange sets no default and defaultRequest for containers")
    return violations


# ---------------------------------------------------------------- all together


def all_violations(platform: Platform) -> dict[str, list[str]]:
    """Every check by name; used by the mutation tests (conformance runs them one by one)."""
    verdicts = {"reachability": reachability_verdict(platform)}
    verdicts |= {name: platform.boundaries.verdict(side) for name, side in BOUNDARY_CHECKS.items()}
    return {
        **{name: v.problems() for name, v in verdicts.items()},
        "unselecting-policies": unselecting_policy_violations(platform.model.policies, platform.workloads),
        "default-deny": default_deny_violations(platform.model.policies),
        "unpinned-peers": unpinned_peer_violations(platform.model.policies),
        "dns-egress": dns_egress_violations(platform.model, platform.workloads),
        "namespaces": namespace_violations(platform.objects),
        "quotas": quota_violations(platform.objects),
    }
