"""Mistakes applied to a copy of platform/manifests must fail the RBAC checks, naming the cause."""

import copy
import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from verification.models.rbac.authorizer import Authorizer
from verification.models.rbac.checks import all_violations, check_intent
from verification.models.rbac.intent import load_intent
from verification.paths import MANIFESTS
from verification.verdicts.verdict import Row
from verification.yamlio import SOURCE_ANNOTATION, load_documents_from_text, yaml_files

Mutation = Callable[[dict[str, Any]], None]


def _edit(root: Path, relative: str, kind: str, namespace: str, name: str, change: Mutation) -> None:
    path = root / relative
    docs = list(yaml.safe_load_all(path.read_text()))
    targets = [
        d
        for d in docs
        if d and d["kind"] == kind and d["metadata"]["name"] == name and d["metadata"].get("namespace", "") == namespace
    ]
    assert len(targets) == 1, f"{relative}: expected one {kind} {namespace}/{name} to mutate"
    change(targets[0])
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


@functools.cache
def _parse(text: str) -> list[dict[str, Any]]:
    return load_documents_from_text(text, "<copy>")


def _load_copy(root: Path) -> list[dict[str, Any]]:
    """load_manifests of the copy, parsing each distinct file text once per session (YAML parsing
    dominates these tests, and only one file differs between them)."""
    objects = []
    for file in yaml_files(root):
        for obj in copy.deepcopy(_parse(file.read_text())):
            obj["metadata"]["annotations"][SOURCE_ANNOTATION] = str(file)
            objects.append(obj)
    return objects


def _violations(root: Path) -> dict[str, list[str]]:
    objects = _load_copy(root)
    authorizer = Authorizer.from_objects(objects)
    return all_violations(objects, authorizer, load_intent(authorizer.catalog))


def _intent_differs(root: Path, subject: str, expected: str, cause: str = "") -> None:
    """The differing rows of the intent verdict on the copy that name `subject` with `expected`."""
    objects = _load_copy(root)
    authorizer = Authorizer.from_objects(objects)
    rows = check_intent(authorizer, load_intent(authorizer.catalog)).differing_rows
    found: list[Row] = [r for r in rows if r.subject == subject and r.expected == expected and cause in r.cause]
    assert found, "\n".join(f"{r.subject}: expected {r.expected}, {r.cause}" for r in rows)


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, root)
    return root


def test_unmutated_copy_is_clean(manifests: Path) -> None:
    # the baseline: without this, the mutation tests below could pass for the wrong reason
    assert not any(_violations(manifests).values())


def test_wildcard_verbs_on_the_deployer_role(manifests: Path) -> None:
    def wildcard(role: dict[str, Any]) -> None:
        role["rules"][0]["verbs"] = ["*"]

    _edit(manifests, "rbac/app-deployer.yaml", "Role", "test", "app-deployer", wildcard)
    found = _violations(manifests)["wildcards"]
    assert any("Role test/app-deployer" in v and "wildcard rule" in v and "'*'" in v for v in found), found
    assert any("system:serviceaccount:test:ci-deployer" in v for v in found), found


def test_binding_to_system_authenticated(manifests: Path) -> None:
    def everyone(binding: dict[str, Any]) -> None:
        binding["subjects"].append({"kind": "Group", "name": "system:authenticated"})

    _edit(manifests, "rbac/readonly.yaml", "RoleBinding", "test", "readonly", everyone)
    found = _violations(manifests)
    assert any("RoleBinding test/readonly" in v and "system:authenticated" in v for v in found["binding subjects"])
    # and the model shows the consequence: any authenticated user now reads pods in test
    _intent_differs(manifests, "developer@example.com: get pods in namespace test", "deny")


def test_pods_exec_granted_to_readonly_through_aggregation(manifests: Path) -> None:
    def add_exec(role: dict[str, Any]) -> None:
        role["rules"].append({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]})

    _edit(manifests, "rbac/readonly.yaml", "ClusterRole", "", "platform-readonly-core", add_exec)
    found = _violations(manifests)["prohibited"]
    # the message names the aggregated role that carried it in, and the file it is defined in
    assert any(
        "system:serviceaccount:test:readonly" in v
        and "'exec into pods'" in v
        and "aggregates ClusterRole platform-readonly-core" in v
        and "readonly.yaml" in v
        for v in found
    ), found


def test_staging_deployer_bound_in_test(manifests: Path) -> None:
    def add_staging(binding: dict[str, Any]) -> None:
        binding["subjects"].append({"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "staging"})

    _edit(manifests, "rbac/app-deployer.yaml", "RoleBinding", "test", "app-deployer", add_staging)
    subject = "system:serviceaccount:staging:ci-deployer: create deployments.apps in namespace test"
    _intent_differs(manifests, subject, "deny", "RoleBinding test/app-deployer")


def test_runtime_account_that_mounts_its_token(manifests: Path) -> None:
    def automount(account: dict[str, Any]) -> None:
        account["automountServiceAccountToken"] = True

    _edit(manifests, "rbac/service-accounts.yaml", "ServiceAccount", "staging", "sample-app", automount)
    found = _violations(manifests)["runtime service accounts"]
    assert any("ServiceAccount staging/sample-app" in v and "automountServiceAccountToken: false" in v for v in found)


def test_nodes_proxy_granted_to_prometheus(manifests: Path) -> None:
    # nodes/metrics is all the kubelet cAdvisor scrape needs; nodes/proxy would open exec/run on every node
    def add_proxy(role: dict[str, Any]) -> None:
        role["rules"][1]["resources"].append("nodes/proxy")

    _edit(manifests, "monitoring/rbac.yaml", "ClusterRole", "", "prometheus-kubelet", add_proxy)
    found = _violations(manifests)
    assert any(
        "system:serviceaccount:monitoring:prometheus" in v
        and "'kubelet API through nodes/proxy'" in v
        and "prometheus-kubelet" in v
        for v in found["prohibited"]
    ), found["prohibited"]
    _intent_differs(manifests, "system:serviceaccount:monitoring:prometheus: get nodes/proxy cluster-wide", "deny")


def test_prometheus_without_nodes_metrics(manifests: Path) -> None:
    def drop_metrics(role: dict[str, Any]) -> None:
        del role["rules"][1]

    _edit(manifests, "monitoring/rbac.yaml", "ClusterRole", "", "prometheus-kubelet", drop_metrics)
    _intent_differs(manifests, "system:serviceaccount:monitoring:prometheus: get nodes/metrics cluster-wide", "allow")
