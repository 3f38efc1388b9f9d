"""Generated NetworkPolicy cases for the live comparison of the model with a real implementation.

A small fixed universe, in the manner of the upstream NetworkPolicy e2e suite (namespaces x, y, z
with pods a, b): per lane, three namespaces with different labels (`z` carries only the lane
label) and two workloads in each, serving TCP and UDP ports 80 and 81 under names that differ
per workload (`http` is 80 on `a` and 81 on `b`; `b` has no port named `metrics`), so named
ports resolve per destination and a name a pod lacks matches nothing. No (name, protocol,
number) is shared by `a` and `b`: the CNI may enforce such a pair by pod listing order (the
`avoided:` entry of platform/kind/netpol-deviations.yaml), so a case would differ run to run.

A case is one or two NetworkPolicies in one lane, drawn by a seeded generator over: policy
types (given or defaulted), pod selectors (empty, matchLabels, matchExpressions with every
operator), peers (podSelector, namespaceSelector, both, empty selectors, ipBlock with except),
ports (TCP, UDP, SCTP; numbered, named, ranges with endPort; absent), and policies in a
namespace other than the one their traffic comes from or goes to. Lanes share nothing: a lane's
cells (its sources to its destinations) depend only on that lane's policies, so one probe round
judges one case per lane at once.

ipBlocks are drawn as templates and resolved once the probe pods have addresses: the pod
network with the addresses of a workload's pods excepted, or a CIDR that contains no pod. Both
pods of a workload (source and destination roles) are always on the same side of every block,
so the model, which knows one address per workload, answers for both.
"""

import ipaddress
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verification.models.netpol.model import NAME_LABEL, Model, Port, Workload, namespace_labels_from, parse_policy

SEED = 20261206
LANE_PREFIX = "npg"
SPACES = {  # namespace suffix -> labels besides the lane label
    "x": {"gen": "x", "tier": "front"},
    "y": {"gen": "y", "tier": "back"},
    "z": {},
}
PODS = {  # workload name -> (labels, ports)
    "a": (
        {"pod": "a", "app": "web"},
        (Port(80, "TCP", "http"), Port(81, "TCP", "metrics"), Port(80, "UDP", "udp-80"), Port(81, "UDP")),
    ),
    "b": (
        {"pod": "b", "app": "db", "canary": "true"},
        (Port(80, "TCP"), Port(81, "TCP", "http"), Port(80, "UDP", "dns"), Port(81, "UDP", "udp-81")),
    ),
}
IPBLOCK_KINDS = ("pods-except-workload", "no-pod")
GENERATED_LABEL = "platform.io/netpol-generated"  # on every generated policy: one delete removes a batch


def namespace(lane: int, suffix: str) -> str:
    return f"{LANE_PREFIX}-{lane}-{suffix}"


def namespace_objects(lanes: int) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace(lane, s), "labels": {"lane": str(lane), **labels}},
        }
        for lane in range(lanes)
        for s, labels in SPACES.items()
    ]


def workloads(lanes: int, ips: Mapping[str, str] | None = None) -> list[Workload]:
    """Every lane's workloads; `ips` (workload key -> address of its pods' source role) for ipBlocks."""
    found = []
    for lane in range(lanes):
        for s in SPACES:
            for name, (labels, ports) in PODS.items():
                key = f"{namespace(lane, s)}/{name}"
                ip = ipaddress.ip_address(ips[key]) if ips and key in ips else None
                found.append(Workload(namespace(lane, s), name, dict(labels), ports, ip))
    return found


def lane_of(key: str) -> int:
    """The lane of a workload key or target label (`npg-3-x/a`, `npg-3-x/a:80/TCP`)."""
    return int(key.split("-")[1])


# ---------------------------------------------------------------- the generator


@dataclass(frozen=True)
class Case:
    """One generated case: its number, its lane, and its policies (ipBlocks still templates)."""

    number: int
    lane: int
    policies: tuple[dict[str, Any], ...]

    @property
    def name(self) -> str:
        return f"case-{self.number:03d}"

    def features(self) -> set[str]:
        return features(self.policies, self.lane)


def _pod_selector(rng: random.Random) -> dict[str, Any]:
    return rng.choice(
        [
            {},
            {"matchLabels": {"pod": "a"}},
            {"matchLabels": {"app": "db"}},
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "cache"]}]},
            {"matchExpressions": [{"key": "pod", "operator": "NotIn", "values": ["a"]}]},
            {"matchExpressions": [{"key": "canary", "operator": "Exists"}]},
            {"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]},
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "pod", "operator": "In", "values": ["a"]}]},
        ]
    )


def _namespace_selector(rng: random.Random, lane: int) -> dict[str, Any]:
    return rng.choice(
        [
            {},
            {"matchLabels": {"gen": "y"}},
            {"matchLabels": {NAME_LABEL: namespace(lane, "x")}},
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]},
            {"matchExpressions": [{"key": "gen", "operator": "DoesNotExist"}]},
            {"matchExpressions": [{"key": "gen", "operator": "NotIn", "values": ["x"]}]},
            {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
        ]
    )


def _peer(rng: random.Random, lane: int) -> dict[str, Any]:
    kind = rng.choice(["pod", "pod", "namespace", "namespace", "both", "both", "ipblock"])
    if kind == "pod":
        return {"podSelector": _pod_selector(rng)}
    if kind == "namespace":
        return {"namespaceSelector": _namespace_selector(rng, lane)}
    if kind == "both":
        return {"namespaceSelector": _namespace_selector(rng, lane), "podSelector": _pod_selector(rng)}
    space, pod = rng.choice(list(SPACES)), rng.choice(list(PODS))
    return {"ipBlock": {"template": rng.choice(IPBLOCK_KINDS), "workload": f"{namespace(lane, space)}/{pod}"}}


def _port(rng: random.Random) -> dict[str, Any]:
    protocol = rng.choice(["TCP", "TCP", "TCP", "UDP", "UDP", "SCTP"])
    kind = rng.choice(["number", "number", "name", "name", "range", "none"])
    if kind == "number":
        return {"protocol": protocol, "port": rng.choice([80, 81])}
    if kind == "name":
        names = {"TCP": ["http", "metrics"], "UDP": ["udp-80", "udp-81"], "SCTP": ["http"]}[protocol]
        return {"protocol": protocol, "port": rng.choice(names)}
    if kind == "range":
        return {"protocol": protocol, "port": rng.choice([79, 80]), "endPort": rng.choice([80, 81, 90])}
    return {"protocol": protocol}


def _rules(rng: random.Random, lane: int, peer_field: str) -> list[dict[str, Any]]:
    rules = []
    for _ in range(rng.choice([0, 1, 1, 2])):
        rule: dict[str, Any] = {}
        peers = [_peer(rng, lane) for _ in range(rng.choice([0, 1, 1, 2]))]
        ports = [_port(rng) for _ in range(rng.choice([0, 1, 1, 2]))]
        if peers:
            rule[peer_field] = peers
        if ports:
            rule["ports"] = ports
        rules.append(rule)
    return rules


def _policy(rng: random.Random, lane: int, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": _pod_selector(rng)}
    types = rng.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"], None])
    if types is not None:
        spec["policyTypes"] = types
    if types is None or "Ingress" in types:
        spec["ingress"] = _rules(rng, lane, "from")
    if types is None or "Egress" in types:
        spec["egress"] = _rules(rng, lane, "to")
    for field in ("ingress", "egress"):
        if field in spec and not spec[field] and rng.random() < 0.5:
            del spec[field]  # absent instead of empty: the same meaning, both spellings
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace(lane, rng.choice(list(SPACES))),
            "labels": {GENERATED_LABEL: "true"},
        },
        "spec": spec,
    }


def generate(count: int, lanes: int, seed: int = SEED) -> list[Case]:
    """`count` cases, spread over `lanes` lanes in turn; the same seed gives the same cases."""
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        lane = number % lanes
        policies = tuple(_policy(rng, lane, f"case-{number:03d}-{i}") for i in range(rng.choice([1, 1, 2])))
        cases.append(Case(number, lane, policies))
    return cases


def batches(cases: Sequence[Case], lanes: int) -> list[list[Case]]:
    """Groups of at most one case per lane, in order."""
    return [list(cases[i : i + lanes]) for i in range(0, len(cases), lanes)]


# ---------------------------------------------------------------- ipBlocks, features, the model


def resolve(policy: Mapping[str, Any], ips: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The policy with each ipBlock template made concrete from the probe pods' addresses.

    `ips`: workload key -> the addresses of all its pods. `pods-except-workload`: the smallest
    network holding every pod, except the workload's pods (/32 each); `no-pod`: a documentation
    network (TEST-NET-3) that contains no pod."""
    every = [ipaddress.ip_address(a) for addrs in ips.values() for a in addrs]
    network = _covering(every)

    def concrete(peer: dict[str, Any]) -> dict[str, Any]:
        block = peer.get("ipBlock")
        if not block or "template" not in block:
            return peer
        if block["template"] == "no-pod":
            return {"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}}
        excepted = sorted({f"{a}/{32 if ':' not in a else 128}" for a in ips[block["workload"]]})
        return {"ipBlock": {"cidr": str(network), "except": excepted}}

    resolved: dict[str, Any] = json.loads(json.dumps(policy))  # a deep copy
    for field, peers in (("ingress", "from"), ("egress", "to")):
        for rule in resolved["spec"].get(field) or []:
            if peers in rule:
                rule[peers] = [concrete(p) for p in rule[peers]]
    return resolved


def _covering(addresses: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> Any:
    first = addresses[0]
    for prefix in range(first.max_prefixlen, -1, -1):
        network = ipaddress.ip_network(f"{first}/{prefix}", strict=False)
        if all(a in network for a in addresses):
            return network
    raise AssertionError("unreachable: /0 holds every address")


def features(policies: Sequence[Mapping[str, Any]], lane: int) -> set[str]:
    """What a case exercises, for the coverage report (and the generator's unit tests)."""
    found: set[str] = set()
    for policy in policies:
        spec = policy["spec"]
        found.add(
            "policyTypes defaulted" if "policyTypes" not in spec else "policyTypes " + "+".join(spec["policyTypes"])
        )
        found.add("empty podSelector" if not spec["podSelector"] else "podSelector")
        found |= {f"operator {e['operator']}" for e in spec["podSelector"].get("matchExpressions") or []}
        for field, peer_field in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(field) or []:
                if not rule.get(peer_field):
                    found.add(f"{field} from/to every peer")
                for peer in rule.get(peer_field) or []:
                    if "ipBlock" in peer:
                        found.add("ipBlock with except")
                        continue
                    ns, pods = peer.get("namespaceSelector"), peer.get("podSelector")
                    found.add({(True, True): "AND peer", (True, False): "namespace peer"}.get(
                        (ns is not None, pods is not None), "pod peer"))  # fmt: skip
                    for selector in (s for s in (ns, pods) if s is not None):
                        if not selector:
                            found.add("empty peer selector")
                        found |= {f"operator {e['operator']}" for e in selector.get("matchExpressions") or []}
                for port in rule.get("ports") or []:
                    found.add(port["protocol"])
                    if "port" not in port:
                        found.add("every port of a protocol")
                    elif "endPort" in port:
                        found.add("endPort")
                    else:
                        found.add("named port" if isinstance(port["port"], str) else "numbered port")
        found.add(f"policy in namespace {policy['metadata']['namespace'].rsplit('-', 1)[1]}")
    return found


def model(policies: Sequence[Mapping[str, Any]], lanes: int) -> Model:
    return Model([parse_policy(p) for p in policies], namespace_labels_from(namespace_objects(lanes)))


def lane_table(table: Mapping[str, Mapping[str, bool]], lane: int) -> dict[str, dict[str, bool]]:
    """The cells of one lane: its sources to its destinations."""
    return {s: {t: v for t, v in row.items() if lane_of(t) == lane} for s, row in table.items() if lane_of(s) == lane}
