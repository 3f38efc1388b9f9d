"""The generated NetworkPolicy cases of the live comparison (verification/models/netpol/generated.py)."""

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from verification.models.netpol import generated as gen
from verification.models.netpol.model import parse_policy

LANES = 3
# Two addresses per workload (source and destination pods), all in 10.244.0.0/24.
IPS = {w.key: (f"10.244.0.{2 * i + 10}", f"10.244.0.{2 * i + 11}") for i, w in enumerate(gen.workloads(LANES))}
REQUIRED = {
    "TCP", "UDP", "SCTP", "numbered port", "named port", "endPort", "every port of a protocol", "ipBlock with except",
    "AND peer", "namespace peer", "pod peer", "empty peer selector", "empty podSelector", "operator In",
    "operator NotIn", "operator Exists", "operator DoesNotExist", "policyTypes defaulted", "policyTypes Ingress",
    "policyTypes Egress", "policyTypes Ingress+Egress", "policy in namespace y", "policy in namespace z",
}  # fmt: skip


def test_same_seed_same_cases_and_every_policy_is_valid() -> None:
    cases = gen.generate(200, 8)
    assert cases == gen.generate(200, 8)
    assert cases != gen.generate(200, 8, seed=1)
    for case in cases:
        for policy in case.policies:
            parse_policy(gen.resolve(policy, IPS | {w.key: ("10.0.0.1",) for w in gen.workloads(8)}))


def test_two_hundred_cases_cover_every_required_feature_many_times() -> None:
    counts = {f: sum(f in c.features() for c in gen.generate(200, 8)) for f in REQUIRED}
    assert {f: n for f, n in counts.items() if n < 10} == {}


def test_batches_hold_one_case_per_lane() -> None:
    groups = gen.batches(gen.generate(20, 8), 8)
    assert [len(g) for g in groups] == [8, 8, 4]
    assert all(len({c.lane for c in g}) == len(g) for g in groups)


def test_ipblock_templates_resolve_around_both_pods_of_a_workload() -> None:
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "npg-0-x"},
        "spec": {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {"ipBlock": {"template": "pods-except-workload", "workload": "npg-0-y/b"}},
                        {"ipBlock": {"template": "no-pod", "workload": "npg-0-y/b"}},
                    ]
                }
            ],
        },
    }
    peers = gen.resolve(policy, IPS)["spec"]["ingress"][0]["from"]
    first, second = IPS["npg-0-y/b"]
    assert peers[0] == {"ipBlock": {"cidr": "10.244.0.0/26", "except": [f"{first}/32", f"{second}/32"]}}
    no_pod = ipaddress.ip_network(peers[1]["ipBlock"]["cidr"])
    assert not any(ipaddress.ip_address(a) in no_pod for pair in IPS.values() for a in pair)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_a_lanes_cells_depend_only_on_its_own_policies(seed: int) -> None:
    # What batching rests on: the other lanes' policies never change a lane's cells.
    cases = gen.generate(LANES, LANES, seed=seed)
    workloads = gen.workloads(LANES, {k: v[0] for k, v in IPS.items()})
    every = [gen.resolve(p, IPS) for c in cases for p in c.policies]
    together = gen.model(every, LANES).truth_table(workloads).as_table()
    for case in cases:
        alone = gen.model([gen.resolve(p, IPS) for p in case.policies], LANES).truth_table(workloads).as_table()
        assert gen.lane_table(together, case.lane) == gen.lane_table(alone, case.lane)
