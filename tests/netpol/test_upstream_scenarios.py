"""The NetworkPolicy model against scenarios of the upstream e2e suite, with hand-written matrices.

Each scenario gives its policies (YAML, as one would apply them) and, per port/protocol, the
expected grid (see upstream.py); "*" stands for every port/protocol not listed explicitly.
"""

from dataclasses import dataclass

import pytest
import yaml

from tests.netpol.upstream import (
    ALL,
    KEYS,
    NOTHING_TO_XA,
    PORT_LABELS,
    XA_FROM_Y_ONLY,
    grid,
    namespace_labels,
    workloads,
)
from verification.models.netpol.model import parse_policy, truth_table
from verification.verdicts.grid import Grid
from verification.verdicts.verdict import Verdict


@dataclass(frozen=True)
class Scenario:
    name: str
    policies: str
    expected: dict[str, dict[tuple[str, str], bool]]


def _policies(text: str) -> list[dict]:
    docs = []
    for doc in yaml.safe_load_all(text):
        meta = doc.pop("meta")
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": meta.split("/")[1], "namespace": meta.split("/")[0]},
                "spec": doc,
            }
        )
    return docs


SCENARIOS = [
    Scenario(
        "default-deny-ingress",
        """
meta: x/deny-ingress
podSelector: {}
policyTypes: [Ingress]
""",
        {
            "*": grid("""
x/a XXX ... ...
x/b XXX ... ...
x/c XXX ... ...
y/a XXX ... ...
y/b XXX ... ...
y/c XXX ... ...
z/a XXX ... ...
z/b XXX ... ...
z/c XXX ... ...
""")
        },
    ),
    Scenario(
        "default-deny-all",
        """
meta: x/deny-all
podSelector: {}
policyTypes: [Ingress, Egress]
""",
        {
            "*": grid("""
x/a XXX XXX XXX
x/b XXX XXX XXX
x/c XXX XXX XXX
y/a XXX ... ...
y/b XXX ... ...
y/c XXX ... ...
z/a XXX ... ...
z/b XXX ... ...
z/c XXX ... ...
""")
        },
    ),
    Scenario(
        "allow-all-ingress",
        """
meta: x/allow-all
podSelector: {}
ingress: [{}]
""",
        {"*": ALL},
    ),
    Scenario(
        "allow-from-same-namespace-pod-by-label",
        """
meta: x/allow-client-b
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "allow-from-same-namespace-empty-pod-selector",
        """
meta: x/allow-same-namespace
podSelector: {}
ingress:
  - from: [{podSelector: {}}]
""",
        {
            "*": grid("""
x/a ... ... ...
x/b ... ... ...
x/c ... ... ...
y/a XXX ... ...
y/b XXX ... ...
y/c XXX ... ...
z/a XXX ... ...
z/b XXX ... ...
z/c XXX ... ...
""")
        },
    ),
    Scenario(
        "allow-from-namespace-by-label",
        """
meta: x/allow-ns-y
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
""",
        {"*": XA_FROM_Y_ONLY},
    ),
    Scenario(
        "namespace-selector-match-expressions-not-in",
        """
meta: x/allow-not-x
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: ns, operator: NotIn, values: [x]}]
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...
""")
        },
    ),
    Scenario(
        "pod-selector-or-namespace-selector",
        """
meta: x/or
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: ns, operator: NotIn, values: [x]}]
      - podSelector: {matchLabels: {pod: b}}
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b ... ... ...
x/c X.. ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...
""")
        },
    ),
    Scenario(
        "pod-selector-and-namespace-selector",
        """
meta: x/and
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: ns, operator: NotIn, values: [x]}]
        podSelector: {matchLabels: {pod: b}}
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b ... ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b ... ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "multiple-pod-selectors-and-namespace-selectors",
        """
meta: x/and-in
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: ns, operator: NotIn, values: [x]}]
        podSelector:
          matchExpressions: [{key: pod, operator: In, values: [b, c]}]
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b ... ... ...
y/c ... ... ...
z/a X.. ... ...
z/b ... ... ...
z/c ... ... ...
""")
        },
    ),
    Scenario(
        "pod-in-different-namespace-by-pod-and-namespace-selector",
        """
meta: x/only-y-a
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {ns: y}}
        podSelector: {matchLabels: {pod: a}}
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a ... ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "all-namespaces-and-pod-selector",
        """
meta: x/any-ns-pod-b
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector: {}
        podSelector: {matchLabels: {pod: b}}
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b ... ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b ... ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "allow-only-port-81-from-namespace",
        """
meta: x/ns-y-port-81
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81}]
""",
        {"81/TCP": XA_FROM_Y_ONLY, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "multiple-stacked-policies-overlapping-pod-selectors",
        """
meta: x/port-80
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 80, protocol: TCP}]
---
meta: x/port-81
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, protocol: TCP}]
""",
        {"80/TCP": XA_FROM_Y_ONLY, "81/TCP": XA_FROM_Y_ONLY, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "ingress-on-one-named-port",
        """
meta: x/named-81
podSelector: {matchLabels: {pod: a}}
ingress:
  - ports: [{port: serve-81-tcp}]
""",
        {"81/TCP": ALL, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "ingress-from-namespace-on-one-named-port",
        """
meta: x/ns-y-named-80
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: serve-80-tcp}]
""",
        {"80/TCP": XA_FROM_Y_ONLY, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "named-port-with-other-protocol-matches-nothing",
        """
meta: x/udp-name-on-tcp
podSelector: {matchLabels: {pod: a}}
ingress:
  - ports: [{port: serve-80-udp, protocol: TCP}]
""",
        {"*": NOTHING_TO_XA},
    ),
    Scenario(
        "egress-on-one-named-port",
        """
meta: x/egress-named-80
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress:
  - ports: [{port: serve-80-tcp}]
""",
        {
            "80/TCP": ALL,
            "*": grid("""
x/a XXX XXX XXX
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...
"""),
        },
    ),
    Scenario(
        "egress-to-pod-in-other-namespace-by-pod-and-namespace-selector",
        """
meta: x/egress-y-a
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress:
  - to:
      - namespaceSelector: {matchLabels: {ns: y}}
        podSelector: {matchLabels: {pod: a}}
""",
        {
            "*": grid("""
x/a XXX .XX XXX
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...
""")
        },
    ),
    Scenario(
        "egress-to-namespace-by-label-policy-types-omitted",
        """
meta: x/egress-ns-y
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
egress:
  - to: [{namespaceSelector: {matchLabels: {ns: y}}}]
""",
        {
            "*": grid("""
x/a XXX ... XXX
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "empty-egress-list-does-not-add-egress-type",
        """
meta: x/ingress-only
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{podSelector: {}}]
egress: []
""",
        {
            "*": grid("""
x/a ... ... ...
x/b ... ... ...
x/c ... ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "rules-outside-policy-types-are-ignored",
        """
meta: x/egress-type-only
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
egress: [{}]
""",
        {"*": ALL},
    ),
    Scenario(
        "ingress-any-port-on-udp",
        """
meta: x/udp-any-port
podSelector: {matchLabels: {pod: a}}
ingress:
  - ports: [{protocol: UDP}]
""",
        {"80/UDP": ALL, "81/UDP": ALL, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "only-sctp-port-81",
        """
meta: x/sctp-81
podSelector: {matchLabels: {pod: a}}
ingress:
  - ports: [{port: 81, protocol: SCTP}]
""",
        {"81/SCTP": ALL, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "end-port-range",
        """
meta: x/range-81-90
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, endPort: 90, protocol: TCP}]
""",
        {"81/TCP": XA_FROM_Y_ONLY, "*": NOTHING_TO_XA},
    ),
    Scenario(
        "client-side-egress-deny-wins-over-server-allow",
        """
meta: x/deny-egress-a
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
---
meta: y/allow-from-x-a
podSelector: {matchLabels: {pod: b}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {ns: x}}
        podSelector: {matchLabels: {pod: a}}
""",
        {
            "*": grid("""
x/a XXX XXX XXX
x/b ... .X. ...
x/c ... .X. ...
y/a ... .X. ...
y/b ... .X. ...
y/c ... .X. ...
z/a ... .X. ...
z/b ... .X. ...
z/c ... .X. ...
""")
        },
    ),
    Scenario(
        "egress-ip-block-with-except",
        """
meta: x/egress-cidr
podSelector: {matchLabels: {pod: a}}
policyTypes: [Egress]
egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}}]
""",
        {
            "*": grid("""
x/a ... XXX ...
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...
""")
        },
    ),
    Scenario(
        "ingress-ip-block-single-pod",
        """
meta: x/from-z-b-ip
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{ipBlock: {cidr: 10.0.2.2/32}}]
""",
        {
            "*": grid("""
x/a X.. ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b ... ... ...
z/c X.. ... ...
""")
        },
    ),
    Scenario(
        "policy-in-another-namespace-does-not-select",
        """
meta: y/only-b-to-a
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
""",
        {
            "*": grid("""
x/a ... X.. ...
x/b ... X.. ...
x/c ... X.. ...
y/a ... X.. ...
y/b ... ... ...
y/c ... X.. ...
z/a ... X.. ...
z/b ... X.. ...
z/c ... X.. ...
""")
        },
    ),
    Scenario(
        "deny-all-plus-allow-combine",
        """
meta: x/deny-all
podSelector: {}
policyTypes: [Ingress, Egress]
---
meta: x/a-from-y
podSelector: {matchLabels: {pod: a}}
ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
---
meta: x/b-to-z
podSelector: {matchLabels: {pod: b}}
policyTypes: [Egress]
egress:
  - to: [{namespaceSelector: {matchLabels: {ns: z}}}]
""",
        {
            "*": grid("""
x/a XXX XXX XXX
x/b XXX XXX ...
x/c XXX XXX XXX
y/a .XX ... ...
y/b .XX ... ...
y/c .XX ... ...
z/a XXX ... ...
z/b XXX ... ...
z/c XXX ... ...
""")
        },
    ),
    Scenario(
        "match-expressions-does-not-exist-matches-no-labelled-pod",
        """
meta: x/unlabelled-only
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector: {}
        podSelector:
          matchExpressions: [{key: pod, operator: DoesNotExist}]
""",
        {"*": NOTHING_TO_XA},
    ),
    Scenario(
        "match-expressions-exists-on-namespace-name-label",
        """
meta: x/any-named-namespace
podSelector: {matchLabels: {pod: a}}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: kubernetes.io/metadata.name, operator: Exists}]
""",
        {"*": ALL},
    ),
]


def _observed(scenario: Scenario) -> dict[str, dict[str, bool]]:
    policies = [parse_policy(p) for p in _policies(scenario.policies)]
    return truth_table(policies, workloads(), namespace_labels()).as_table()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(scenario: Scenario) -> None:
    table = _observed(scenario)
    pairs = []
    for label in PORT_LABELS:
        want = scenario.expected.get(label, scenario.expected.get("*"))
        assert want is not None, f"{scenario.name}: no expected grid for {label}"
        expected = Grid(f"{scenario.name} {label}", KEYS, KEYS, want)
        observed = Grid(
            f"{scenario.name} {label}", KEYS, KEYS, {(s, d): table[s][f"{d}:{label}"] for s in KEYS for d in KEYS}
        )
        pairs.append((expected, observed))
    verdict = Verdict(f"upstream scenario {scenario.name}", pairs)
    assert verdict.ok, verdict.render()


def test_at_least_fifteen_scenarios() -> None:
    assert len(SCENARIOS) >= 15
