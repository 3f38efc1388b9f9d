"""NetworkPolicy v1 model: which workload may open a connection to which port of which workload.

Semantics (networking.k8s.io/v1, as the API documents and the upstream e2e suite checks):
- A policy applies to the pods of its namespace matched by `spec.podSelector` (`{}` = all).
- `policyTypes` omitted: `Ingress` always, plus `Egress` when `spec.egress` is non-empty
  (the API server's defaulting; an empty `egress: []` does not add it).
- A pod selected by no policy of a direction is not isolated in that direction: all allowed.
  An isolated pod gets the union of the rules of every policy selecting it (order is irrelevant).
- A connection needs egress allowed at the source AND ingress allowed at the destination.
- A rule with `from`/`to` absent or empty matches every peer; with `ports` absent or empty,
  every port. Rule list absent or empty with the direction in policyTypes: deny all.
- A peer: `podSelector` only = pods of the policy's namespace; `namespaceSelector` only = all
  pods of matching namespaces; both in ONE peer = AND; separate peers = OR. `{}` matches all,
  absent means "not constrained by this selector" as above.
- `ipBlock` (cidr minus except) matches a workload only when its `ip` is known. Workloads
  without an `ip` are never matched by an ipBlock: how ipBlocks treat cluster-internal pod IPs
  is implementation-defined, so the model does not guess.
- Ports: `protocol` defaults to TCP (TCP, UDP, SCTP); `port` absent = all ports of that
  protocol; a named port resolves against the DESTINATION's ports (the selected pod for
  ingress, the peer for egress) with the same protocol; `endPort` makes a numeric range.
- Self pairs (a workload to itself) follow the same rules: a workload stands for its pods, and
  two replicas talk through the policies. (Loopback to a pod's own IP is CNI-specific; upstream
  e2e ignores it, so live probes should use distinct replicas or skip the diagonal.)
- Not modelled: nodes. The API lets traffic from a pod's own node through (kubelet probes, and
  NodePort traffic SNATed to that node), so a single-node cluster reaches NodePorts regardless.
Namespace labels come from Namespace objects; every namespace carries
`kubernetes.io/metadata.name`; a namespace without an object has only that label.
"""

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import Path
from typing import Any

from verification.errors import UserError
from verification.models import selectors
from verification.yamlio import iter_kind, load_file, only_fields, source_of

PROTOCOLS = ("TCP", "UDP", "SCTP")
NAME_LABEL = "kubernetes.io/metadata.name"
INGRESS, EGRESS = "Ingress", "Egress"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# ---------------------------------------------------------------- workloads


@dataclass(frozen=True)
class Port:
    port: int
    protocol: str = "TCP"
    name: str | None = None

    @cached_property
    def label(self) -> str:
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True)
class Workload:
    """A set of pods with the same labels and container ports (a Deployment, a DaemonSet...)."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: tuple[Port, ...] = ()
    ip: IPAddress | None = None

    @cached_property
    def key(self) -> str:  # cached: every truth-table lookup hashes workloads by it
        return f"{self.namespace}/{self.name}"

    def target(self, port: Port) -> str:
        """The JSON/grid label of one destination port: `<ns>/<name>:<port>/<PROTOCOL>`."""
        return f"{self.key}:{port.label}"

    def __hash__(self) -> int:
        return hash(self.key)


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class IPBlock:
    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...]

    def matches(self, ip: IPAddress | None) -> bool:
        if ip is None or ip.version != self.cidr.version:
            return False
        return ip in self.cidr and not any(ip in e for e in self.excepts)


@dataclass(frozen=True)
class Peer:
    pod_selector: Mapping[str, Any] | None
    namespace_selector: Mapping[str, Any] | None
    ip_block: IPBlock | None


@dataclass(frozen=True)
class PolicyPort:
    protocol: str
    port: int | str | None
    end_port: int | None


@dataclass(frozen=True)
class Rule:
    peers: tuple[Peer, ...]  # empty: every peer
    ports: tuple[PolicyPort, ...]  # empty: every port


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    source: str
    pod_selector: Mapping[str, Any]
    policy_types: frozenset[str]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self) -> Iterator[tuple[str, int, Rule]]:
        """("ingress" or "egress", index, rule) for every rule, ingress first."""
        for field, rules in (("ingress", self.ingress), ("egress", self.egress)):
            yield from ((field, i, rule) for i, rule in enumerate(rules))

    def selects(self, workload: Workload) -> bool:
        return workload.namespace == self.namespace and selectors.matches(self.pod_selector, workload.labels)


# ---------------------------------------------------------------- label selectors

_SELECTOR_FIELDS = {"matchLabels", "matchExpressions"}


def check_selector(selector: Any, where: str) -> Mapping[str, Any]:
    if selector is None:
        return {}
    checked = only_fields(selector, _SELECTOR_FIELDS, where)
    labels = checked.get("matchLabels") or {}
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        raise UserError(f"{where}: matchLabels must map label keys to strings")
    for expr in checked.get("matchExpressions") or []:
        only_fields(expr, {"key", "operator", "values"}, f"{where}.matchExpressions")
        op, values = expr.get("operator"), expr.get("values") or []
        if not isinstance(expr.get("key"), str):
            raise UserError(f"{where}: matchExpressions entry without a key")
        if op not in selectors.OPERATORS:
            known = ", ".join(sorted(selectors.OPERATORS))
            raise UserError(f"{where}: unknown matchExpressions operator {op!r} (use {known})")
        if op in ("In", "NotIn") and not values:
            raise UserError(f"{where}: operator {op} needs a non-empty values list")
        if op in ("Exists", "DoesNotExist") and values:
            raise UserError(f"{where}: operator {op} takes no values")
    return checked


def parse_policy(obj: Mapping[str, Any]) -> Policy:
    """A NetworkPolicy object (a dict from the YAML loader) -> Policy; bad input -> UserError."""
    meta = obj.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    where = f"{source_of(dict(obj))}: NetworkPolicy {namespace}/{name}"
    if not name or not namespace:
        raise UserError(f"{where}: metadata.name and metadata.namespace are required")
    spec = only_fields(obj.get("spec"), {"podSelector", "policyTypes", "ingress", "egress"}, f"{where}: spec")
    pod_selector = check_selector(spec.get("podSelector"), f"{where}: spec.podSelector")
    ingress = _rules(spec.get("ingress"), "from", f"{where}: spec.ingress")
    egress = _rules(spec.get("egress"), "to", f"{where}: spec.egress")
    types = spec.get("policyTypes")
    if not types:
        types = [INGRESS, EGRESS] if egress else [INGRESS]
    if not isinstance(types, list) or any(t not in (INGRESS, EGRESS) for t in types):
        raise UserError(f"{where}: policyTypes must list Ingress and/or Egress, got {types!r}")
    policy_types = frozenset(types)
    return Policy(
        namespace=namespace,
        name=name,
        source=source_of(dict(obj)),
        pod_selector=pod_selector,
        policy_types=policy_types,
        # Rules of a direction outside policyTypes are ignored by Kubernetes.
        ingress=ingress if INGRESS in policy_types else (),
        egress=egress if EGRESS in policy_types else (),
    )


def _rules(raw: Any, peer_field: str, where: str) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise UserError(f"{where}: must be a list of rules")
    rules = []
    for i, rule in enumerate(raw):
        at = f"{where}[{i}]"
        rule = only_fields({} if rule is None else rule, {peer_field, "ports"}, at)
        peers = tuple(_peer(p, f"{at}.{peer_field}[{j}]") for j, p in enumerate(_list(rule.get(peer_field), at)))
        ports = tuple(_policy_port(p, f"{at}.ports[{j}]") for j, p in enumerate(_list(rule.get("ports"), at)))
        rules.append(Rule(peers, ports))
    return tuple(rules)


def _peer(raw: Any, where: str) -> Peer:
    only_fields(raw, {"podSelector", "namespaceSelector", "ipBlock"}, where)
    given = {k: v for k, v in raw.items() if v is not None}  # `podSelector: null` is absent
    if not given:
        raise UserError(f"{where}: a peer needs podSelector, namespaceSelector or ipBlock")
    if "ipBlock" in given:
        if len(given) > 1:
            raise UserError(f"{where}: ipBlock cannot be combined with a selector in one peer")
        return Peer(None, None, _ip_block(given["ipBlock"], f"{where}.ipBlock"))
    pods, spaces = given.get("podSelector"), given.get("namespaceSelector")
    return Peer(
        None if pods is None else check_selector(pods, f"{where}.podSelector"),
        None if spaces is None else check_selector(spaces, f"{where}.namespaceSelector"),
        None,
    )


def _ip_block(raw: Any, where: str) -> IPBlock:
    only_fields(raw, {"cidr", "except"}, where, required=("cidr",))
    try:
        cidr = ipaddress.ip_network(str(raw["cidr"]), strict=False)
        excepts = tuple(ipaddress.ip_network(str(e), strict=False) for e in raw.get("except") or [])
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from None
    for e in excepts:
        # subnet_of wants one address family; the version test before it guarantees that
        if e.version != cidr.version or not e.subnet_of(cidr):  # type: ignore[arg-type]
            raise UserError(f"{where}: except {e} is not inside cidr {cidr}")
    return IPBlock(cidr, excepts)


def _policy_port(raw: Any, where: str) -> PolicyPort:
    only_fields(raw, {"protocol", "port", "endPort"}, where)
    protocol = _protocol(raw.get("protocol", "TCP"), where)
    port, end = raw.get("port"), raw.get("endPort")
    if isinstance(port, bool) or not (port is None or isinstance(port, int | str)):
        raise UserError(f"{where}: port must be a number or a port name")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, int) and not 1 <= port <= 65535:
        raise UserError(f"{where}: port {port} out of range 1-65535")
    if end is not None:
        if not isinstance(port, int) or isinstance(end, bool) or not isinstance(end, int):
            raise UserError(f"{where}: endPort needs a numeric port and must be a number")
        if not port <= end <= 65535:
            raise UserError(f"{where}: endPort {end} must be between port {port} and 65535")
    return PolicyPort(protocol, port, end)


def _protocol(value: Any, where: str) -> str:
    if value not in PROTOCOLS:
        raise UserError(f"{where}: unknown protocol {value!r} (use {', '.join(PROTOCOLS)})")
    return str(value)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def policies_from(objects: Iterable[Mapping[str, Any]]) -> list[Policy]:
    return [parse_policy(o) for o in iter_kind(objects, "NetworkPolicy")]


def namespace_labels_from(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Labels of every Namespace object, with `kubernetes.io/metadata.name` as Kubernetes sets it."""
    found: dict[str, dict[str, str]] = {}
    for ns in iter_kind(objects, "Namespace"):
        name = (ns.get("metadata") or {}).get("name")
        if not name:
            raise UserError(f"{source_of(dict(ns))}: Namespace without metadata.name")
        labels = dict((ns["metadata"].get("labels")) or {})
        labels[NAME_LABEL] = name
        found[name] = labels
    return found


# ---------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Direction:
    """One side of a connection: which policies isolate the pod, which of them allow the flow."""

    direction: str
    selecting: tuple[str, ...]
    allowing: tuple[str, ...]
    rules: tuple[str, ...] = ()  # the allowing rules, `ns/name ingress[0]`: what a layer check names

    @property
    def allowed(self) -> bool:
        return not self.selecting or bool(self.allowing)

    def describe(self) -> str:
        side = self.direction.lower()
        if not self.selecting:
            return f"{side} allowed (no policy isolates it)"
        if self.allowing:
            return f"{side} allowed by {', '.join(self.allowing)}"
        return f"{side} denied: isolated by {', '.join(self.selecting)}, no rule matches"


@dataclass(frozen=True)
class Verdict:
    src: Workload
    dst: Workload
    port: Port
    egress: Direction
    ingress: Direction

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed

    def side(self, direction: str) -> Direction:
        return self.ingress if direction == INGRESS else self.egress

    def explain(self) -> str:
        word = "allowed" if self.allowed else "denied"
        return (
            f"{self.src.key} -> {self.dst.target(self.port)} {word}: "
            f"{self.egress.describe()}; {self.ingress.describe()}"
        )


_LabelledRule = tuple[int, Policy, str, Rule]  # (number in its model, policy, label, rule)
_Admitting = tuple[tuple[Policy, str, Rule], frozenset[int] | None]  # a rule and the positions it admits
_Candidates = tuple[tuple[str, ...], tuple[tuple[Policy, str, Rule], ...]]  # isolating keys, candidate rules


class Model:
    """Policies + namespace labels; answers single connections and whole truth tables."""

    def __init__(self, policies: Sequence[Policy], namespace_labels: Mapping[str, Mapping[str, str]]) -> None:
        self.policies = tuple(policies)
        self.namespace_labels = namespace_labels
        # (direction, workload) -> policies isolating it: truth tables ask once per pair and port.
        # Keyed by the whole (frozen) workload, so two workloads sharing a key never share an answer.
        self._isolating: dict[tuple[str, Workload], tuple[Policy, ...]] = {}
        self._peer_cache: dict[tuple[str, Workload, Workload], _Candidates] = {}
        # (direction, workload) -> (isolating policy keys, their rules of that direction with labels);
        # (rule number, peer) -> do the rule's peers admit it. A truth table asks both for every
        # pair of workloads, yet they depend on one workload, or on one rule and one workload.
        self._subject_rules: dict[tuple[str, Workload], tuple[tuple[str, ...], tuple[_LabelledRule, ...]]] = {}
        self._admits: dict[tuple[int, Workload], bool] = {}
        self._rule_numbers: dict[tuple[int, str, int], int] = {}  # (policy position, direction, index)

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> "Model":
        objects = list(objects)
        return cls(policies_from(objects), namespace_labels_from(objects))

    def labels_of_namespace(self, namespace: str) -> Mapping[str, str]:
        return self.namespace_labels.get(namespace) or {NAME_LABEL: namespace}

    def verdict(self, src: Workload, dst: Workload, port: Port) -> Verdict:
        return Verdict(src, dst, port, self._side(EGRESS, src, dst, port), self._side(INGRESS, dst, src, port))

    def isolating(self, direction: str, subject: Workload) -> tuple[Policy, ...]:
        """The policies that select `subject` for `direction` (cached per workload)."""
        key = (direction, subject)
        if key not in self._isolating:
            self._isolating[key] = tuple(p for p in self.policies if direction in p.policy_types and p.selects(subject))
        return self._isolating[key]

    def _side(self, direction: str, subject: Workload, peer: Workload, port: Port) -> Direction:
        # `subject` is the pod the policy selects; `peer` the other end; `port` is on the destination.
        return self._decide(
            direction, self._peer_rules(direction, subject, peer), peer if direction == EGRESS else subject, port
        )

    @staticmethod
    def _decide(direction: str, found: _Candidates, dst: Workload, port: Port) -> Direction:
        selecting, candidates = found
        allowing: list[str] = []
        matched = []
        for policy, label, rule in candidates:
            if not rule.ports or any(port_matches(p, dst, port) for p in rule.ports):
                matched.append(label)
                if policy.key not in allowing:
                    allowing.append(policy.key)
        return Direction(direction, selecting, tuple(allowing), tuple(matched))

    def _peer_rules(self, direction: str, subject: Workload, peer: Workload) -> _Candidates:
        """(isolating policy keys, the rules whose peers admit `peer`); cached: ports vary, peers do not."""
        key = (direction, subject, peer)
        if key not in self._peer_cache:
            selecting, rules = self._rules_of(direction, subject)
            admitting = tuple((p, label, rule) for n, p, label, rule in rules if self._rule_admits(n, p, rule, peer))
            self._peer_cache[key] = selecting, admitting
        return self._peer_cache[key]

    def _rules_of(self, direction: str, subject: Workload) -> tuple[tuple[str, ...], tuple[_LabelledRule, ...]]:
        """The keys of the policies isolating `subject` and their rules of `direction`, each with a
        number unique in this model and its label `ns/name ingress[0]` (cached per workload)."""
        key = (direction, subject)
        found = self._subject_rules.get(key)
        if found is None:
            field = direction.lower()
            policies = self.isolating(direction, subject)
            rules = tuple(
                (self._rule_number(policy, direction, i), policy, f"{policy.key} {field}[{i}]", rule)
                for policy in policies
                for i, rule in enumerate(policy.egress if direction == EGRESS else policy.ingress)
            )
            found = self._subject_rules[key] = (tuple(p.key for p in policies), rules)
        return found

    def _rule_number(self, policy: Policy, direction: str, index: int) -> int:
        position = next(i for i, p in enumerate(self.policies) if p is policy)
        return self._rule_numbers.setdefault((position, direction, index), len(self._rule_numbers))

    def _rule_admits(self, number: int, policy: Policy, rule: Rule, peer: Workload) -> bool:
        """A rule without peers admits every peer; else any of its peers must match (cached)."""
        if not rule.peers:
            return True
        key = (number, peer)
        found = self._admits.get(key)
        if found is None:
            found = self._admits[key] = any(self.peer_matches(p, policy.namespace, peer) for p in rule.peers)
        return found

    def peer_matches(self, peer: Peer, policy_ns: str, other: Workload) -> bool:
        if peer.ip_block is not None:
            return peer.ip_block.matches(other.ip)
        if peer.namespace_selector is None:
            ns_ok = other.namespace == policy_ns
        else:
            ns_ok = selectors.matches(peer.namespace_selector, self.labels_of_namespace(other.namespace))
        pod_ok = peer.pod_selector is None or selectors.matches(peer.pod_selector, other.labels)
        return ns_ok and pod_ok

    def truth_table(self, workloads: Sequence[Workload]) -> "Matrix":
        workloads = tuple(workloads)
        # Which table positions each rule's peers admit (None: every peer), once per rule rather
        # than once per pair of workloads.
        admitted: dict[int, frozenset[int] | None] = {}
        groups: dict[tuple[str, tuple[str, ...], tuple[int, ...]], int] = {}

        def rules_of(direction: str, subject: Workload) -> tuple[int, tuple[str, ...], tuple[_Admitting, ...]]:
            selecting, labelled = self._rules_of(direction, subject)
            found = []
            for number, policy, label, rule in labelled:
                if number not in admitted:
                    admitted[number] = (
                        frozenset(i for i, w in enumerate(workloads) if self._rule_admits(number, policy, rule, w))
                        if rule.peers
                        else None
                    )
                found.append(((policy, label, rule), admitted[number]))
            group = groups.setdefault((direction, selecting, tuple(n for n, *_ in labelled)), len(groups))
            return group, selecting, tuple(found)

        egress = [rules_of(EGRESS, w) for w in workloads]
        ingress = [rules_of(INGRESS, w) for w in workloads]
        # A side's answers for a destination's ports depend on which of the subject's rules admit
        # the peer, not on the peer itself: most pairs share them (a default-deny admits nobody),
        # so each distinct (subject's rules, admitting ones, destination) is decided once.
        decided: dict[tuple[int, int, int], list[Direction]] = {}

        def side(
            direction: str, subject: tuple[int, tuple[str, ...], tuple[_Admitting, ...]], peer: int, d: int
        ) -> list[Direction]:
            group, selecting, candidates = subject
            mask = 0
            for bit, (_, admits) in enumerate(candidates):
                if admits is None or peer in admits:
                    mask |= 1 << bit
            answers = decided.get((group, mask, d))
            if answers is None:
                chosen = tuple(c for bit, (c, _) in enumerate(candidates) if mask >> bit & 1)
                dst = workloads[d]
                answers = [self._decide(direction, (selecting, chosen), dst, port) for port in dst.ports]
                decided[(group, mask, d)] = answers
            return answers

        verdicts = {}
        for s, src in enumerate(workloads):
            for d, dst in enumerate(workloads):
                if not dst.ports:
                    continue
                out = side(EGRESS, egress[s], d, d)
                into = side(INGRESS, ingress[d], s, d)
                for port, e, i in zip(dst.ports, out, into, strict=True):
                    verdicts[(src.key, dst.target(port))] = Verdict(src, dst, port, e, i)
        return Matrix(tuple(workloads), verdicts)


def port_matches(rule_port: PolicyPort, dst: Workload, port: Port) -> bool:
    if rule_port.protocol != port.protocol:
        return False
    if rule_port.port is None:
        return True
    if isinstance(rule_port.port, str):
        # Named port: resolved on the destination, same protocol, to the number being connected to.
        return any(p.name == rule_port.port and p.protocol == port.protocol and p.port == port.port for p in dst.ports)
    return rule_port.port <= port.port <= (rule_port.end_port or rule_port.port)


@dataclass(frozen=True)
class Matrix:
    """Every (source, destination port) verdict; keys are `ns/name` and `ns/name:port/PROTO`."""

    workloads: tuple[Workload, ...]
    verdicts: Mapping[tuple[str, str], Verdict]

    def allowed(self, src: str, target: str) -> bool:
        return self.verdicts[(src, target)].allowed

    def cell(self, src: str, dst: str, port: int, protocol: str = "TCP") -> bool:
        """One cell by parts: `cell("x/a", "y/b", 80, "TCP")`."""
        return self.verdicts[(src, f"{dst}:{port}/{protocol}")].allowed

    def as_table(self, side: str | None = None) -> dict[str, dict[str, bool]]:
        """The CLI's JSON shape: {"ns/src": {"ns/dst:port/PROTO": bool}}, every ordered pair; with
        `side` (Ingress or Egress), what that direction alone answers."""
        table: dict[str, dict[str, bool]] = {w.key: {} for w in self.workloads}
        for (src, target), verdict in self.verdicts.items():
            table[src][target] = verdict.allowed if side is None else verdict.side(side).allowed
        return table


def truth_table(
    policies: Sequence[Policy], workloads: Sequence[Workload], namespace_labels: Mapping[str, Mapping[str, str]]
) -> Matrix:
    return Model(policies, namespace_labels).truth_table(workloads)


# ---------------------------------------------------------------- workloads file

_WORKLOAD_FIELDS = {"namespace", "name", "labels", "ports", "ip"}
_PORT_FIELDS = {"port", "protocol", "name"}


def parse_workloads(data: Any, origin: str) -> list[Workload]:
    """The workloads format: a list of `{namespace, name, labels, ports: [{port, protocol, name}], ip}`.

    `labels`, `ports` and `ip` are optional; `protocol` defaults to TCP, port `name` is optional.
    """
    if not isinstance(data, list) or not data:
        raise UserError(f"{origin}: expected a non-empty list of workloads, got {type(data).__name__}")
    workloads: dict[str, Workload] = {}
    for i, raw in enumerate(data):
        where = f"{origin}: workload #{i + 1}"
        only_fields(raw, _WORKLOAD_FIELDS, where)
        namespace, name = raw.get("namespace"), raw.get("name")
        if not isinstance(namespace, str) or not namespace or not isinstance(name, str) or not name:
            raise UserError(f"{where}: namespace and name are required strings")
        where = f"{origin}: workload {namespace}/{name}"
        labels = raw.get("labels") or {}
        if not isinstance(labels, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise UserError(f"{where}: labels must map strings to strings (quote numbers and booleans)")
        ports = tuple(_workload_port(p, f"{where}: ports[{j}]") for j, p in enumerate(_list(raw.get("ports"), where)))
        if len({p.label for p in ports}) != len(ports):
            raise UserError(f"{where}: the same port/protocol is listed twice")
        names = [p.name for p in ports if p.name]
        if len(set(names)) != len(names):
            raise UserError(f"{where}: the same port name is listed twice")
        ip = None
        if raw.get("ip") is not None:
            try:
                ip = ipaddress.ip_address(str(raw["ip"]))
            except ValueError as exc:
                raise UserError(f"{where}: {exc}") from None
        workload = Workload(namespace, name, dict(labels), ports, ip)
        if workload.key in workloads:
            raise UserError(f"{where}: listed twice")
        workloads[workload.key] = workload
    return list(workloads.values())


def _workload_port(raw: Any, where: str) -> Port:
    only_fields(raw, _PORT_FIELDS, where)
    port = raw.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise UserError(f"{where}: port must be a number 1-65535, got {port!r}")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name or name.isdigit()):
        raise UserError(f"{where}: port name must be a non-numeric string, got {name!r}")
    return Port(port, _protocol(raw.get("protocol", "TCP"), where), name)


def load_workloads(path: Path | str) -> list[Workload]:
    return parse_workloads(load_file(path), str(path))


# ---------------------------------------------------------------- reachability intent

_FLOW_FIELDS = {"from", "to", "port", "protocol", "why"}


@dataclass(frozen=True)
class Flow:
    """One allowed flow of the intent: workload patterns (fnmatch on `ns/name`) and a port."""

    sources: str
    destinations: str
    port: int | str  # number, `first-last` range, port name, or "*" (every port of the destination)
    protocol: str | None
    why: str

    def cells(self, workloads: Sequence[Workload]) -> list[tuple[str, str]]:
        """(source key, destination target) pairs this flow allows."""
        srcs = [w for w in workloads if fnmatchcase(w.key, self.sources)]
        dsts = [w for w in workloads if fnmatchcase(w.key, self.destinations)]
        return [(s.key, d.target(p)) for s in srcs for d in dsts for p in d.ports if self._port_matches(p)]

    def _port_matches(self, port: Port) -> bool:
        if self.protocol is not None and port.protocol != self.protocol:
            return False
        if self.port == "*":
            return True
        if isinstance(self.port, int):
            return port.port == self.port
        low, dash, high = self.port.partition("-")
        if dash and low.isdigit() and high.isdigit():  # a numeric range, as a policy's port..endPort
            return int(low) <= port.port <= int(high)
        return port.name == self.port


# What one layer alone must allow besides `allow`: flows one side permits by design while the other
# side closes them (the edge accepts http from any pod, each pod's egress decides), so a layer
# evaluated on its own (the other side open) is held to an exact contract too.
LAYER_KEYS = {INGRESS: "ingress_only", EGRESS: "egress_only"}
# Flows to or from pods no workload lists (the synthetic boundary workloads): only the boundary
# checks read them, so their patterns may name no listed workload.
BOUNDARY_KEY = "boundary_allow"


def parse_reachability(data: Any, origin: str, workloads: Sequence[Workload]) -> dict[str, dict[str, bool]]:
    """The intent file -> the expected table (same shape as Matrix.as_table()); unlisted = denied.

    Every pattern must match a workload and every flow must allow at least one cell, so a typo
    or a renamed workload is reported instead of silently denying.
    """
    return intent_table(data, origin, workloads, ("allow",))


def intent_table(
    data: Any, origin: str, workloads: Sequence[Workload], keys: tuple[str, ...]
) -> dict[str, dict[str, bool]]:
    """The table the flows of the intent's lists `keys` allow (every other cell denied)."""
    optional = (*LAYER_KEYS.values(), BOUNDARY_KEY)
    if (
        not isinstance(data, Mapping)
        or "allow" not in data
        or not set(data) <= {"allow", *optional}
        or not all(isinstance(v, list) for v in data.values())
    ):
        raise UserError(
            f"{origin}: expected a mapping with a list `allow:` of flows (and optionally lists "
            f"{', '.join(f'`{k}:`' for k in optional)})"
        )
    denied = dict.fromkeys((d.target(p) for d in workloads for p in d.ports), False)
    table = {s.key: denied.copy() for s in workloads}
    for key in keys:
        for i, raw in enumerate(data.get(key) or []):
            for src, target in _flow(raw, f"{origin}: {'' if key == 'allow' else key + ' '}flow #{i + 1}", workloads):
                table[src][target] = True
    return table


def _flow(raw: Any, where: str, workloads: Sequence[Workload]) -> list[tuple[str, str]]:
    only_fields(raw, _FLOW_FIELDS, where, required=("from", "to", "port"))
    where = f"{where} ({raw['from']} -> {raw['to']} port {raw['port']})"
    port = raw["port"]
    if isinstance(port, bool) or not isinstance(port, int | str):
        raise UserError(f"{where}: port must be a number, a port name or '*'")
    protocol = _protocol(raw["protocol"], where) if raw.get("protocol") is not None else None
    flow = Flow(str(raw["from"]), str(raw["to"]), port, protocol, str(raw.get("why", "")))
    for pattern in (flow.sources, flow.destinations):
        if not any(fnmatchcase(w.key, pattern) for w in workloads):
            raise UserError(f"{where}: {pattern!r} names no workload of the workloads file")
    cells = flow.cells(workloads)
    if not cells:
        raise UserError(f"{where}: no destination matched by {flow.destinations!r} has that port")
    return cells


def load_reachability(path: Path | str, workloads: Sequence[Workload]) -> dict[str, dict[str, bool]]:
    return parse_reachability(load_file(path), str(path), workloads)
