"""Realistic mistakes in the ArgoCD objects each fail a delivery check with a message naming the cause."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from verification.errors import UserError
from verification.models.delivery import argocd
from verification.models.schema import crd as crd_schema
from verification.paths import MANIFESTS
from verification.yamlio import load_manifests

Objects = list[dict[str, Any]]


@pytest.fixture(scope="module")
def pristine() -> Objects:
    return load_manifests([MANIFESTS])


def _find(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _app(name: str) -> Callable[[Objects], dict[str, Any]]:
    return lambda objects: _find(objects, "Application", name)


def staging_automated(o: Objects) -> None:
    _app("sample-app-staging")(o)["spec"]["syncPolicy"]["automated"] = {"prune": True, "selfHeal": True}


def wildcard_destination(o: Objects) -> None:
    _find(o, "AppProject", "test")["spec"]["destinations"].append(
        {"server": "https://kubernetes.default.svc", "namespace": "*"}
    )


def wildcard_source(o: Objects) -> None:
    _find(o, "AppProject", "staging")["spec"]["sourceRepos"] = ["*"]


def prune_with_allow_empty(o: Objects) -> None:
    _app("sample2-app-test")(o)["spec"]["syncPolicy"]["automated"]["allowEmpty"] = True


def self_heal_removed(o: Objects) -> None:
    del _app("sample-app-test")(o)["spec"]["syncPolicy"]["automated"]["selfHeal"]


def staging_app_in_test_project(o: Objects) -> None:
    _app("sample2-app-staging")(o)["spec"]["project"] = "test"


def platform_may_deploy_workloads(o: Objects) -> None:
    _find(o, "AppProject", "platform")["spec"]["namespaceResourceWhitelist"].append(
        {"group": "apps", "kind": "Deployment"}
    )


def apps_before_rbac(o: Objects) -> None:
    _app("sample-app-test")(o)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "-2"


def unjustified_ignore(o: Objects) -> None:
    _app("sample-app-staging")(o)["spec"]["ignoreDifferences"] = [
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/template/spec/containers/0/image"]}
    ]


def baseline_managed_namespace(o: Objects) -> None:
    labels = _app("sample-app-test")(o)["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"]
    labels["pod-security.kubernetes.io/enforce"] = "baseline"


def default_admin(o: Objects) -> None:
    _find(o, "ConfigMap", "argocd-rbac-cm")["data"]["policy.default"] = "role:admin"


def developers_sync_staging(o: Objects) -> None:
    cm = _find(o, "ConfigMap", "argocd-rbac-cm")
    cm["data"]["policy.csv"] += "p, role:developer, applications, sync, staging/*, allow\n"


def notification_trigger_typo(o: Objects) -> None:
    cm = _find(o, "ConfigMap", "argocd-notifications-cm")
    cm["data"]["subscriptions"] = cm["data"]["subscriptions"].replace("on-sync-failed", "on-sync-fail")


def cluster_admin_for_test_project(o: Objects) -> None:
    _find(o, "AppProject", "test")["spec"]["clusterResourceWhitelist"].append(
        {"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"}
    )


def monitoring_rbac_app_dropped(o: Objects) -> None:
    o.remove(_app("monitoring-rbac")(o))


def monitoring_app_syncs_its_rbac(o: Objects) -> None:
    del _app("monitoring")(o)["spec"]["source"]["directory"]


def monitoring_app_syncs_admission_policy(o: Objects) -> None:
    _app("monitoring")(o)["spec"]["source"]["directory"]["exclude"] = "rbac.yaml"


def admission_policy_left_unsynced(o: Objects) -> None:
    _app("monitoring-rbac")(o)["spec"]["source"]["directory"]["include"] = "rbac.yaml"


def monitoring_project_may_change_admission(o: Objects) -> None:
    _find(o, "AppProject", "monitoring")["spec"]["clusterResourceWhitelist"].append(
        {"group": "admissionregistration.k8s.io", "kind": "ValidatingAdmissionPolicyBinding"}
    )


# (mutation, expected words of the message)
MUTATIONS: list[tuple[Callable[[Objects], None], str]] = [
    (staging_automated, "sample-app-staging: staging is synced by hand after approval; remove syncPolicy.automated"),
    (wildcard_destination, "AppProject test: destination namespace '*' is a wildcard"),
    (wildcard_source, "AppProject staging: sourceRepos '*' is a wildcard"),
    (prune_with_allow_empty, "sample2-app-test: automated prune with allowEmpty: true"),
    (self_heal_removed, "sample-app-test: test apps need syncPolicy.automated.selfHeal: true"),
    (staging_app_in_test_project, "sample2-app-staging: deploys into staging from project 'test'"),
    (platform_may_deploy_workloads, "AppProject platform: reaches app namespace(s) ['staging', 'test'] and may deploy"),
    (apps_before_rbac, "sample-app-test: wave -2 runs before (or with) namespaces, RBAC and policies"),
    (unjustified_ignore, "sample-app-staging: ignoreDifferences Deployment /spec/template/spec/containers/0/image"),
    (baseline_managed_namespace, "sample-app-test: managed Pod Security labels differ from Namespace test"),
    (default_admin, "policy.default is 'role:admin'"),
    (developers_sync_staging, "role:developer may sync staging"),
    (notification_trigger_typo, "subscription uses undefined trigger on-sync-fail"),
    (monitoring_rbac_app_dropped, "monitoring/rbac.yaml: no Application syncs this file"),
    (
        monitoring_app_syncs_its_rbac,
        "Application monitoring: Role prometheus-operator-monitors (",
    ),
    (monitoring_app_syncs_its_rbac, "monitoring/rbac.yaml: synced by 2 Applications (monitoring, monitoring-rbac)"),
    (cluster_admin_for_test_project, "AppProject test: cluster-scoped rbac.authorization.k8s.io/ClusterRoleBinding"),
    (
        monitoring_app_syncs_admission_policy,
        "Application monitoring: ValidatingAdmissionPolicy scrape-class-monitoring-only (",
    ),
    (
        monitoring_app_syncs_admission_policy,
        "cluster-scoped admissionregistration.k8s.io/ValidatingAdmissionPolicy, not whitelisted in project monitoring",
    ),
    (admission_policy_left_unsynced, "monitoring/admission-scrape-class.yaml: no Application syncs this file"),
    (
        monitoring_project_may_change_admission,
        "AppProject monitoring: cluster-scoped admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding is not",
    ),
]


def test_pristine_objects_conform(pristine: Objects) -> None:
    assert argocd.violations(pristine) == []


@pytest.mark.parametrize(("mutate", "expected"), MUTATIONS, ids=[m.__name__ for m, _ in MUTATIONS])
def test_mutation_is_caught(pristine: Objects, mutate: Callable[[Objects], None], expected: str) -> None:
    objects = copy.deepcopy(pristine)
    mutate(objects)
    problems = argocd.violations(objects)
    assert any(expected in p for p in problems), f"expected {expected!r} among:\n" + "\n".join(problems)


def test_install_values_pin_mismatch(pristine: Objects) -> None:
    values = copy.deepcopy(argocd.load_install_values())
    values["global"]["image"]["tag"] = "v2.14.0"
    problems = argocd.check_install_values(values, pristine)
    assert problems == [
        "platform/argocd-install/values.yaml: global.image.tag 'v2.14.0' differs from components.argocd 'v3.0.6' "
        "in platform/versions.yaml"
    ]


def test_install_values_second_rbac_owner(pristine: Objects) -> None:
    values = copy.deepcopy(argocd.load_install_values())
    values["configs"]["rbac"]["create"] = True
    problems = argocd.check_install_values(values, pristine)
    assert any("configs.rbac.create must be false" in p for p in problems), problems


def test_typo_in_sync_policy_is_an_unknown_field_of_the_pinned_crd(pristine: Objects) -> None:
    crd_schema.require_fetched()
    app = copy.deepcopy(_app("sample-app-test")(pristine))
    app["spec"]["syncPolicy"]["automated"]["selfheal"] = app["spec"]["syncPolicy"]["automated"].pop("selfHeal")
    assert crd_schema.validate_document(app) == ["spec.syncPolicy.automated: unknown field ('selfheal' was unexpected)"]


@pytest.mark.parametrize("key", ["trigger.on-sync-failed", "subscriptions"])
def test_yaml_inside_the_notifications_config_map_refuses_a_duplicate_key(pristine: Objects, key: str) -> None:
    # The embedded YAML goes through the one loader (verification/yamlio.py), as every file does.
    objects = copy.deepcopy(pristine)
    data = _find(objects, "ConfigMap", "argocd-notifications-cm")["data"]
    data[key] = "- when: a\n  when: b\n" if key.startswith("trigger.") else "- triggers: [a]\n  triggers: [b]\n"
    with pytest.raises(UserError) as refused:
        argocd.check_notifications(objects)
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert f"ConfigMap argocd-notifications-cm data.{key}: line 2: duplicate key" in message
