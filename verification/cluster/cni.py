"""The CNI of the kind clusters, the one place that knows it: kube-router, pod network and
NetworkPolicy controller (platform/kind/README.md says why kube-router and not kindnetd).

Everything else asks this module: how the CNI is installed (its manifest; the component image
the offline node image preloads), how its readiness is judged (its DaemonSet on every node), and
where it deviates from the NetworkPolicy API (platform/kind/netpol-deviations.yaml: cell entries,
and classes whose predicates are here). A second CNI replaces this module and that file only.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from verification.models.netpol.model import EGRESS, INGRESS, Model, Port, Workload, port_matches
from verification.paths import PLATFORM
from verification.wait import wait_for
from verification.yamlio import parse_all

if TYPE_CHECKING:
    from verification.cluster.cluster import Cluster

# The pin in platform/versions.yaml `cluster_components`, the Go component built from it and its binary.
NAME = "kube-router"
MANIFEST = PLATFORM / "kind" / "kube-router.yaml"
DEVIATIONS_FILE = PLATFORM / "kind" / "netpol-deviations.yaml"
# Its image in the offline node image: the binary on the iptables + ipset base (with the iptables wrapper).
NODE_IMAGE_DOCKERFILE = "iptables.Dockerfile"
# Seconds for the CNI to program the policies of newly started pods (measured: well under this).
POLICY_SETTLE_SECONDS = 120
READY_TIMEOUT = 300


def manifest(image: str) -> str:
    """The manifest to apply, with the pinned image filled in."""
    return MANIFEST.read_text().replace("{image}", image)


def daemonset(text: str | None = None) -> dict[str, Any]:
    """The DaemonSet of the manifest: its name, namespace and selector are what readiness asks about."""
    docs = parse_all(text if text is not None else MANIFEST.read_text(), str(MANIFEST))
    return next(d for d in docs if d and d.get("kind") == "DaemonSet")


def install(cluster: "Cluster", image: str) -> None:
    cluster.kubectl("apply", "-f", "-", input=manifest(image))


def _not_ready(pod: Mapping[str, Any]) -> str | None:
    """Why a pod of the DaemonSet is not ready (None when it is), e.g. `waiting: CrashLoopBackOff`."""
    status = pod.get("status") or {}
    if any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []):
        return None
    states = []
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        for state, detail in (container.get("state") or {}).items():
            if state != "running" and not (state == "terminated" and detail.get("exitCode") == 0):
                states.append(f"{container.get('name')} {state}: {detail.get('reason') or detail.get('exitCode', '')}")
    node = (pod.get("spec") or {}).get("nodeName", "unscheduled")
    return f"{pod['metadata']['name']} on {node}: " + ("; ".join(states) or status.get("phase", "no status"))


def readiness(ds: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> tuple[bool, str]:
    """(ready, what was seen): every node scheduled runs an up-to-date, Ready pod of the DaemonSet."""
    status = ds.get("status") or {}
    desired = status.get("desiredNumberScheduled", 0)
    ready = status.get("numberReady", 0)
    updated = status.get("updatedNumberScheduled", 0)
    observed = status.get("observedGeneration", 0) >= ds.get("metadata", {}).get("generation", 1)
    seen = f"{ready} of {desired} pods ready, {updated} up to date"
    if not observed:
        seen += ", controller has not seen the latest spec"
    problems = [p for p in map(_not_ready, pods) if p]
    if problems:
        seen += " (" + "; ".join(problems) + ")"
    return observed and desired > 0 and ready == desired and updated == desired, seen


def wait_ready(cluster: "Cluster", timeout: float = READY_TIMEOUT) -> None:
    """Wait until the CNI runs ready on every node; the timeout says which pods are not and why."""
    ds = daemonset()
    namespace, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
    labels = ",".join(f"{k}={v}" for k, v in ds["spec"]["selector"]["matchLabels"].items())

    def state() -> tuple[bool, str]:
        live = json.loads(cluster.kubectl("-n", namespace, "get", "daemonset", name, "-o", "json").stdout)
        pods = json.loads(cluster.kubectl("-n", namespace, "get", "pods", "-l", labels, "-o", "json").stdout)
        return readiness(live, pods["items"])

    wait_for(state, what=f"{NAME} ready on every node", timeout=timeout, interval=2, until=lambda r: r[0],
             describe=lambda r: r[1])  # fmt: skip


# ---------------------------------------------------------------- deviation classes
# Cell entries in DEVIATIONS_FILE name cells of the platform's matrix; generated cases need rules.
# Each class here is a predicate for one documented behaviour of the CNI (reason and evidence in
# the file's `classes:`, same id), applied by verification/verdicts/netpol.py only to cells the
# model denies: the class says the CNI accepts them, as (egress accepted, ingress accepted);
# REJECTING, to cells it allows. A class whose cells are then observed as the model says shows as
# a mismatch like any other cell, so a wrong predicate cannot hide.
Predicate = Callable[[Model, Workload, Workload, Port, Sequence[Workload]], tuple[bool, bool]]


def _rule_admits(
    model: Model, rule: Any, policy: Any, peer: Workload, dst: Workload, port: Port, direction: str,
    pods: Sequence[Workload],
) -> bool:  # fmt: skip
    """Does kube-router's chain of `policy` accept `peer` on `port` of `dst` by `rule` of `direction`.

    As kube-router programs it: an egress rule's ipBlock peers get its numbered ports only (its
    named ports are left out), and an egress rule without `to` resolves its names on the pods of
    the policy's namespace (see _named_port_every_destination)."""

    def ports_ok(named: bool) -> bool:
        return not rule.ports or any(
            port_matches(p, dst, port) for p in rule.ports if named or not isinstance(p.port, str)
        )

    if not rule.peers:
        if direction == EGRESS:
            accepted = ports_ok(False) or port.port in _namespace_numbers(rule, policy, port, pods)
        else:
            accepted = ports_ok(True)
    else:
        accepted = any(
            model.peer_matches(p, policy.namespace, peer) and ports_ok(direction == INGRESS or p.ip_block is None)
            for p in rule.peers
        )
    if accepted:
        return True
    return _pod_peer_matches(model, rule, policy, peer) and _no_port_resolves(model, rule, policy, direction, pods)


def _namespace_numbers(rule: Any, policy: Any, port: Port, pods: Sequence[Workload]) -> set[int]:
    """The numbers kube-router resolves a rule's names of `port`'s protocol to on the pods of the
    policy's namespace."""
    names = {rp.port for rp in rule.ports if isinstance(rp.port, str) and rp.protocol == port.protocol}
    return {
        p.port
        for w in pods
        if w.namespace == policy.namespace
        for p in w.ports
        if p.name in names and p.protocol == port.protocol
    }


def _pod_peer_matches(model: Model, rule: Any, policy: Any, peer: Workload) -> bool:
    """`peer` is one of the pods the rule's pod and namespace selectors select (ipBlocks aside)."""
    return any(p.ip_block is None and model.peer_matches(p, policy.namespace, peer) for p in rule.peers)


def _no_port_resolves(model: Model, rule: Any, policy: Any, direction: str, pods: Sequence[Workload]) -> bool:
    """Every port of the rule is a name, and no pod kube-router resolves names on has one of them
    with its protocol: for ingress the pods the policy selects, for egress the pods the rule's
    selectors select. kube-router then keeps neither a number nor a named port for the rule."""
    if not rule.ports or not all(isinstance(p.port, str) for p in rule.ports):
        return False
    if direction == INGRESS:
        where = [w for w in pods if policy.selects(w)]
    else:
        where = [w for w in pods if _pod_peer_matches(model, rule, policy, w)]
    wanted = {(p.port, p.protocol) for p in rule.ports}
    return not any((p.name, p.protocol) in wanted for w in where for p in w.ports)


def _shared_chain(
    model: Model, src: Workload, dst: Workload, port: Port, pods: Sequence[Workload]
) -> tuple[bool, bool]:
    """kube-router jumps to an Ingress+Egress policy's chain for every packet from or to a pod it
    selects, so the policy's ingress rules also accept the pod's egress to another selected pod,
    and its egress rules also accept a selected pod's ingress from another selected pod."""
    both = [p for p in model.policies if p.policy_types == {INGRESS, EGRESS} and p.selects(src) and p.selects(dst)]
    egress = any(_rule_admits(model, r, p, src, dst, port, INGRESS, pods) for p in both for r in p.ingress)
    ingress = any(_rule_admits(model, r, p, dst, dst, port, EGRESS, pods) for p in both for r in p.egress)
    return egress, ingress


def _unresolved_named_ports(
    model: Model, src: Workload, dst: Workload, port: Port, pods: Sequence[Workload]
) -> tuple[bool, bool]:
    """A rule with pod or namespace selectors whose ports are all names that resolve on no pod
    (see _no_port_resolves): kube-router keeps no port for it and accepts the selected peers on
    every port and protocol. `pods`: every pod of the cluster the rule's selectors may select."""

    def accepts(direction: str, subject: Workload, peer: Workload) -> bool:
        return any(
            _pod_peer_matches(model, rule, policy, peer) and _no_port_resolves(model, rule, policy, direction, pods)
            for policy in model.isolating(direction, subject)
            for rule in (policy.ingress if direction == INGRESS else policy.egress)
        )

    return accepts(EGRESS, src, dst), accepts(INGRESS, dst, src)


def _named_port_every_destination(
    model: Model, src: Workload, dst: Workload, port: Port, pods: Sequence[Workload]
) -> tuple[bool, bool]:
    """An egress rule without `to` and with a named port: kube-router resolves the name on the pods
    of the policy's own namespace and accepts the resulting numbers towards every destination."""
    for policy in model.isolating(EGRESS, src):
        for rule in policy.egress:
            if not rule.peers and port.port in _namespace_numbers(rule, policy, port, pods):
                return True, False
    return False, False


def _ipblock_named_ports(
    model: Model, src: Workload, dst: Workload, port: Port, pods: Sequence[Workload]
) -> tuple[bool, bool]:
    """The reverse kind, for a cell the model allows: (egress rejected, ingress rejected). The
    source's egress is allowed only through an ipBlock peer with a named port, which kube-router
    does not program (see _rule_admits), and nothing else of its chains accepts it."""
    policies = model.isolating(EGRESS, src)
    by_block = any(
        any(p.ip_block is not None and p.ip_block.matches(dst.ip) for p in rule.peers)
        and any(isinstance(rp.port, str) and port_matches(rp, dst, port) for rp in rule.ports)
        for policy in policies
        for rule in policy.egress
    )
    if not by_block:
        return False, False
    accepted = any(_rule_admits(model, r, p, dst, dst, port, EGRESS, pods) for p in policies for r in p.egress)
    return not accepted and not _shared_chain(model, src, dst, port, pods)[0], False


CLASSES: dict[str, Predicate] = {
    "kube-router-shared-policy-chain": _shared_chain,
    "kube-router-egress-named-port-without-to": _named_port_every_destination,
    "kube-router-unresolved-named-port-every-port": _unresolved_named_ports,
}
# Classes for cells the model allows and the CNI denies: (egress rejected, ingress rejected).
REJECTING: dict[str, Predicate] = {
    "kube-router-egress-ipblock-without-named-ports": _ipblock_named_ports,
}


# Behaviours whose outcome depends on the order the CNI lists pods in: no predicate can say what a
# run will observe, so the generated universe avoids them, and these functions prove it does (one
# per `avoided:` entry of DEVIATIONS_FILE, same id): each names the pods that would trigger it.
def _named_port_aliasing(pods: Sequence[Workload], watched: Sequence[Workload]) -> list[str]:
    """Pods of `watched` whose cells kube-router may decide by listing order: a pod `w` that shares
    a (name, protocol, number) with another pod `o`, where `o` names a port of `w`'s numbers that
    `w` does not name so. Listed after `o`, `w`'s address joins every named port of `o`, and `w`
    is accepted on that number by a rule naming `o`'s port (see the `avoided:` entry)."""
    named = {w.key: {(p.name, p.protocol, p.port) for p in w.ports if p.name} for w in pods}
    found = []
    for w in watched:
        mine = {(p.name, p.protocol, p.port) for p in w.ports if p.name}
        numbers = {(p.protocol, p.port) for p in w.ports}
        for other, theirs in sorted(named.items()):
            shared = mine & theirs
            gained = sorted(t for t in theirs - mine if (t[1], t[2]) in numbers)
            if other != w.key and shared and gained:
                found.append(
                    f"{w.key} shares {', '.join(f'{n}={x}/{p}' for n, p, x in sorted(shared))} with {other}, "
                    f"which also names {', '.join(f'{n}={x}/{p}' for n, p, x in gained)}"
                )
    return found


AVOIDED: dict[str, Callable[[Sequence[Workload], Sequence[Workload]], list[str]]] = {
    "kube-router-named-port-address-aliasing": _named_port_aliasing,
}
