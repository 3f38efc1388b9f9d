"""The live-matrix verdict: drift, known deviations and stale entries, on hand-built two-pod cases."""

from pathlib import Path

import pytest

from verification.errors import UserError
from verification.models.netpol.model import Model, Port, Workload
from verification.verdicts.netpol import Deviation, judge, load_deviations, policy_drift
from verification.verdicts.verdict import Row

A = Workload("x", "a", {"app": "a"}, (Port(80),))
B = Workload("x", "b", {"app": "b"}, (Port(80),))
WORKLOADS = [A, B]


def np(name: str, spec: dict) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": "x"}, "spec": spec}


DENY_B = np("deny-b", {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"]})
ALLOW_A_TO_B = np(
    "allow-a",
    {
        "podSelector": {"matchLabels": {"app": "b"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}]}],
    },
)
REPO = [DENY_B, ALLOW_A_TO_B]


def table(objects: list[dict]) -> dict[str, dict[str, bool]]:
    return Model.from_objects(objects).truth_table(WORKLOADS).as_table()


def test_the_repository_model_of_the_cases_is_as_hand_derived() -> None:
    # b admits only a; a admits everyone (no policy selects it).
    assert table(REPO) == {
        "x/a": {"x/a:80/TCP": True, "x/b:80/TCP": True},
        "x/b": {"x/a:80/TCP": True, "x/b:80/TCP": False},
    }


def test_equal_matrix_without_drift_is_green() -> None:
    verdict, known = judge(table(REPO), table(REPO), WORKLOADS, drift=policy_drift(REPO, REPO))
    assert verdict.ok and known == [] and not verdict.notes
    assert (
        verdict.render()
        == "live matrix against the model of the repository's policies (known deviations applied): 0 of 4 cells differ"
    )


def test_deleted_policy_is_named_as_the_cause() -> None:
    live = [DENY_B]  # allow-a deleted in the cluster: a can no longer reach b
    drift = policy_drift(REPO, live)
    assert drift == [Row("NetworkPolicy x/allow-a", "as in <unknown>", "missing from the cluster")]
    verdict, _ = judge(table(REPO), table(live), WORKLOADS, drift=drift, live_objects=live)
    assert not verdict.ok
    message = verdict.render()
    assert "cause: the cluster's NetworkPolicies are not the repository's" in message
    assert "NetworkPolicy x/allow-a  as in <unknown>  missing from the cluster" in message
    assert "equals the model of the cluster's live policies" in message
    assert "1 of 4 cells differ, 1 of 1 rows differ" in message


def test_edited_and_added_policies_are_named() -> None:
    edited = np("deny-b", {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Ingress"]})
    extra = np("extra", {"podSelector": {}})
    assert policy_drift(REPO, [edited, ALLOW_A_TO_B, extra]) == [
        Row("NetworkPolicy x/deny-b", "as in <unknown>", "different in the cluster"),
        Row("NetworkPolicy x/extra", "not in the repository", "in the cluster"),
    ]
    assert policy_drift(REPO, [*REPO, extra], harness=["x/extra"]) == []


def test_api_server_defaults_are_not_drift() -> None:
    # The API server fills policyTypes and the port protocol; parsing applies the same defaults.
    bare = np("p", {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]})
    port = {"port": 80, "protocol": "TCP"}
    defaulted = np("p", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"ports": [port]}]})
    assert policy_drift([bare], [defaulted]) == []


def test_unexplained_difference_blames_the_implementation() -> None:
    observed = table(REPO)
    observed["x/b"]["x/b:80/TCP"] = True
    verdict, _ = judge(table(REPO), observed, WORKLOADS, drift=[])
    assert not verdict.ok
    assert "enforces them differently from the model" in verdict.render()
    assert "x/b -> x/b: expected denied, observed allowed" in verdict.render()


SELF = Deviation("x/b", "x/b:80/TCP", model=False, observed=True, implementation="impl 1", reason="why")


def test_known_deviation_is_reported_not_failed() -> None:
    observed = table(REPO)
    observed["x/b"]["x/b:80/TCP"] = True
    verdict, known = judge(table(REPO), observed, WORKLOADS, deviations=[SELF])
    assert verdict.ok, verdict.render()
    assert known == [SELF]
    assert verdict.notes == ["known deviation (impl 1): x/b -> x/b:80/TCP: model denied, observed allowed: why"]


def test_known_deviation_that_no_longer_deviates_fails_as_stale() -> None:
    verdict, _ = judge(table(REPO), table(REPO), WORKLOADS, deviations=[SELF])
    assert not verdict.ok
    assert verdict.differing_rows == [
        Row(
            "x/b -> x/b:80/TCP",
            "allowed (listed in platform/kind/netpol-deviations.yaml)",
            "denied",
            "stale entry: the cell no longer deviates",
        )
    ]


def test_deviation_for_a_cell_the_model_now_answers_otherwise_is_ignored() -> None:
    # The repository changed so the model allows the cell: the entry says nothing about it now.
    expected = table(REPO)
    expected["x/b"]["x/b:80/TCP"] = True
    assert judge(expected, expected, WORKLOADS, deviations=[SELF])[0].ok


def test_the_repository_deviation_file_loads() -> None:
    for d in load_deviations():
        assert d.model != d.observed and d.reason and "->" in d.cell


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "expected a mapping with a list `deviations`"),
        ("deviations: [1]", "deviations\\[0\\]: expected a mapping"),
        ("deviations: [{source: a}]", "deviations\\[0\\]: missing field\\(s\\) destination, evidence"),
        (
            "deviations: [{source: a, destination: b, model: allowed, observed: allowed, implementation: i, "
            "reason: r, evidence: e}]",
            "must be different values",
        ),
        (
            "deviations: [{source: a, destination: b, model: allowed, observed: denied, implementation: i, "
            "reason: r, evidence: e, colour: red}]",
            "deviations\\[0\\]: unknown field\\(s\\) colour",
        ),
    ],
)
def test_bad_deviation_file_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_deviations(_write(tmp_path, text))


# ---------------------------------------------------------------- deviation classes (kube-router v2.1.0)


def _class_model(*policies: dict) -> Model:
    from verification.models.netpol.model import parse_policy

    return Model([parse_policy(p) for p in policies], {})


def _np(namespace: str, spec: dict) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": namespace}, "spec": spec}


def test_shared_chain_class_accepts_egress_through_the_policys_ingress_rule() -> None:
    from verification.verdicts.netpol import class_deviations

    a = Workload("ns", "a", {"x": "1"}, (Port(80),))
    b = Workload("ns", "b", {"x": "1"}, (Port(80),))
    c = Workload("ns", "c", {}, (Port(80),))
    # Selects a and b for Ingress and Egress; ingress on 80 from anywhere; no egress rule.
    model = _class_model(
        _np(
            "ns",
            {
                "podSelector": {"matchLabels": {"x": "1"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": 80}]}],
            },
        )
    )
    table = model.truth_table([a, b, c]).as_table()
    assert table["ns/a"]["ns/b:80/TCP"] is False and table["ns/c"]["ns/b:80/TCP"] is True
    found = {(d.source, d.destination, d.implementation) for d in class_deviations(model, [a, b, c], table)}
    # a -> b: a's egress crosses the policy's chain, whose ingress rule accepts packets to b.
    # a -> c: c is not selected by the policy, so its ingress rule does not match: still denied.
    assert found == {
        ("ns/a", "ns/a:80/TCP", "kube-router-shared-policy-chain"),
        ("ns/a", "ns/b:80/TCP", "kube-router-shared-policy-chain"),
        ("ns/b", "ns/a:80/TCP", "kube-router-shared-policy-chain"),
        ("ns/b", "ns/b:80/TCP", "kube-router-shared-policy-chain"),
    }


def test_named_port_without_to_class_opens_the_number_everywhere() -> None:
    from verification.verdicts.netpol import class_deviations

    src = Workload("one", "src", {"role": "client"}, (Port(80, "TCP", "http"),))
    other = Workload("two", "dst", {}, (Port(80, "TCP"), Port(81, "TCP", "http")))
    model = _class_model(
        _np(
            "one",
            {
                "podSelector": {"matchLabels": {"role": "client"}},
                "policyTypes": ["Egress"],
                "egress": [{"ports": [{"port": "http"}]}],
            },
        )
    )
    table = model.truth_table([src, other]).as_table()
    # By the API the name resolves on the destination: two/dst's http is 81.
    assert table["one/src"] == {"one/src:80/TCP": True, "two/dst:80/TCP": False, "two/dst:81/TCP": True}
    found = {(d.source, d.destination, d.implementation) for d in class_deviations(model, [src, other], table)}
    # kube-router resolves http on the pods of namespace one (80) and opens 80 towards everyone.
    assert found == {("one/src", "two/dst:80/TCP", "kube-router-egress-named-port-without-to")}


def test_unresolved_named_port_class_opens_every_port_to_the_selected_peers() -> None:
    from verification.verdicts.netpol import class_deviations

    # case-009 of the generated live run: pod a names no UDP port udp-81 (its 81/UDP has no name).
    a = Workload("y", "a", {"pod": "a"}, (Port(80, "TCP", "http"), Port(81, "UDP")))
    b = Workload("y", "b", {"pod": "b", "canary": "true"}, (Port(80, "TCP"), Port(81, "UDP", "udp-81")))
    c = Workload("y", "c", {"pod": "c"}, (Port(80, "TCP"),))
    rule = {"from": [{"podSelector": {"matchExpressions": [{"key": "canary", "operator": "Exists"}]}}]}
    spec = {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Ingress"]}
    unresolved = _class_model(_np("y", spec | {"ingress": [rule | {"ports": [{"protocol": "UDP", "port": "udp-81"}]}]}))
    table = unresolved.truth_table([a, b, c]).as_table()
    # By the API the name resolves on a, which lacks it: the rule allows nothing, a is isolated.
    assert not any(table[src]["y/a:80/TCP"] or table[src]["y/a:81/UDP"] for src in ("y/a", "y/b", "y/c"))
    found = {(d.source, d.destination, d.implementation) for d in class_deviations(unresolved, [a, b, c], table)}
    # kube-router keeps no port: b (the canary peer) reaches a on every port; c is no peer.
    name = "kube-router-unresolved-named-port-every-port"
    assert found == {("y/b", "y/a:80/TCP", name), ("y/b", "y/a:81/UDP", name)}
    # A numbered port beside the name keeps the rule to its ports: the model's answer stands.
    numbered = _class_model(
        _np("y", spec | {"ingress": [rule | {"ports": [{"protocol": "UDP", "port": "udp-81"}, {"port": 80}]}]})
    )
    table = numbered.truth_table([a, b, c]).as_table()
    assert table["y/b"] == {"y/a:80/TCP": True, "y/a:81/UDP": False, "y/b:80/TCP": True, "y/b:81/UDP": True,
                            "y/c:80/TCP": True}  # fmt: skip
    assert class_deviations(numbered, [a, b, c], table) == []


def test_unresolved_named_port_class_resolves_egress_names_on_every_pod_the_peers_select() -> None:
    from verification.verdicts.netpol import class_deviations

    src = Workload("x", "a", {"pod": "a"}, (Port(80, "TCP"),))
    dst = Workload("x", "b", {"pod": "b", "canary": "true"}, (Port(80, "TCP"), Port(81, "TCP", "http")))
    # case-034: egress of a to the canary pods of any namespace, TCP port `metrics`, which b lacks.
    model = _class_model(
        _np(
            "x",
            {
                "podSelector": {"matchLabels": {"pod": "a"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"canary": "true"}}}],
                        "ports": [{"port": "metrics"}],
                    }
                ],
            },
        )
    )
    table = model.truth_table([src, dst]).as_table()
    assert table["x/a"] == {"x/a:80/TCP": False, "x/b:80/TCP": False, "x/b:81/TCP": False}
    found = {(d.source, d.destination) for d in class_deviations(model, [src, dst], table)}
    assert found == {("x/a", "x/b:80/TCP"), ("x/a", "x/b:81/TCP")}
    # A pod elsewhere in the cluster that the peer selects and that names a TCP port `metrics`
    # gives kube-router a port for the rule: towards b, nothing opens.
    other = Workload("kube-system", "coredns", {"canary": "true"}, (Port(9153, "TCP", "metrics"),))
    assert class_deviations(model, [src, dst, other], table) == []
    # The same name under another protocol resolves nothing.
    udp = Workload("kube-system", "coredns", {"canary": "true"}, (Port(9153, "UDP", "metrics"),))
    assert {(d.source, d.destination) for d in class_deviations(model, [src, dst, udp], table)} == found


def test_shared_chain_class_programs_egress_names_as_kube_router_does() -> None:
    import ipaddress

    from verification.verdicts.netpol import class_deviations

    a = Workload("x", "a", {"pod": "a"}, (Port(81, "UDP"),), ipaddress.ip_address("10.0.0.1"))
    b = Workload("x", "b", {"pod": "b"}, (Port(81, "UDP", "udp-81"),), ipaddress.ip_address("10.0.0.2"))
    both = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": []}
    # case-045: an egress rule without `to` resolves udp-81 on the namespace's pods (81), so the
    # policy's one chain also accepts a's ingress from a on 81/UDP; a's egress there is the class
    # kube-router-egress-named-port-without-to. By the API both sides deny (a names no udp-81).
    without_to = _class_model(_np("x", both | {"egress": [{"ports": [{"protocol": "UDP", "port": "udp-81"}]}]}))
    table = without_to.truth_table([a, b]).as_table()
    assert table["x/a"] == {"x/a:81/UDP": False, "x/b:81/UDP": False}
    found = {(d.source, d.destination) for d in class_deviations(without_to, [a, b], table)}
    assert found == {("x/a", "x/a:81/UDP"), ("x/a", "x/b:81/UDP"), ("x/b", "x/a:81/UDP"), ("x/b", "x/b:81/UDP")}
    # case-042: towards an ipBlock kube-router programs the rule's numbered ports only, so a named
    # port there accepts nothing, in the shared chain neither.
    to_block = _class_model(
        _np("x", both | {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                      "ports": [{"protocol": "UDP", "port": "udp-81"}]}]})
    )  # fmt: skip
    table = to_block.truth_table([a, b]).as_table()
    assert table["x/a"] == {"x/a:81/UDP": False, "x/b:81/UDP": False}  # b's ingress: isolated, no rule
    assert class_deviations(to_block, [a, b], table) == []


def test_ipblock_class_denies_egress_allowed_only_by_a_named_port_towards_a_block() -> None:
    import ipaddress

    from verification.verdicts.netpol import class_deviations

    src = Workload("z", "b", {"pod": "b"}, (Port(80, "UDP", "udp-80"),), ipaddress.ip_address("10.0.0.1"))
    dst = Workload(
        "x", "a", {"pod": "a"}, (Port(80, "UDP", "udp-80"), Port(81, "UDP")), ipaddress.ip_address("10.0.0.2")
    )
    egress = {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "UDP", "port": "udp-80"}]}
    spec = {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Egress"]}
    # case-042: by the API udp-80 resolves on x/a (80/UDP): allowed; kube-router programs no port.
    model = _class_model(_np("z", spec | {"egress": [egress]}))
    table = model.truth_table([src, dst]).as_table()
    assert table["z/b"] == {"z/b:80/UDP": True, "x/a:80/UDP": True, "x/a:81/UDP": False}
    found = {(d.source, d.destination, d.model, d.observed) for d in class_deviations(model, [src, dst], table)}
    assert found == {("z/b", "z/b:80/UDP", True, False), ("z/b", "x/a:80/UDP", True, False)}
    # A numbered port beside it is programmed: nothing deviates.
    numbered = _class_model(
        _np("z", spec | {"egress": [egress | {"ports": [*egress["ports"], {"protocol": "UDP", "port": 80}]}]})
    )
    assert class_deviations(numbered, [src, dst], numbered.truth_table([src, dst]).as_table()) == []
