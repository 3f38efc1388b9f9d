"""Boundary workloads and single-layer checks (verification/models/netpol/boundaries.py), hand-checked."""

from hypothesis import given
from hypothesis import strategies as st

from verification.models import selectors
from verification.models.netpol.boundaries import Boundaries, near_misses, satisfying, synthetic_workloads
from verification.models.netpol.model import Model, Port, Workload, namespace_labels_from, parse_policy


def np(namespace: str, spec: dict, name: str = "p") -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def ns(name: str, **labels: str) -> dict:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


WEB = Workload("app", "web", {"role": "web"}, (Port(8080, "TCP", "http"), Port(9100, "TCP", "metrics")))
SCRAPER = Workload("mon", "scraper", {"role": "scraper"}, (Port(9090, "TCP", "web"),))
# app/web accepts metrics from scrapers of namespace mon only: one AND peer, one named port.
POLICIES = [
    np(
        "app",
        {
            "podSelector": {"matchLabels": {"role": "web"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mon"}},
                            "podSelector": {"matchLabels": {"role": "scraper"}},
                        }
                    ],
                    "ports": [{"port": "metrics"}],
                }
            ],
        },
        "allow-scrape",
    )
]


def model(policies: list[dict]) -> Model:
    return Model([parse_policy(p) for p in policies], namespace_labels_from([ns("app"), ns("mon")]))


def test_satisfying_labels_are_the_fewest_that_match() -> None:
    selector = {
        "matchLabels": {"a": "1"},
        "matchExpressions": [
            {"key": "b", "operator": "In", "values": ["x", "y"]},
            {"key": "c", "operator": "Exists"},
            {"key": "d", "operator": "NotIn", "values": ["z"]},
            {"key": "e", "operator": "DoesNotExist"},
        ],
    }
    assert satisfying(selector) == {"a": "1", "b": "x", "c": "present"}
    assert (
        satisfying({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}) is None
    )


def test_near_misses_fail_one_requirement_each() -> None:
    selector = {
        "matchLabels": {"a": "1"},
        "matchExpressions": [
            {"key": "b", "operator": "NotIn", "values": ["z"]},
            {"key": "c", "operator": "Exists"},
        ],
    }
    assert near_misses(selector) == [
        {"a": "not-1", "c": "present"},
        {"a": "1", "c": "present", "b": "z"},
        {"a": "1"},
    ]
    assert near_misses({}) == []  # an empty selector has no boundary


@given(
    st.dictionaries(st.sampled_from("abc"), st.sampled_from(["1", "2"]), max_size=2),
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"])), max_size=3
    ),
)
def test_satisfying_matches_and_near_misses_do_not(match_labels: dict, expressions: list) -> None:
    selector = {
        "matchLabels": match_labels,
        "matchExpressions": [
            {"key": k, "operator": op, **({"values": ["1"]} if op in ("In", "NotIn") else {})} for k, op in expressions
        ],
    }
    labels = satisfying(selector)
    if labels is not None:
        assert selectors.matches(selector, labels)
    for miss in near_misses(selector):
        assert not selectors.matches(selector, miss)


def test_synthetic_workloads_of_one_and_peer_and_a_named_port() -> None:
    augmented, synthetic = synthetic_workloads(model(POLICIES), [WEB, SCRAPER])
    by_kind = {(s.kind, s.workload.namespace, tuple(sorted(s.workload.labels.items()))) for s in synthetic}
    assert by_kind == {
        # the scraper's labels where the peer does not admit them: the policy's namespace, and default
        ("pods-elsewhere", "app", (("role", "scraper"),)),
        ("pods-elsewhere", "default", (("role", "scraper"),)),
        # the peer's namespace, pod selector failed
        ("near-miss", "mon", (("role", "not-scraper"),)),
        # app/web itself gains the ports around `metrics` (9100 without the name, 9099, 9101, UDP, SCTP)
        ("ports", "app", (("role", "web"),)),
        ("no-labels", "default", ()),
        ("no-labels", "app", ()),
        ("no-labels", "mon", ()),
        # every workload's twin in default (the scraper's twin is the pod elsewhere above)
        ("twin", "default", (("role", "web"),)),
    }
    web = next(w for w in augmented if w.key == "app/web")
    assert [p.label for p in web.ports] == ["8080/TCP", "9100/TCP", "9099/TCP", "9101/TCP", "9100/UDP", "9100/SCTP"]
    assert web.ports[4].name is None  # metrics is taken on 9100/TCP: port names are unique in a pod


def _intent(*flows: dict) -> dict:
    return {"allow": list(flows), "egress_only": EGRESS_OPEN}


SCRAPE = {"from": "mon/scraper", "to": "app/web", "port": "metrics", "protocol": "TCP"}
# Only app/web is isolated (ingress): every other destination is open to every source, and
# no egress is isolated.
EGRESS_OPEN = [{"from": "*", "to": "*", "port": "*"}]
OPEN = [
    {"from": "*", "to": "mon/*", "port": "*"},
    {"from": "*", "to": "default/*", "port": "*"},
    {"from": "*", "to": "app/~*", "port": "*"},
]


def test_exact_policy_equals_exact_intent_in_both_layers() -> None:
    b = Boundaries.of(model(POLICIES), [WEB, SCRAPER], _intent(SCRAPE, *OPEN), "intent.yaml")
    assert b.verdict().ok and b.verdict("Ingress").ok and b.verdict("Egress").ok


def test_and_split_into_or_shows_on_the_boundary_pods() -> None:
    split = POLICIES[0] | {"spec": dict(POLICIES[0]["spec"])}
    peer = POLICIES[0]["spec"]["ingress"][0]["from"][0]
    split["spec"]["ingress"] = [
        {
            "from": [{"namespaceSelector": peer["namespaceSelector"]}, {"podSelector": peer["podSelector"]}],
            "ports": [{"port": "metrics"}],
        }
    ]
    intent = _intent(SCRAPE, *OPEN)
    # The platform's two workloads cannot tell: their truth table is the same.
    assert (
        model([split]).truth_table([WEB, SCRAPER]).as_table() == model(POLICIES).truth_table([WEB, SCRAPER]).as_table()
    )
    report = Boundaries.of(model([split]), [WEB, SCRAPER], intent, "intent.yaml").verdict("Ingress").render()
    # Any pod of namespace mon now passes: the label-less boundary pod there shows it.
    assert report.startswith("ingress alone: platform + synthetic boundary workloads against ")
    assert report.splitlines()[0].endswith(" in intent.yaml: 1 of 14 cells differ")
    assert "ingress alone allows mon/~no-labels-6 -> app/web:9100/TCP: allowed by app/allow-scrape ingress[0]" in report
    assert "mon/~no-labels-6 labels {} ports 8080/TCP (http)" in report  # the legend says what the pod is


def test_port_widened_to_a_range_shows_past_its_end() -> None:
    numbered = POLICIES[0] | {"spec": dict(POLICIES[0]["spec"])}
    rule = dict(POLICIES[0]["spec"]["ingress"][0])
    numbered["spec"]["ingress"] = [rule | {"ports": [{"port": 9100}]}]
    widened = numbered | {"spec": dict(numbered["spec"])}
    widened["spec"]["ingress"] = [rule | {"ports": [{"port": 9100, "endPort": 9200}]}]
    intent = _intent(SCRAPE, *OPEN)
    assert Boundaries.of(model([numbered]), [WEB, SCRAPER], intent, "intent.yaml").verdict("Ingress").ok
    report = Boundaries.of(model([widened]), [WEB, SCRAPER], intent, "intent.yaml").verdict("Ingress").render()
    assert "ingress alone allows mon/scraper -> app/web:9201/TCP" not in report  # the range's end+1 is denied
    assert "ingress alone allows mon/scraper -> app/web:9101/TCP: allowed by app/allow-scrape ingress[0]" in report
