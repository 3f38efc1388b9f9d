"""Single semantics of the NetworkPolicy model, each checked against a hand-derived answer."""

import ipaddress

import pytest

from verification.errors import UserError
from verification.models import selectors
from verification.models.netpol.model import (
    NAME_LABEL,
    Model,
    Port,
    Workload,
    namespace_labels_from,
    parse_policy,
)
from verification.verdicts.netpol import matrix_verdict


def np(namespace: str, spec: dict, name: str = "p") -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({}, {}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),  # absent key
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "x"}, False),
        (
            {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]},
            {"a": "1"},
            False,
        ),  # matchLabels AND expressions
    ],
)
def test_label_selector(selector: dict, labels: dict, matches: bool) -> None:
    assert selectors.matches(selector, labels) is matches


@pytest.mark.parametrize(
    ("spec", "types"),
    [
        ({"podSelector": {}}, {"Ingress"}),
        ({"podSelector": {}, "egress": [{}]}, {"Ingress", "Egress"}),
        ({"podSelector": {}, "egress": []}, {"Ingress"}),  # empty list: no Egress by default
        ({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]}, {"Egress"}),
    ],
)
def test_policy_types_default(spec: dict, types: set[str]) -> None:
    policy = parse_policy(np("x", spec))
    assert policy.policy_types == types
    if "Ingress" not in types:
        assert policy.ingress == ()  # rules of a direction outside policyTypes are ignored


def test_namespace_labels_always_carry_the_name_label() -> None:
    objects = [
        {"kind": "Namespace", "metadata": {"name": "a", "labels": {"env": "prod"}}},
        {"kind": "Namespace", "metadata": {"name": "b"}},
    ]
    assert namespace_labels_from(objects) == {"a": {"env": "prod", NAME_LABEL: "a"}, "b": {NAME_LABEL: "b"}}
    assert Model([], {}).labels_of_namespace("c") == {NAME_LABEL: "c"}


def test_namespace_without_object_has_only_its_name_label() -> None:
    src = Workload("nowhere", "client", {})
    dst = Workload("shop", "web", {}, (Port(80),))
    by_label = parse_policy(
        np("shop", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"env": "x"}}}]}]})
    )
    by_name = parse_policy(
        np(
            "shop",
            {
                "podSelector": {},
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {NAME_LABEL: "nowhere"}}}]}],
            },
        )
    )
    assert not Model([by_label], {}).verdict(src, dst, Port(80)).allowed
    assert Model([by_name], {}).verdict(src, dst, Port(80)).allowed


def test_ip_block_matches_only_workloads_with_a_known_ip() -> None:
    policy = parse_policy(
        np(
            "x",
            {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]},
        )
    )
    src = Workload("x", "client", {})
    without_ip = Workload("y", "server", {}, (Port(80),))
    with_ip = Workload("y", "server", {}, (Port(80),), ipaddress.ip_address("10.1.2.3"))
    ipv6 = Workload("y", "server", {}, (Port(80),), ipaddress.ip_address("fd00::1"))
    model = Model([policy], {})
    assert not model.verdict(src, without_ip, Port(80)).allowed
    assert model.verdict(src, with_ip, Port(80)).allowed
    assert not model.verdict(src, ipv6, Port(80)).allowed


def test_named_port_resolves_against_the_destination() -> None:
    # Egress to port "web": 9090 on prometheus, 8080 on the app (whose 9090 is named otherwise).
    policy = parse_policy(
        np("x", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "web"}]}]})
    )
    src = Workload("x", "client", {})
    prometheus = Workload("y", "prometheus", {}, (Port(9090, "TCP", "web"),))
    app = Workload("y", "app", {}, (Port(8080, "TCP", "web"), Port(9090, "TCP", "other")))
    model = Model([policy], {})
    assert model.verdict(src, prometheus, Port(9090, "TCP", "web")).allowed
    assert model.verdict(src, app, Port(8080, "TCP", "web")).allowed
    assert not model.verdict(src, app, Port(9090, "TCP", "other")).allowed


def test_null_pod_selector_in_a_peer_is_absent() -> None:
    # {namespaceSelector: {}, podSelector: null} = every pod of every namespace, not only own namespace.
    policy = parse_policy(
        np("x", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": None}]}]})
    )
    assert Model([policy], {}).verdict(Workload("y", "c", {}), Workload("x", "s", {}, (Port(80),)), Port(80)).allowed


def test_explanation_names_the_deciding_policies() -> None:
    deny = parse_policy(np("x", {"podSelector": {}, "policyTypes": ["Ingress"]}, name="deny"))
    allow = parse_policy(
        np("x", {"podSelector": {}, "ingress": [{"ports": [{"port": 81}]}]}, name="allow-81"),
    )
    src, dst = Workload("y", "c", {}), Workload("x", "s", {}, (Port(80), Port(81)))
    model = Model([deny, allow], {})
    assert model.verdict(src, dst, Port(80)).explain() == (
        "y/c -> x/s:80/TCP denied: egress allowed (no policy isolates it); "
        "ingress denied: isolated by x/deny, x/allow-81, no rule matches"
    )
    assert model.verdict(src, dst, Port(81)).explain().endswith("ingress allowed by x/allow-81")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"podSelector": {}, "policyTypes": ["Both"]}, "policyTypes must list Ingress and/or Egress"),
        ({"podSelector": {}, "ingres": []}, "unknown field(s) ingres"),
        ({"podSelector": {}, "ingress": [{"ports": [{"port": 0}]}]}, "port 0 out of range"),
        ({"podSelector": {}, "ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}, "endPort 80 must be between"),
        (
            {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]},
            "ipBlock cannot be combined",
        ),
        (
            {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}},
            "operator Exists takes no values",
        ),
    ],
)
def test_invalid_policies_are_user_errors(spec: dict, message: str) -> None:
    with pytest.raises(UserError, match="NetworkPolicy x/p") as err:
        parse_policy(np("x", spec))
    assert message in str(err.value)


def test_policy_without_namespace_is_rejected() -> None:
    with pytest.raises(UserError, match=r"metadata.name and metadata.namespace are required"):
        parse_policy({"kind": "NetworkPolicy", "metadata": {"name": "p"}, "spec": {"podSelector": {}}})


def test_matrix_cells_and_matrix_verdict() -> None:
    deny = parse_policy(np("x", {"podSelector": {}, "policyTypes": ["Ingress"]}, name="deny"))
    workloads = [Workload("x", "s", {}, (Port(80),)), Workload("y", "c", {}, (Port(53, "UDP"),))]
    matrix = Model([deny], {}).truth_table(workloads)
    assert matrix.cell("y/c", "x/s", 80) is False
    assert matrix.cell("x/s", "y/c", 53, "UDP") is True
    table = matrix.as_table()
    assert table == {
        "x/s": {"x/s:80/TCP": False, "y/c:53/UDP": True},
        "y/c": {"x/s:80/TCP": False, "y/c:53/UDP": True},
    }
    assert matrix_verdict("live", table, table, workloads).render() == "live: 0 of 4 cells differ"
    flipped = {"x/s": {**table["x/s"], "x/s:80/TCP": True}, "y/c": table["y/c"]}
    report = matrix_verdict("live", flipped, table, workloads).render()
    assert (
        report.startswith("live: 1 of 4 cells differ\n\nport 80/TCP")
        and "x/s -> x/s: expected allowed, observed denied" in report
    )
    assert "53/UDP" not in report  # only ports that differ are shown
