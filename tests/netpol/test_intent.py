"""The reachability intent format: patterns, ports and protocols, and its error messages."""

import pytest

from verification.errors import UserError
from verification.models.netpol.model import LAYER_KEYS, Port, Workload, intent_table, parse_reachability

WORKLOADS = [
    Workload("a", "web", {}, (Port(8080, "TCP", "http"), Port(9100, "TCP", "metrics"))),
    Workload("a", "dns", {}, (Port(53, "UDP", "dns"), Port(53, "TCP", "dns-tcp"))),
    Workload("b", "client", {}),
]


def allowed(flows: list[dict]) -> set[tuple[str, str]]:
    table = parse_reachability({"allow": flows}, "intent.yaml", WORKLOADS)
    return {(src, target) for src, row in table.items() for target, ok in row.items() if ok}


def test_nothing_listed_denies_every_cell() -> None:
    table = parse_reachability({"allow": []}, "intent.yaml", WORKLOADS)
    assert set(table) == {"a/web", "a/dns", "b/client"}
    assert all(row == dict.fromkeys(row, False) and len(row) == 4 for row in table.values())


def test_port_by_name_number_protocol_and_star() -> None:
    assert allowed([{"from": "b/client", "to": "a/web", "port": "http"}]) == {("b/client", "a/web:8080/TCP")}
    assert allowed([{"from": "b/client", "to": "a/dns", "port": 53}]) == {
        ("b/client", "a/dns:53/UDP"),
        ("b/client", "a/dns:53/TCP"),
    }
    assert allowed([{"from": "b/client", "to": "a/dns", "port": 53, "protocol": "UDP"}]) == {
        ("b/client", "a/dns:53/UDP")
    }
    assert allowed([{"from": "b/*", "to": "a/web", "port": "*"}]) == {
        ("b/client", "a/web:8080/TCP"),
        ("b/client", "a/web:9100/TCP"),
    }


def test_star_pattern_spans_namespaces() -> None:
    assert allowed([{"from": "*", "to": "a/web", "port": "metrics"}]) == {
        ("a/web", "a/web:9100/TCP"),
        ("a/dns", "a/web:9100/TCP"),
        ("b/client", "a/web:9100/TCP"),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping with a list `allow:` of flows"),
        ({"allow": [], "ingress": []}, "expected a mapping with a list `allow:` of flows"),
        ({"allow": [], "egress_only": {}}, "expected a mapping with a list `allow:` of flows"),
        ({"allow": [{"from": "b/client", "to": "a/web"}]}, "flow #1: missing field(s) port"),
        ({"allow": [{"from": "b/client", "to": "a/web", "port": "http", "ports": 1}]}, "unknown field(s) ports"),
        ({"allow": [{"from": "b/typo", "to": "a/web", "port": "http"}]}, "'b/typo' names no workload"),
        ({"allow": [{"from": "b/client", "to": "a/web", "port": "dns"}]}, "no destination matched by 'a/web' has"),
        ({"allow": [{"from": "b/client", "to": "a/web", "port": 80, "protocol": "tcp"}]}, "unknown protocol 'tcp'"),
    ],
)
def test_bad_intent_is_one_clear_error(data: object, message: str) -> None:
    with pytest.raises(UserError, match=r"^intent\.yaml") as err:
        parse_reachability(data, "intent.yaml", WORKLOADS)
    assert message in str(err.value)


def _layer_intent(data: object, direction: str) -> dict[str, dict[str, bool]]:
    """What one layer alone must allow, as boundaries.Boundaries.verdict asks it (without boundary_allow)."""
    return intent_table(data, "intent.yaml", WORKLOADS, ("allow", LAYER_KEYS[direction]))


def test_layer_intent_adds_its_own_flows_only() -> None:
    data = {
        "allow": [{"from": "b/client", "to": "a/web", "port": "http"}],
        "ingress_only": [{"from": "*", "to": "a/web", "port": "metrics"}],
        "egress_only": [{"from": "a/web", "to": "a/dns", "port": 53, "protocol": "UDP"}],
    }

    def cells(table: dict[str, dict[str, bool]]) -> set[tuple[str, str]]:
        return {(s, d) for s, row in table.items() for d, v in row.items() if v}

    allow = {("b/client", "a/web:8080/TCP")}
    assert cells(parse_reachability(data, "intent.yaml", WORKLOADS)) == allow
    assert cells(_layer_intent(data, "Ingress")) == allow | {
        ("a/web", "a/web:9100/TCP"),
        ("a/dns", "a/web:9100/TCP"),
        ("b/client", "a/web:9100/TCP"),
    }
    assert cells(_layer_intent(data, "Egress")) == allow | {("a/web", "a/dns:53/UDP")}


def test_bad_layer_flow_names_its_list() -> None:
    with pytest.raises(UserError, match=r"^intent\.yaml: egress_only flow #1 .*'b/typo' names no workload"):
        _layer_intent({"allow": [], "egress_only": [{"from": "b/typo", "to": "a/web", "port": 1}]}, "Egress")


def test_port_range_in_the_intent() -> None:
    assert allowed([{"from": "b/client", "to": "a/*", "port": "53-9000"}]) == {
        ("b/client", "a/web:8080/TCP"),
        ("b/client", "a/dns:53/UDP"),
        ("b/client", "a/dns:53/TCP"),
    }
