"""Hand-checked cases of the scrape-class admission model: which scrape classes carry credentials,
which validations deny them (their CEL evaluated), and how a policy's and a binding's match rules
are read (as the API server matches ValidatingAdmissionPolicy requests)."""

from typing import Any

import pytest

from verification.models.admission import cel as cel_admission
from verification.models.admission import scrape_class as model

TEST_NS = ("test", {"kubernetes.io/metadata.name": "test", "platform.io/tier": "apps"})
MONITORING_NS = ("monitoring", {"kubernetes.io/metadata.name": "monitoring", "platform.io/tier": "monitoring"})
RULE = {
    "apiGroups": ["monitoring.coreos.com"],
    "apiVersions": ["*"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["servicemonitors", "podmonitors", "probes", "scrapeconfigs"],
    "scope": "Namespaced",
}
DENY_ANY = "!has(object.spec) || !has(object.spec.scrapeClass)"
NOT_MONITORING = {
    "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["monitoring"]}]
}


@pytest.mark.parametrize(
    ("scrape_class", "credentials"),
    [
        ({"name": "plain"}, ()),
        ({"name": "k", "authorization": {"type": "Bearer"}}, ()),  # a type alone sends nothing
        (
            {"name": "k", "authorization": {"type": "Bearer", "credentialsFile": "/var/run/secrets/x/token"}},
            ("authorization.credentialsFile",),
        ),
        ({"name": "k", "authorization": {"credentials": {"name": "s", "key": "t"}}}, ("authorization.credentials",)),
        ({"name": "t", "tlsConfig": {"insecureSkipVerify": True}}, ()),
        ({"name": "t", "tlsConfig": {"caFile": "/ca.crt"}}, ()),  # a CA is public
        ({"name": "t", "tlsConfig": {"keyFile": "/tls.key", "certFile": "/tls.crt"}}, ("tlsConfig.keyFile",)),
        (
            {"name": "both", "authorization": {"credentialsFile": "/t"}, "tlsConfig": {"keyFile": "/k"}},
            ("authorization.credentialsFile", "tlsConfig.keyFile"),
        ),
    ],
)
def test_class_credentials(scrape_class: dict[str, Any], credentials: tuple[str, ...]) -> None:
    assert model.class_credentials(scrape_class) == credentials


@pytest.mark.parametrize(
    ("change", "resource", "operation", "matches"),
    [
        ({}, "servicemonitors", "CREATE", True),
        ({}, "scrapeconfigs", "UPDATE", True),
        ({}, "servicemonitors", "DELETE", False),
        ({"operations": ["*"]}, "probes", "DELETE", True),
        ({"apiGroups": ["*"]}, "podmonitors", "CREATE", True),
        ({"apiGroups": [""]}, "podmonitors", "CREATE", False),
        ({"apiGroups": []}, "podmonitors", "CREATE", False),
        ({"apiVersions": ["v1"]}, "servicemonitors", "CREATE", True),
        ({"apiVersions": ["v1"]}, "scrapeconfigs", "CREATE", False),  # ScrapeConfig is v1alpha1
        ({"apiVersions": ["v1alpha1"]}, "scrapeconfigs", "CREATE", True),
        ({"resources": ["*"]}, "probes", "CREATE", True),
        ({"resources": ["*/*"]}, "probes", "CREATE", True),
        ({"resources": ["servicemonitors/status"]}, "servicemonitors", "UPDATE", False),  # subresource only
        ({"resources": ["servicemonitors"]}, "podmonitors", "CREATE", False),
        ({"scope": "Cluster"}, "servicemonitors", "CREATE", False),
        ({"scope": "*"}, "servicemonitors", "CREATE", True),
        ({"scope": None}, "servicemonitors", "CREATE", True),  # default "*"
    ],
)
def test_rule_matches(change: dict[str, Any], resource: str, operation: str, matches: bool) -> None:
    rule = {k: v for k, v in {**RULE, **change}.items() if v is not None}
    assert cel_admission.rule_matches(rule, _request(resource, operation, TEST_NS)) is matches


@pytest.mark.parametrize(
    ("match", "namespace", "is_policy", "gap"),
    [
        ({"namespaceSelector": NOT_MONITORING, "resourceRules": [RULE]}, TEST_NS, True, None),
        (
            {"namespaceSelector": NOT_MONITORING, "resourceRules": [RULE]},
            MONITORING_NS,
            True,
            "matchConstraints.namespaceSelector skips namespace monitoring",
        ),
        ({"resourceRules": [RULE]}, MONITORING_NS, True, None),  # no selector: every namespace
        (None, TEST_NS, True, "no matchConstraints (the API server requires them)"),
        (None, TEST_NS, False, None),  # a binding without matchResources takes the policy's
        ({}, TEST_NS, False, None),  # no resourceRules in a binding: no constraint
        ({"resourceRules": [RULE], "objectSelector": {}}, TEST_NS, True, None),  # {} selects everything
        (
            {"resourceRules": [RULE], "objectSelector": {"matchLabels": {"guard": "on"}}},
            TEST_NS,
            True,
            "matchConstraints.objectSelector skips the object by its labels",
        ),
        (
            {"resourceRules": [{**RULE, "resources": ["podmonitors"]}]},
            TEST_NS,
            False,
            "matchResources.resourceRules do not cover servicemonitors CREATE named x",
        ),
        (
            {"resourceRules": [{**RULE, "resourceNames": ["sample-app"]}]},
            TEST_NS,
            True,
            "matchConstraints.resourceRules do not cover servicemonitors CREATE named x",  # the request names x,
        ),
        (
            # an exclusion of one name is still a way out: the author picks the name
            {"resourceRules": [RULE], "excludeResourceRules": [{**RULE, "resourceNames": ["x"]}]},
            TEST_NS,
            True,
            "matchConstraints.excludeResourceRules exclude servicemonitors CREATE named x",
        ),
        (
            {"resourceRules": [RULE], "excludeResourceRules": [{**RULE, "resources": ["probes"]}]},
            TEST_NS,
            True,
            None,
        ),
        (
            {"namespaceSelector": {"matchLabels": {"platform.io/tier": "apps"}}, "resourceRules": [RULE]},
            ("other", {"kubernetes.io/metadata.name": "other"}),
            True,
            "matchConstraints.namespaceSelector skips namespace other",
        ),
    ],
)
def test_match_gap(match: dict[str, Any] | None, namespace: tuple, is_policy: bool, gap: str | None) -> None:
    found = cel_admission.match_gap(match, _request("servicemonitors", "CREATE", namespace), "P", policy=is_policy)
    assert found == (f"P: {gap}" if gap else None)


def _request(resource: str, operation: str, namespace: tuple) -> cel_admission.AdmissionRequest:
    kind, version = model.MONITORING_RESOURCES[resource]
    obj = {"kind": kind, "metadata": {"name": "x", "namespace": namespace[0]}, "spec": {}}
    return cel_admission.AdmissionRequest(
        operation,
        "monitoring.coreos.com",
        version,
        resource,
        kind,
        namespace[0],
        "x",
        "u",
        (),
        obj,
        namespace_labels=namespace[1],
    )


# --- the whole check on small hand-built platforms ----------------------------------------------


def _prometheus(*classes: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": {"name": "p", "namespace": "monitoring"},
        "spec": {"scrapeClasses": list(classes)},
    }


KUBELET = {
    "name": "kubelet",
    "authorization": {"credentialsFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"},
}
NAMESPACES = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {"platform.io/tier": t}}}
    for n, t in (("test", "apps"), ("monitoring", "monitoring"))
]
POLICY = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "guard"},
    "spec": {
        "matchConstraints": {"namespaceSelector": NOT_MONITORING, "resourceRules": [RULE]},
        "validations": [{"expression": DENY_ANY}],
    },
}
BINDING = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "guard"},
    "spec": {"policyName": "guard", "validationActions": ["Deny"]},
}
OWN_SCRAPE = {
    "apiVersion": "monitoring.coreos.com/v1alpha1",
    "kind": "ScrapeConfig",
    "metadata": {"name": "kubelet", "namespace": "monitoring"},
    "spec": {"scrapeClass": "kubelet"},
}


@pytest.mark.parametrize(
    ("expression", "guards"),
    [
        (DENY_ANY, True),
        ("!has(object.spec)\n  || !has(object.spec.scrapeClass)", True),  # YAML folding, spacing
        ("!has(object.spec.scrapeClass)", True),  # the evaluated spec always has `spec` here
        ("!has(object.spec.scrapeClass) || object.spec.scrapeClass != 'kubelet'", False),  # a later class passes
        ("has(object.spec.scrapeClass)", False),
        ("request.namespace == 'monitoring' || !has(object.spec.scrapeClass)", True),
    ],
)
def test_expression_is_evaluated(expression: str, guards: bool) -> None:
    policy = {**POLICY, "spec": {**POLICY["spec"], "validations": [{"expression": "true"}, {"expression": expression}]}}
    problems = model.check([_prometheus(KUBELET), *NAMESPACES, policy, BINDING])
    assert (problems == []) is guards, problems


def test_unsupported_function_is_a_problem_not_an_allow() -> None:
    policy = {
        **POLICY,
        "spec": {**POLICY["spec"], "validations": [{"expression": "object.spec.scrapeClass.lowerAscii() == ''"}]},
    }
    problems = model.check([_prometheus(KUBELET), *NAMESPACES, policy, BINDING])
    assert problems and all("lowerAscii are not evaluated by the model" in p for p in problems), problems


def test_match_conditions_that_skip_the_deployer_are_found() -> None:
    conditions = [{"name": "not-me", "expression": "request.userInfo.username != 'someone@example.com'"}]
    policy = {**POLICY, "spec": {**POLICY["spec"], "matchConditions": conditions}}
    problems = model.check([_prometheus(KUBELET), *NAMESPACES, policy, BINDING])
    assert problems and "its matchConditions skip someone@example.com" in problems[0], problems


def test_name_exclusion_is_found() -> None:
    match = {
        "namespaceSelector": NOT_MONITORING,
        "resourceRules": [RULE],
        "excludeResourceRules": [{**RULE, "resourceNames": ["sample-app"]}],
    }
    policy = {**POLICY, "spec": {**POLICY["spec"], "matchConstraints": match}}
    problems = model.check([_prometheus(KUBELET), *NAMESPACES, policy, BINDING])
    assert problems and "excludeResourceRules exclude servicemonitors CREATE named sample-app" in problems[0], problems


def test_guarded_platform_conforms() -> None:
    assert model.check([_prometheus(KUBELET), *NAMESPACES, POLICY, BINDING, OWN_SCRAPE]) == []


def test_no_credentialed_class_needs_no_policy() -> None:
    assert model.check([_prometheus({"name": "plain", "tlsConfig": {"insecureSkipVerify": True}}), *NAMESPACES]) == []


def test_unguarded_credentialed_class_fails_for_every_kind() -> None:
    problems = model.check([_prometheus(KUBELET), *NAMESPACES])
    assert [p.split(" ", 1)[0] for p in problems] == [
        f"{r}.monitoring.coreos.com" for r in ("servicemonitors", "podmonitors", "probes", "scrapeconfigs")
    ]
    assert all("in namespace(s) test, <a namespace not declared" in p for p in problems), problems
    assert all("no ValidatingAdmissionPolicy denies it" in p for p in problems), problems
    assert all("credentialed scrape classes: kubelet (authorization.credentialsFile)" in p for p in problems)


def test_deny_and_warn_binding_enforces() -> None:
    binding = {**BINDING, "spec": {**BINDING["spec"], "validationActions": ["Deny", "Audit"]}}
    assert model.check([_prometheus(KUBELET), *NAMESPACES, POLICY, binding]) == []


def test_second_policy_covers_what_the_first_misses() -> None:
    """Coverage is per request: two policies together may cover every kind."""

    def policy(name: str, resources: list[str]) -> dict[str, Any]:
        match = {"namespaceSelector": NOT_MONITORING, "resourceRules": [{**RULE, "resources": resources}]}
        return {**POLICY, "metadata": {"name": name}, "spec": {**POLICY["spec"], "matchConstraints": match}}

    narrow = policy("a", ["servicemonitors"])
    rest = policy("b", ["podmonitors", "probes", "scrapeconfigs"])
    bindings = [{**BINDING, "metadata": {"name": n}, "spec": {**BINDING["spec"], "policyName": n}} for n in "ab"]
    assert model.check([_prometheus(KUBELET), *NAMESPACES, narrow, *bindings]) != []
    assert model.check([_prometheus(KUBELET), *NAMESPACES, narrow, rest, *bindings]) == []


def test_credentialed_default_class_fails_even_when_guarded() -> None:
    problems = model.check([_prometheus({**KUBELET, "default": True}), *NAMESPACES, POLICY, BINDING])
    assert len(problems) == 1 and "scrape class kubelet is the default and carries credentials" in problems[0]


def test_policy_denying_the_platforms_own_scrape_fails() -> None:
    everywhere = {**POLICY, "spec": {**POLICY["spec"], "matchConstraints": {"resourceRules": [RULE]}}}
    problems = model.check([_prometheus(KUBELET), *NAMESPACES, everywhere, BINDING, OWN_SCRAPE])
    assert len(problems) == 1
    assert "ScrapeConfig monitoring/kubelet sets scrapeClass 'kubelet' and is denied by" in problems[0]
