"""RBAC conformance: the model computed from every RBAC object under platform/manifests (whoever
wrote it) grants exactly what platform/intent/permissions.yaml says, and the hygiene rules hold."""

from typing import Any

import pytest

from verification.models.rbac.authorizer import Authorizer, Request
from verification.models.rbac.checks import (
    check_binding_subjects,
    check_intent,
    check_prohibited,
    check_read_only,
    check_role_refs,
    check_runtime_service_accounts,
    check_wildcards,
)
from verification.models.rbac.intent import PermissionsIntent, load_intent


@pytest.fixture(scope="module")
def authorizer(platform_objects: list[dict[str, Any]]) -> Authorizer:
    return Authorizer.from_objects(platform_objects)


@pytest.fixture(scope="module")
def intent(authorizer: Authorizer) -> PermissionsIntent:
    return load_intent(authorizer.catalog)


def _assert_none(violations: list[str]) -> None:
    # pytrace=False: the failure is the list of causes, not a dump of the model's objects
    if violations:
        pytest.fail(f"{len(violations)} violation(s):\n  " + "\n  ".join(violations), pytrace=False)


def test_permissions_intent_holds(authorizer: Authorizer, intent: PermissionsIntent) -> None:
    _assert_none(check_intent(authorizer, intent).problems())


def test_nobody_but_admins_holds_a_prohibited_permission(authorizer: Authorizer, intent: PermissionsIntent) -> None:
    violations = check_prohibited(authorizer, intent)
    _assert_none(violations)


def test_no_wildcard_rules_outside_admin_roles(authorizer: Authorizer, intent: PermissionsIntent) -> None:
    violations = check_wildcards(authorizer, intent)
    _assert_none(violations)


def test_no_binding_to_everyone_anonymous_or_default_service_accounts(authorizer: Authorizer) -> None:
    violations = check_binding_subjects(authorizer)
    _assert_none(violations)


def test_every_binding_refers_to_an_existing_role(authorizer: Authorizer) -> None:
    violations = check_role_refs(authorizer)
    _assert_none(violations)


def test_read_only_identities_mutate_nothing(authorizer: Authorizer, intent: PermissionsIntent) -> None:
    violations = check_read_only(authorizer, intent)
    _assert_none(violations)


def test_runtime_service_accounts_have_no_token_and_no_binding(
    platform_objects: list[dict[str, Any]], authorizer: Authorizer, intent: PermissionsIntent
) -> None:
    violations = check_runtime_service_accounts(platform_objects, authorizer, intent)
    _assert_none(violations)


def test_intent_covers_every_environment_identity(intent: PermissionsIntent) -> None:
    # the contract must speak about the accounts conventions.md promises, not only what is easy
    declared = {i.identity.user for i in intent.identities}
    for namespace in ("test", "staging"):
        for name in ("ci-deployer", "argocd-manager", "readonly"):
            assert f"system:serviceaccount:{namespace}:{name}" in declared


# What prometheus-operator v0.82 checks at start for each namespace it watches: without get/list/watch
# on a kind there, it turns that kind off for every Prometheus (ScrapeConfig was, live, on 2026-11-26).
OPERATOR_KINDS = ("servicemonitors", "podmonitors", "probes", "prometheusrules", "scrapeconfigs")


def _operator_namespaces(platform_objects: list[dict[str, Any]]) -> list[str]:
    for obj in platform_objects:
        if obj.get("kind") == "Deployment" and obj["metadata"]["name"] == "prometheus-operator":
            for arg in obj["spec"]["template"]["spec"]["containers"][0].get("args") or []:
                if arg.startswith("--namespaces="):
                    return str(arg).split("=", 1)[1].split(",")
    raise AssertionError("no prometheus-operator Deployment with --namespaces in platform/manifests")


def test_operator_reads_every_monitoring_kind_where_it_watches(
    authorizer: Authorizer, platform_objects: list[dict[str, Any]]
) -> None:
    user = "system:serviceaccount:monitoring:prometheus-operator"
    groups = ("system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated")
    missing = [
        f"{verb} {kind} in {namespace}"
        for namespace in _operator_namespaces(platform_objects)
        for kind in OPERATOR_KINDS
        for verb in ("get", "list", "watch")
        if not authorizer.allowed(
            Request(user, groups, verb, kind, api_group="monitoring.coreos.com", namespace=namespace)
        )
    ]
    assert not missing, (
        "prometheus-operator cannot "
        + ", ".join(missing)
        + (" (platform/manifests/monitoring/rbac.yaml): it would disable that kind for every Prometheus")
    )
