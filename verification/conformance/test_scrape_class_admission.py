"""Every scrape class carrying Prometheus' credentials (today `kubelet`: the service account token)
can be picked only in namespace monitoring: a ValidatingAdmissionPolicy, bound with Deny, denies
spec.scrapeClass on every monitoring kind in every other namespace, and the platform's own
ScrapeConfig that names the class is still admitted (verification/models/admission/scrape_class.py).
Mistakes applied to a copy of the objects must fail naming the cause."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from verification.models.admission import scrape_class as scrape_class_admission

Objects = list[dict[str, Any]]
POLICY = "scrape-class-monitoring-only"


def _one(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}"
    return found[0]


def _policy(objects: Objects) -> dict[str, Any]:
    return _one(objects, "ValidatingAdmissionPolicy", POLICY)


def _binding(objects: Objects) -> dict[str, Any]:
    return _one(objects, "ValidatingAdmissionPolicyBinding", POLICY)


def _rule(objects: Objects) -> dict[str, Any]:
    rule: dict[str, Any] = _policy(objects)["spec"]["matchConstraints"]["resourceRules"][0]
    return rule


def test_kubelet_class_is_credentialed(platform_objects: Objects) -> None:
    """The check below is not vacuous: the platform has a scrape class with credentials."""
    names = {c.name for c in scrape_class_admission.credentialed_classes(platform_objects)}
    assert "kubelet" in names, names


def test_credentialed_scrape_classes_only_in_monitoring(platform_objects: Objects) -> None:
    problems = scrape_class_admission.check(platform_objects)
    assert not problems, "scrape classes with credentials reachable outside monitoring:\n" + "\n".join(problems)


# --- mutations -------------------------------------------------------------------------------


def _without_policy(objects: Objects) -> None:
    objects.remove(_policy(objects))


def _without_binding(objects: Objects) -> None:
    objects.remove(_binding(objects))


def _binding_names_another_policy(objects: Objects) -> None:
    _binding(objects)["spec"]["policyName"] = "scrape-class-monitoring"


def _actions(*actions: str) -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        _binding(objects)["spec"]["validationActions"] = list(actions)

    return mutate


def _drop_resource(resource: str) -> Callable[[Objects], None]:
    def mutate(objects: Objects) -> None:
        _rule(objects)["resources"].remove(resource)

    return mutate


def _create_only(objects: Objects) -> None:
    _rule(objects)["operations"] = ["CREATE"]


def _v1_only(objects: Objects) -> None:
    _rule(objects)["apiVersions"] = ["v1"]


def _kubelet_only(objects: Objects) -> None:
    _policy(objects)["spec"]["validations"][0]["expression"] = (
        "!has(object.spec.scrapeClass) || object.spec.scrapeClass != 'kubelet'"
    )


def _fail_open(objects: Objects) -> None:
    _policy(objects)["spec"]["failurePolicy"] = "Ignore"


def _match_condition(objects: Objects) -> None:
    _policy(objects)["spec"]["matchConditions"] = [
        {"name": "not-deployers", "expression": "!request.userInfo.username.endsWith(':ci-deployer')"}
    ]


def _apps_tier_only(objects: Objects) -> None:
    _policy(objects)["spec"]["matchConstraints"]["namespaceSelector"] = {"matchLabels": {"platform.io/tier": "apps"}}


def _every_namespace(objects: Objects) -> None:
    del _policy(objects)["spec"]["matchConstraints"]["namespaceSelector"]


def _object_selector(objects: Objects) -> None:
    _binding(objects)["spec"]["matchResources"] = {
        "objectSelector": {"matchExpressions": [{"key": "scrape-class-exempt", "operator": "DoesNotExist"}]}
    }


def _binding_skips_test(objects: Objects) -> None:
    _binding(objects)["spec"]["matchResources"] = {
        "namespaceSelector": {
            "matchExpressions": [{"key": "platform.io/environment", "operator": "NotIn", "values": ["test"]}]
        }
    }


def _excludes_service_monitor_name(objects: Objects) -> None:
    _policy(objects)["spec"]["matchConstraints"]["excludeResourceRules"] = [
        {
            "apiGroups": ["monitoring.coreos.com"],
            "apiVersions": ["*"],
            "operations": ["*"],
            "resources": ["servicemonitors"],
            "resourceNames": ["sample-app"],
        }
    ]


def _kubelet_class_default(objects: Objects) -> None:
    _one(objects, "Prometheus", "platform")["spec"]["scrapeClasses"][0]["default"] = True


def _client_key_class(objects: Objects) -> None:
    """A second credentialed class and no policy: the check names both classes."""
    _one(objects, "Prometheus", "platform")["spec"]["scrapeClasses"].append(
        {"name": "mtls", "tlsConfig": {"keyFile": "/etc/prometheus/secrets/client/tls.key"}}
    )
    _without_policy(objects)


def _deployer_monitor_in_manifests(objects: Objects) -> None:
    objects.append(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": "steal-token", "namespace": "test"},
            "spec": {"scrapeClass": "kubelet", "selector": {}, "endpoints": [{"port": "metrics"}]},
        }
    )


NOT_DENIED = "may set spec.scrapeClass"
MUTATIONS: dict[str, tuple[Callable[[Objects], None], list[str]]] = {
    "policy removed": (
        _without_policy,
        [
            NOT_DENIED,
            f"names ValidatingAdmissionPolicy '{POLICY}', which does not exist",
        ],
    ),
    "binding removed": (
        _without_binding,
        [NOT_DENIED, f"ValidatingAdmissionPolicy {POLICY}: no ValidatingAdmissionPolicyBinding names it"],
    ),
    "binding names another policy": (
        _binding_names_another_policy,
        ["no ValidatingAdmissionPolicyBinding names it", "names ValidatingAdmissionPolicy 'scrape-class-monitoring'"],
    ),
    "Warn only": (_actions("Warn"), [NOT_DENIED, "validationActions ['Warn'] do not include Deny"]),
    "Audit only": (_actions("Audit"), [NOT_DENIED, "validationActions ['Audit'] do not include Deny"]),
    "Warn and Audit": (_actions("Warn", "Audit"), ["validationActions ['Warn', 'Audit'] do not include Deny"]),
    **{
        f"{resource} dropped": (
            _drop_resource(resource),
            [
                f"{resource}.monitoring.coreos.com CREATE/UPDATE in namespace(s) argocd, ingress-nginx, staging, test",
                f"matchConstraints.resourceRules do not cover {resource} CREATE",
            ],
        )
        for resource in scrape_class_admission.MONITORING_RESOURCES
    },
    "UPDATE not matched": (
        _create_only,
        ["servicemonitors.monitoring.coreos.com UPDATE in", "do not cover servicemonitors UPDATE"],
    ),
    "v1 only (ScrapeConfig is v1alpha1)": (_v1_only, ["scrapeconfigs.monitoring.coreos.com CREATE/UPDATE"]),
    "expression only denies kubelet": (
        _kubelet_only,
        ["with scrapeClass 'a-class-added-later'", "every validation admits the object"],
    ),
    "failurePolicy Ignore": (_fail_open, ["failurePolicy Ignore admits"]),
    "matchConditions": (
        _match_condition,
        ["as system:serviceaccount:", "its matchConditions skip system:serviceaccount:"],
    ),
    "apps tier only": (
        _apps_tier_only,
        [
            "matchConstraints.namespaceSelector skips namespace argocd",
            "<a namespace not declared under platform/manifests>",
        ],
    ),
    "monitoring not excluded": (
        _every_namespace,
        ["ScrapeConfig monitoring/kubelet-cadvisor sets scrapeClass 'kubelet' and is denied by"],
    ),
    "objectSelector": (_object_selector, ["matchResources.objectSelector lets the object's author opt out"]),
    "binding skips test": (
        _binding_skips_test,
        [
            "servicemonitors.monitoring.coreos.com CREATE/UPDATE in namespace(s) test may set",
            "matchResources.namespaceSelector skips namespace test",
        ],
    ),
    "one name excluded": (
        _excludes_service_monitor_name,
        ["matchConstraints.excludeResourceRules exclude servicemonitors CREATE"],
    ),
    "credentialed default class": (
        _kubelet_class_default,
        ["scrape class kubelet is the default and carries credentials"],
    ),
    "client key class": (
        _client_key_class,
        ["credentialed scrape classes: kubelet (authorization.credentialsFile), mtls (tlsConfig.keyFile)"],
    ),
    "deployer ServiceMonitor in git": (
        _deployer_monitor_in_manifests,
        ["ServiceMonitor test/steal-token sets scrapeClass 'kubelet' outside namespace monitoring"],
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutation_is_caught(platform_objects: Objects, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    objects = copy.deepcopy(platform_objects)
    mutate(objects)
    problems = scrape_class_admission.check(objects)
    for words in expected:
        assert any(words in p for p in problems), (
            f"{name}: expected a problem containing {words!r}, got:\n" + "\n".join(problems)
        )
