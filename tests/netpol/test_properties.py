"""Properties of NetworkPolicy semantics that must hold for any policies and workloads."""

import copy
import ipaddress

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from verification.models.netpol.model import (
    EGRESS,
    INGRESS,
    NAME_LABEL,
    Model,
    Port,
    Workload,
    parse_policy,
    truth_table,
)

NAMESPACES = ("x", "y", "z")
LABEL_KEYS = ("app", "tier")
LABEL_VALUES = ("a", "b")
PORT_POOL = (Port(80, "TCP", "http"), Port(81, "TCP", "metrics"), Port(53, "UDP", "dns"), Port(9000, "SCTP"))
NS_LABELS = {ns: {"env": "prod" if ns == "x" else "dev", NAME_LABEL: ns} for ns in NAMESPACES}

labels = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=2)
expression = st.builds(
    lambda key, op, values: {"key": key, "operator": op, **({"values": values} if op in ("In", "NotIn") else {})},
    st.sampled_from((*LABEL_KEYS, "env", NAME_LABEL)),
    st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")),
    st.lists(st.sampled_from((*LABEL_VALUES, *NAMESPACES, "prod")), min_size=1, max_size=2, unique=True),
)
selector = st.fixed_dictionaries(
    {}, optional={"matchLabels": labels, "matchExpressions": st.lists(expression, max_size=2)}
)
ip_block = st.sampled_from(
    [{"cidr": "10.0.0.0/24"}, {"cidr": "10.0.0.0/24", "except": ["10.0.0.2/32"]}, {"cidr": "0.0.0.0/0"}]
)
peer = st.one_of(
    st.builds(lambda s: {"podSelector": s}, selector),
    st.builds(lambda s: {"namespaceSelector": s}, selector),
    st.builds(lambda p, n: {"podSelector": p, "namespaceSelector": n}, selector, selector),
    st.builds(lambda b: {"ipBlock": b}, ip_block),
)
policy_port = st.one_of(
    st.fixed_dictionaries({}, optional={"protocol": st.sampled_from(("TCP", "UDP", "SCTP"))}),
    st.fixed_dictionaries(
        {"port": st.sampled_from((80, 81, 53, 9000, "http", "metrics", "dns"))},
        optional={"protocol": st.sampled_from(("TCP", "UDP", "SCTP"))},
    ),
    st.builds(lambda p, e: {"port": p, "endPort": p + e}, st.sampled_from((53, 80, 81)), st.integers(0, 30)),
)


def rule(peer_field: str) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {}, optional={peer_field: st.lists(peer, max_size=2), "ports": st.lists(policy_port, max_size=2)}
    )


@st.composite
def policy(draw: st.DrawFn, name: str = "p") -> dict:
    spec: dict = {"podSelector": draw(selector)}
    types = draw(st.sampled_from([None, [INGRESS], [EGRESS], [INGRESS, EGRESS]]))
    if types:
        spec["policyTypes"] = types
    for field, peer_field in (("ingress", "from"), ("egress", "to")):
        rules = draw(st.one_of(st.none(), st.lists(rule(peer_field), max_size=2)))
        if rules is not None:
            spec[field] = rules
    namespace = draw(st.sampled_from(NAMESPACES))
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


policies = st.lists(policy(), max_size=4).map(
    lambda ps: [dict(p, metadata={**p["metadata"], "name": f"p{i}"}) for i, p in enumerate(ps)]
)


@st.composite
def workloads(draw: st.DrawFn) -> list[Workload]:
    found = []
    for i in range(draw(st.integers(1, 5))):
        ports = tuple(draw(st.lists(st.sampled_from(PORT_POOL), max_size=3, unique=True)))
        ip = draw(st.one_of(st.none(), st.sampled_from(["10.0.0.1", "10.0.0.2", "192.168.0.1"])))
        found.append(
            Workload(
                draw(st.sampled_from(NAMESPACES)),
                f"w{i}",
                draw(labels),
                ports,
                ipaddress.ip_address(ip) if ip else None,
            )
        )
    return found


def table(raw_policies: list[dict], ws: list[Workload]) -> dict[tuple[str, str], bool]:
    parsed = [parse_policy(copy.deepcopy(p)) for p in raw_policies]
    result = truth_table(parsed, ws, NS_LABELS).as_table()
    return {(src, dst): allowed for src, row in result.items() for dst, allowed in row.items()}


PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(policies, workloads(), st.data())
def test_adding_an_allow_rule_never_removes_a_connection(raw: list[dict], ws: list[Workload], data) -> None:
    if not raw:
        raw = [data.draw(policy())]
    before = table(raw, ws)
    grown = copy.deepcopy(raw)
    target = grown[data.draw(st.integers(0, len(grown) - 1))]
    # Make the types explicit first (same semantics), so the new rule cannot switch on a direction.
    target["spec"]["policyTypes"] = sorted(parse_policy(copy.deepcopy(target)).policy_types)
    direction = data.draw(st.sampled_from(target["spec"]["policyTypes"]))
    field, peer_field = ("ingress", "from") if direction == INGRESS else ("egress", "to")
    target["spec"].setdefault(field, []).append(data.draw(rule(peer_field)))
    after = table(grown, ws)
    assert before.keys() == after.keys()
    assert [cell for cell, allowed in before.items() if allowed and not after[cell]] == []


@PROPERTY
@given(policies, workloads(), policy(name="selects-nothing"))
def test_a_policy_selecting_no_pod_changes_nothing(raw: list[dict], ws: list[Workload], extra: dict) -> None:
    extra["spec"]["podSelector"] = {"matchExpressions": [{"key": "no-pod-has-this", "operator": "Exists"}]}
    assert table([*raw, extra], ws) == table(raw, ws)


@PROPERTY
@given(policies, workloads(), st.randoms(use_true_random=False))
def test_policy_order_does_not_matter(raw: list[dict], ws: list[Workload], rnd) -> None:
    shuffled = list(raw)
    rnd.shuffle(shuffled)
    assert table(shuffled, ws) == table(raw, ws)


@PROPERTY
@given(policies, workloads(), st.sampled_from(NAMESPACES), st.sampled_from([INGRESS, EGRESS]))
def test_adding_a_default_deny_never_adds_a_connection(raw: list[dict], ws: list[Workload], ns: str, direction: str):
    deny = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": ns},
        "spec": {"podSelector": {}, "policyTypes": [direction]},
    }
    before, after = table(raw, ws), table([*raw, deny], ws)
    assert [cell for cell, allowed in after.items() if allowed and not before[cell]] == []


@PROPERTY
@given(policies, workloads())
def test_table_has_every_ordered_pair_and_destination_port(raw: list[dict], ws: list[Workload]) -> None:
    expected = {(s.key, f"{d.key}:{p.port}/{p.protocol}") for s in ws for d in ws for p in d.ports}
    assert set(table(raw, ws)) == expected


# Two sources one rule tells apart, towards a destination whose named port the rule names.
_ONE_OF_TWO = {
    "kind": "NetworkPolicy",
    "metadata": {"name": "p0", "namespace": "x"},
    "spec": {
        "podSelector": {},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": "http"}]}],
    },
}
_TWO_SOURCES = [
    Workload("x", "w0", {"app": "a"}, (Port(80, "TCP", "http"), Port(81, "TCP"))),
    Workload("x", "w1", {"app": "b"}, (Port(80, "TCP"),)),
]


@PROPERTY
@given(policies, workloads())
@example([_ONE_OF_TWO], _TWO_SOURCES)
def test_truth_table_cells_equal_single_verdicts(raw: list[dict], ws: list[Workload]) -> None:
    # The table decides each distinct (rules admitting the peer, destination) once and shares the
    # answer; a connection asked on its own must get the same verdict, reasons included.
    parsed = [parse_policy(copy.deepcopy(p)) for p in raw]
    matrix = Model(parsed, NS_LABELS).truth_table(ws)
    alone = Model(parsed, NS_LABELS)
    for (_, _), verdict in matrix.verdicts.items():
        single = alone.verdict(verdict.src, verdict.dst, verdict.port)
        assert (verdict.egress, verdict.ingress) == (single.egress, single.ingress), single.explain()
