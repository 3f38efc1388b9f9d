"""Adversarial workloads derived from the NetworkPolicies themselves, and each layer on its own.

The platform's workloads rarely sit on a policy's boundary: no pod tells a peer
`{namespaceSelector, podSelector}` (AND) from the two peers `{namespaceSelector}`, `{podSelector}`
(OR), and no port tells `port: 9100` from `port: 9100, endPort: 9200`. This module places
synthetic workloads on every such boundary, so the truth table over platform + synthetic
workloads changes when a boundary moves:

- `pods-elsewhere`: for every peer with a podSelector, a pod matching the selector in a namespace
  the peer does not admit (the policy's own namespace, and `default`, a namespace with no labels);
- `near-miss`: for every peer, in each namespace it admits, pods that fail exactly one
  requirement of its pod selector;
- `ports`: for every port of a rule and every port of an intent flow, the pod that serves it
  gains the neighbouring ports (port-1, port+1, endPort+1), the same number on the other
  protocols, and on a pod synthesized for the rule a named port's number without its name (a
  platform workload that gains ports keeps its key, so the intent's rows for it still apply);
- `no-labels`: a pod without labels in every namespace, `default` (a namespace without labels) too;
- `twin`: every platform workload's labels and ports in `default`.
The last two and the intent's ports do not depend on the policies, so a mutated policy cannot
carry its own boundary along. Every workload gets an address in the pod subnet, so an ipBlock
that holds pod addresses shows.

The intent (platform/intent/reachability.yaml) judges them like any workload: a synthetic pod is
denied everything unless a flow's pattern names it (`test/*` does; `test/<app>-*` does not),
in `allow` or in `boundary_allow` (flows only pods outside workloads.yaml can show).

A rule widened on one side is often masked by the other (an ingress rule opened to a namespace
whose egress is default-deny), so `Boundaries.verdict(side)` also evaluates each direction alone,
the other side open, against `allow` + `boundary_allow` + the intent's `ingress_only` or
`egress_only` flows, and names the policy and rule (`ns/name ingress[0]`) that allows a cell the
intent does not.
"""

import dataclasses
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any

from verification.models import selectors
from verification.models.netpol.model import (
    BOUNDARY_KEY,
    LAYER_KEYS,
    PROTOCOLS,
    Matrix,
    Model,
    Peer,
    Policy,
    PolicyPort,
    Port,
    Rule,
    Workload,
    intent_table,
)
from verification.verdicts.netpol import matrix_verdict
from verification.verdicts.verdict import Verdict

# A namespace without a Namespace object under platform/manifests: only kubernetes.io/metadata.name.
UNLABELLED_NAMESPACE = "default"
DEFAULT_PORT = Port(8080, "TCP", "http")  # carried by synthetic pods whose rule allows every port
PREFIX = "~"  # synthetic workload names start with it: `test/~near-miss-3`
POD_SUBNET = "10.244.0.0/16"  # kind's default pod subnet (platform/kind/cluster.yaml keeps it)


@dataclass(frozen=True)
class Synthetic:
    """A synthetic workload and the boundaries it sits on (`ns/policy ingress[0] peer 0: ...`)."""

    workload: Workload
    kind: str
    reasons: tuple[str, ...]


# ---------------------------------------------------------------- labels on a selector's edge


def satisfying(selector: Mapping[str, Any]) -> dict[str, str] | None:
    """The fewest labels a selector matches, or None when no label set can match it."""
    labels = {k: str(v) for k, v in (selector.get("matchLabels") or {}).items()}
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], [str(v) for v in expr.get("values") or []]
        if op == "In" and key not in labels:
            labels[key] = values[0]
        elif op == "Exists" and key not in labels:
            labels[key] = "present"
    return labels if selectors.matches(selector, labels) else None


def near_misses(selector: Mapping[str, Any]) -> list[dict[str, str]]:
    """Label sets failing exactly one requirement of the selector (each one in turn)."""
    base = satisfying(selector)
    if base is None:
        return []
    found: list[dict[str, str]] = []
    requirements = [("label", k, [str(v)]) for k, v in (selector.get("matchLabels") or {}).items()]
    requirements += [
        (e["operator"], e["key"], [str(v) for v in e.get("values") or []])
        for e in selector.get("matchExpressions") or []
    ]
    for op, key, values in requirements:
        labels = dict(base)
        if op in ("label", "In"):
            labels[key] = "not-" + "-".join(values)
        elif op == "NotIn":
            labels[key] = values[0]
        elif op == "Exists":
            labels.pop(key, None)
        else:  # DoesNotExist
            labels[key] = "present"
        if not selectors.matches(selector, labels) and labels not in found:
            found.append(labels)
    return found


# ---------------------------------------------------------------- synthetic workloads


class _Builder:
    """Collects synthetic pods, merging those with the same namespace and labels."""

    def __init__(self, model: Model, workloads: Sequence[Workload]) -> None:
        self.model = model
        self.workloads = workloads
        self.namespaces = sorted({*model.namespace_labels, *(w.namespace for w in workloads), UNLABELLED_NAMESPACE})
        self.pods: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, list[Port], list[str]]] = {}

    def add(self, kind: str, namespace: str, labels: Mapping[str, str], ports: Iterable[Port], reason: str) -> None:
        key = (namespace, tuple(sorted(labels.items())))
        _kind, have, reasons = self.pods.setdefault(key, (kind, [], []))
        for port in ports:
            if any(p.port == port.port and p.protocol == port.protocol for p in have):
                continue
            if port.name and any(p.name == port.name for p in have):
                port = Port(port.port, port.protocol)  # pod port names are unique
            have.append(port)
        if reason not in reasons:
            reasons.append(reason)

    def admitted(self, peer: Peer, policy: Policy) -> list[str]:
        """Namespaces whose pods the peer can match."""
        if peer.namespace_selector is None:
            return [policy.namespace]
        return [
            ns
            for ns in self.namespaces
            if selectors.matches(peer.namespace_selector, self.model.labels_of_namespace(ns))
        ]

    def resolve(self, rule_port: PolicyPort, destinations: Sequence[Workload]) -> list[Port]:
        """The ports a rule port allows, a named one as the rule's destination workloads declare it."""
        if rule_port.port is None:
            return [Port(DEFAULT_PORT.port, rule_port.protocol, DEFAULT_PORT.name)]
        if isinstance(rule_port.port, int):
            ends = {rule_port.port, rule_port.end_port or rule_port.port}
            return [Port(p, rule_port.protocol) for p in sorted(ends)]
        named = {
            p for w in destinations for p in w.ports if p.name == rule_port.port and p.protocol == rule_port.protocol
        }
        return sorted(named, key=lambda p: p.port)

    def rule_ports(self, rule: Rule, destinations: Sequence[Workload]) -> list[Port]:
        return [p for rp in rule.ports for p in self.resolve(rp, destinations)] or [DEFAULT_PORT]

    def destinations(self, field: str, rule: Rule, policy: Policy) -> list[Workload]:
        """The platform workloads a rule's ports are on: the selected pods (ingress) or the peers (egress)."""
        if field == "ingress":
            return [w for w in self.workloads if policy.selects(w)]
        return [
            w
            for w in self.workloads
            if not rule.peers
            or any(
                p.ip_block is None
                and w.namespace in self.admitted(p, policy)
                and selectors.matches(p.pod_selector or {}, w.labels)
                for p in rule.peers
            )
        ]

    def build(self) -> tuple[list[Workload], list[Synthetic]]:
        """(the platform's workloads, with boundary ports added, and the new synthetic workloads).

        A pod with exactly a platform workload's namespace and labels IS that workload to every
        policy, so its boundary ports go onto the workload itself (the intent's rows for it apply)."""
        real = {(w.namespace, tuple(sorted(w.labels.items()))): w for w in self.workloads}
        extra: dict[str, tuple[list[Port], list[str]]] = {}
        found: list[Synthetic] = []
        for key, (kind, ports, reasons) in sorted(self.pods.items()):
            if key in real:
                extra[real[key].key] = (ports, reasons)
                continue
            namespace, labels = key
            workload = Workload(
                namespace, f"{PREFIX}{kind}-{len(found) + 1}", dict(labels), tuple(ports or [DEFAULT_PORT])
            )
            found.append(Synthetic(workload, kind, tuple(reasons)))
        augmented = []
        for w in self.workloads:
            ports, reasons = extra.get(w.key, ([], []))
            names = {p.name for p in w.ports if p.name}
            added = [
                p if p.name not in names else Port(p.port, p.protocol)
                for p in ports
                if not any(q.port == p.port and q.protocol == p.protocol for q in w.ports)
            ]
            augmented.append(Workload(w.namespace, w.name, w.labels, (*w.ports, *added), w.ip))
            if added:
                found.append(Synthetic(augmented[-1], "ports", tuple(reasons)))
        return augmented, found


def _neighbours(port: Port, end: int | None) -> list[Port]:
    """port-1, port+1 (endPort+1 for a range), and the same number on the other protocols."""
    numbers = [port.port - 1, (end or port.port) + 1]
    found = [Port(n, port.protocol) for n in numbers if 1 <= n <= 65535]
    found.append(Port(port.port, port.protocol))  # a named port's number without the name
    others = [p for p in PROTOCOLS if p != port.protocol]
    # The first other protocol keeps the name: a rule on `metrics/TCP` must not admit `metrics/UDP`.
    found += [Port(port.port, proto, port.name if i == 0 else None) for i, proto in enumerate(others)]
    return found


def synthetic_workloads(
    model: Model, workloads: Sequence[Workload], intent: Any = None
) -> tuple[list[Workload], list[Synthetic]]:
    """(platform workloads with their boundary ports, every boundary workload), in a stable order.

    The synthetic list also holds the platform workloads that gained ports (kind `ports`). The
    ports around each flow of the intent are added as well: boundaries derived only from the
    policies move with them, so a rule widened to a range would carry its own neighbours along."""
    b = _Builder(model, workloads)
    for flow in (intent or {}).get("allow") or []:
        _intent_ports(b, flow)
    for policy in model.policies:
        selected = next((w for w in workloads if policy.selects(w)), None)
        own_labels = dict(selected.labels) if selected else satisfying(policy.pod_selector)
        for field, i, rule in policy.rules():
            at = f"{policy.key} {field}[{i}]"
            destinations = b.destinations(field, rule, policy)
            ports = b.rule_ports(rule, destinations)
            for j, peer in enumerate(rule.peers):
                if peer.ip_block is not None:
                    continue
                admitted = b.admitted(peer, policy)
                pod_selector = peer.pod_selector or {}
                labels = satisfying(pod_selector)
                if peer.pod_selector is not None and labels is not None:  # AND: its pods, wrong namespace
                    for ns in (policy.namespace, UNLABELLED_NAMESPACE):
                        if ns not in admitted:
                            b.add(
                                "pods-elsewhere", ns, labels, ports, f"{at} peer {j}: its pods outside its namespaces"
                            )
                for ns in admitted:
                    for miss in near_misses(pod_selector):
                        b.add("near-miss", ns, miss, ports, f"{at} peer {j}: in namespace {ns}, one label wrong")
            # Where the rule's destination pods live: the selected pods (ingress) or each peer (egress).
            if field == "ingress":
                homes = [(policy.namespace, own_labels)] if own_labels is not None else []
            elif not rule.peers:
                homes = [(UNLABELLED_NAMESPACE, {})]
            else:
                homes = [h for peer in rule.peers if (h := _home(b, peer, policy)) is not None]
            for rule_port in rule.ports:
                adversarial = [
                    n
                    for p in b.resolve(rule_port, destinations)
                    for n in _neighbours(p, rule_port.end_port)
                    if not any(_allows(rp, n) for rp in rule.ports)
                ]
                for ns, labels in homes:
                    b.add("ports", ns, labels, adversarial, f"{at}: the ports around {_port_text(rule_port)}")
    # Independent of the policies, so a mutated policy cannot carry them away: a pod without
    # labels in every namespace (a peer reduced to its namespaceSelector meets one), and every
    # platform workload's twin in `default` (a peer's namespace widened meets one).
    for namespace in b.namespaces:
        b.add("no-labels", namespace, {}, [DEFAULT_PORT], f"a pod without labels in namespace {namespace}")
    for w in workloads:
        if w.namespace != UNLABELLED_NAMESPACE:
            b.add(
                "twin", UNLABELLED_NAMESPACE, w.labels, w.ports, f"{w.key}'s labels and ports in {UNLABELLED_NAMESPACE}"
            )
    return b.build()


def _intent_ports(b: _Builder, flow: Mapping[str, Any]) -> None:
    """The ports around one intent flow's port, on each destination it names."""
    port, protocol = flow.get("port"), flow.get("protocol")
    if port == "*" or isinstance(port, bool) or not isinstance(port, int | str):
        return
    low, dash, high = str(port).partition("-")
    for dst in (w for w in b.workloads if fnmatchcase(w.key, str(flow.get("to")))):
        if isinstance(port, int) or (dash and low.isdigit() and high.isdigit()):
            first, end = (port, None) if isinstance(port, int) else (int(low), int(high))
            ports = [(Port(first, proto), end) for proto in ([protocol] if protocol else ["TCP"])]
        else:
            ports = [(p, None) for p in dst.ports if p.name == port and (not protocol or p.protocol == protocol)]
        # not a number and protocol the workload declares already (the intent's flow covers it)
        declared = {p.label for p in dst.ports}
        adversarial = [n for p, end in ports for n in _neighbours(p, end) if n != p and n.label not in declared]
        b.add(
            "ports", dst.namespace, dst.labels, adversarial, f"intent flow {flow.get('from')} -> {dst.key} port {port}"
        )


def with_addresses(workloads: Sequence[Workload], subnet: str = POD_SUBNET) -> list[Workload]:
    """Each workload without an address gets its own in the pod subnet.

    Whether an ipBlock admits pod addresses is implementation-defined, so the plain truth table
    leaves pods without addresses; the boundary check assumes the worst (most implementations,
    the kind clusters' CNI included, match them), so an ipBlock holding pod addresses opens what it holds."""
    hosts: Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address] = iter(ipaddress.ip_network(subnet).hosts())
    next(hosts)  # the subnet's first address is usually a gateway
    return [w if w.ip is not None else dataclasses.replace(w, ip=next(hosts)) for w in workloads]


def _home(b: _Builder, peer: Peer, policy: Policy) -> tuple[str, dict[str, str]] | None:
    """A namespace and labels of a pod the peer matches: a platform workload if one does."""
    if peer.ip_block is not None:
        return None
    admitted = b.admitted(peer, policy)
    for w in b.workloads:
        if w.namespace in admitted and selectors.matches(peer.pod_selector or {}, w.labels):
            return w.namespace, dict(w.labels)
    labels = satisfying(peer.pod_selector or {})
    return (admitted[0], labels) if admitted and labels is not None else None


def _allows(rule_port: PolicyPort, port: Port) -> bool:
    """Does the rule port itself allow this adversarial port? (then it is no boundary)"""
    if port.protocol != rule_port.protocol or isinstance(rule_port.port, str):
        return port.protocol == rule_port.protocol and port.name == rule_port.port
    if rule_port.port is None:
        return True
    return rule_port.port <= port.port <= (rule_port.end_port or rule_port.port)


def _port_text(rule_port: PolicyPort) -> str:
    if rule_port.port is None:
        return f"every {rule_port.protocol} port"
    end = f"-{rule_port.end_port}" if rule_port.end_port else ""
    return f"{rule_port.port}{end}/{rule_port.protocol}"


# ---------------------------------------------------------------- checks


def differences(
    matrix: Matrix, expected: Mapping[str, Mapping[str, bool]], side: str | None = None
) -> list[tuple[str, str, str]]:
    """(source, target, why) for every cell where the table (or one side alone) differs from `expected`."""
    found = []
    for (src, target), verdict in matrix.verdicts.items():
        have = verdict.allowed if side is None else verdict.side(side).allowed
        if have == expected[src][target]:
            continue
        if side is None:
            why = verdict.explain()
        else:
            direction = verdict.side(side)
            cause = f"allowed by {', '.join(direction.rules)}" if direction.rules else direction.describe()
            why = f"{side.lower()} alone {'allows' if have else 'denies'} {src} -> {target}: {cause}"
        found.append((src, target, why))
    return found


def _cut(table: Mapping[str, Mapping[str, bool]], keep: set[str]) -> dict[str, dict[str, bool]]:
    """The table restricted to the workloads in `keep`, so the grids stay readable."""
    return {s: {t: v for t, v in row.items() if t.rsplit(":", 1)[0] in keep} for s, row in table.items() if s in keep}


@dataclass(frozen=True)
class Boundaries:
    """The truth table over platform + synthetic workloads, computed once for every check."""

    model: Model
    workloads: tuple[Workload, ...]
    synthetic: tuple[Synthetic, ...]
    intent: Any  # the reachability file's data
    origin: str

    @classmethod
    def of(cls, model: Model, workloads: Sequence[Workload], intent: Any, origin: str) -> "Boundaries":
        augmented, synthetic = synthetic_workloads(model, workloads, intent)
        keys = {w.key for w in augmented}
        every = with_addresses([*augmented, *(s.workload for s in synthetic if s.workload.key not in keys)])
        return cls(model, tuple(every), tuple(synthetic), intent, origin)

    @cached_property
    def matrix(self) -> Matrix:
        return self.model.truth_table(self.workloads)

    def legend(self, keys: set[str]) -> str:
        lines = [
            f"  {s.workload.key} labels {dict(s.workload.labels)} ports "
            f"{', '.join(p.label + (f' ({p.name})' if p.name else '') for p in s.workload.ports)}: "
            + "; ".join(s.reasons[:3])
            + (f" (+{len(s.reasons) - 3} more)" if len(s.reasons) > 3 else "")
            for s in self.synthetic
            if s.workload.key in keys
        ]
        return "synthetic workloads in these cells:\n" + "\n".join(lines) if lines else ""

    def verdict(self, side: str | None = None) -> Verdict:
        """The intent (expected) against the table, both sides or one side alone (observed); when
        they differ, the grids keep only the workloads of differing cells, so they stay readable."""
        keys = ("allow", BOUNDARY_KEY) if side is None else ("allow", BOUNDARY_KEY, LAYER_KEYS[side])
        observed = self.matrix.as_table(side)
        title = "boundaries" if side is None else f"{side.lower()} alone"
        expected = intent_table(self.intent, self.origin, self.workloads, keys)
        found = differences(self.matrix, expected, side)
        keep = {src for src, _t, _w in found} | {t.rsplit(":", 1)[0] for _s, t, _w in found}
        workloads = [w for w in self.workloads if w.key in keep or not keep]
        if keep:
            expected, observed = _cut(expected, keep), _cut(observed, keep)
        title += f": platform + synthetic boundary workloads against {' + '.join(keys)} flows in {self.origin}"
        cause = "\n  ".join(["the model says why:", *(why for _s, _t, why in found)]) if found else ""
        notes = [self.legend(keep)] if self.legend(keep) else []
        return matrix_verdict(title, expected, observed, workloads, cause=cause, notes=notes)
