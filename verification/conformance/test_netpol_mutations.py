"""Mistakes applied to a temporary copy of the platform must fail the checks, naming the cause.

Each test copies platform/manifests and platform/intent, breaks one thing as an engineer might,
and asserts that the same check functions the conformance suite runs report it.
"""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from verification.models.netpol import segmentation
from verification.paths import INTENT, MANIFESTS
from verification.yamlio import source_of

# The kinds the segmentation checks read; only files holding them are copied (YAML parsing of
# the whole tree would dominate the run time), wherever they live under platform/manifests.
KINDS = {"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange"}


@pytest.fixture
def copy(tmp_path: Path, platform_objects: list[dict[str, Any]]) -> Path:
    for source in {source_of(o) for o in platform_objects if o["kind"] in KINDS}:
        target = tmp_path / "manifests" / Path(source).relative_to(MANIFESTS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    (tmp_path / "intent").mkdir()
    for name in ("workloads.yaml", "reachability.yaml"):
        shutil.copy(INTENT / name, tmp_path / "intent" / name)
    return tmp_path


def edit_documents(path: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    path.write_text(yaml.safe_dump_all(change(docs), sort_keys=False))


def violations(root: Path) -> dict[str, list[str]]:
    return segmentation.all_violations(segmentation.Platform.load(root / "manifests", root / "intent"))


def failing(found: dict[str, list[str]]) -> set[str]:
    return {name for name, items in found.items() if items}


def test_unmodified_copy_passes(copy: Path) -> None:
    assert failing(violations(copy)) == set()


def test_deleting_staging_default_deny_fails(copy: Path) -> None:
    edit_documents(
        copy / "manifests/network-policies/staging.yaml",
        lambda docs: [d for d in docs if d["metadata"]["name"] != "default-deny-all"],
    )
    found = violations(copy)
    assert found["default-deny"] == [
        "namespace staging: no default-deny Ingress NetworkPolicy "
        "(podSelector: {}, policyTypes including Ingress, no ingress rules)",
        "namespace staging: no default-deny Egress NetworkPolicy "
        "(podSelector: {}, policyTypes including Egress, no egress rules)",
    ]
    # The platform's workloads do not notice: staging's allow-dns-egress still isolates egress and
    # the allow rules isolate the apps' ingress, so their truth table is unchanged. The boundary
    # pods of staging that no allow rule selects do: they are open to every pod now.
    assert failing(found) == {"default-deny", "boundaries", "ingress-layer"}
    assert "default/outsider -> staging/~near-miss-" in found["boundaries"][0]


def test_relabelled_test_workload_cannot_borrow_a_staging_allow_rule(copy: Path) -> None:
    # test/sample-app-blue now carries Prometheus's pod labels, the peer of staging's
    # allow-metrics-from-prometheus. That rule pins the monitoring namespace and test's egress is
    # denied, so staging stays closed; the workload's own flows break, and conformance says so.
    def relabel(workloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for w in workloads:
            if (w["namespace"], w["name"]) == ("test", "sample-app-blue"):
                w["labels"] = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/part-of": "devops-platform"}
        return workloads

    path = copy / "intent/workloads.yaml"
    path.write_text(yaml.safe_dump(relabel(yaml.safe_load(path.read_text())), sort_keys=False))
    platform = segmentation.Platform.load(copy / "manifests", copy / "intent")
    report = segmentation.reachability_verdict(platform).render()
    assert (
        "ingress-nginx/controller -> test/sample-app-blue:8080/TCP denied: egress allowed by "
        "ingress-nginx/controller; ingress denied: isolated by test/default-deny-all, no rule matches"
    ) in report
    table = platform.model.truth_table(platform.workloads).as_table()
    assert [t for t, allowed in table["test/sample-app-blue"].items() if allowed and t.startswith("staging/")] == []


def test_staging_rule_unpinned_from_its_namespace_fails(copy: Path) -> None:
    # my choice: the peer keeps Prometheus's pod labels but accepts them from any namespace. No
    # platform workload changes reachability; the structural check and a boundary pod with
    # Prometheus's labels in the unlabelled namespace `default` catch it.
    def unpin(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for d in docs:
            if d["metadata"]["name"] == "allow-metrics-from-prometheus":
                d["spec"]["ingress"][0]["from"][0]["namespaceSelector"] = {}
        return docs

    edit_documents(copy / "manifests/network-policies/staging.yaml", unpin)
    found = violations(copy)
    assert failing(found) == {"unpinned-peers", "boundaries", "ingress-layer"}
    assert "default/~pods-elsewhere-" in found["boundaries"][0]
    assert (
        "-> staging/sample-app-blue:9100/TCP allowed: egress allowed (no policy isolates it); ingress allowed by "
        in (found["boundaries"][0])
    )
    assert found["unpinned-peers"][0].endswith(
        "staging/allow-metrics-from-prometheus ingress[0] peer 0: namespaceSelector does not name the namespace "
        "by kubernetes.io/metadata.name, so pods of other namespaces can match"
    )


def test_removing_dns_egress_fails(copy: Path) -> None:
    edit_documents(
        copy / "manifests/network-policies/test.yaml",
        lambda docs: [d for d in docs if d["metadata"]["name"] != "allow-dns-egress"],
    )
    found = violations(copy)
    dns = found["dns-egress"]
    assert len(dns) == 8  # 4 test workloads x 53/UDP and 53/TCP
    assert dns[0] == (
        "test/sample-app-blue: egress is isolated but DNS is denied: test/sample-app-blue -> "
        "kube-system/coredns:53/UDP denied: egress denied: isolated by test/default-deny-all, no rule matches; "
        "ingress allowed (no policy isolates it)"
    )
    assert "test/sample-app-blue -> kube-system/coredns:53/UDP denied" in found["reachability"][0]


def test_prometheus_rule_on_http_instead_of_metrics_fails(copy: Path) -> None:
    # my choice: one word in a port list opens the apps' admin endpoints (/admin/faults) to Prometheus.
    def widen(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for d in docs:
            if d["metadata"]["name"] == "allow-metrics-from-prometheus":
                d["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP", "port": "http"}]
        return docs

    edit_documents(copy / "manifests/network-policies/test.yaml", widen)
    report = violations(copy)["reachability"][0]
    # Prometheus's own egress allows only `metrics` towards the apps, so http stays closed; the
    # mistake shows as the scrape port closing on the 4 test workloads.
    assert "against intent/reachability.yaml: 4 of " in report
    assert (
        "monitoring/prometheus -> test/sample2-app-green:9100/TCP denied: egress allowed by monitoring/prometheus; "
        "ingress denied: isolated by test/default-deny-all, test/allow-http-from-ingress-controller, "
        "test/allow-metrics-from-prometheus, no rule matches"
    ) in report


def test_relaxing_pod_security_fails(copy: Path) -> None:
    # staging enforcing baseline: an app namespace must be restricted, and any exception needs a reason.
    def relax(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        docs[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
        return docs

    edit_documents(copy / "manifests/namespaces/staging.yaml", relax)
    found = violations(copy)
    assert failing(found) == {"namespaces"}
    assert [v.split(": ", 1)[1] for v in found["namespaces"]] == [
        "namespace staging: enforces 'baseline', not restricted, without a `# Pod Security EXCEPTION:` comment "
        "in its file saying why",
        "namespace staging: app namespace must have pod-security.kubernetes.io/enforce=restricted",
    ]


def test_missing_quota_fails(copy: Path) -> None:
    edit_documents(
        copy / "manifests/namespaces/monitoring.yaml", lambda docs: [d for d in docs if d["kind"] != "ResourceQuota"]
    )
    assert violations(copy)["quotas"] == ["namespace monitoring: no ResourceQuota"]


# ---------------------------------------------------------------- blind spots of the truth table alone
# Each mistake below leaves the truth table over the platform's workloads unchanged (the other
# side of the connection still denies, or no workload sits on the boundary), so the checks that
# existed before the boundary workloads stay silent; the boundary and layer checks name the rule.
BOUNDARY_CHECKS = set(segmentation.BOUNDARY_CHECKS)


def _split_peer(docs: list[dict[str, Any]], name: str, field: str, peers: str) -> list[dict[str, Any]]:
    """AND -> OR: one peer {namespaceSelector, podSelector} becomes two peers."""
    for d in docs:
        if d["metadata"]["name"] == name:
            rule = d["spec"][field][0]
            peer = rule[peers][0]
            rule[peers] = [{"namespaceSelector": peer["namespaceSelector"]}, {"podSelector": peer["podSelector"]}]
    return docs


@pytest.fixture(scope="module")
def before(platform_objects: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Every check on the unmodified platform, computed once for the tests below."""
    return segmentation.all_violations(segmentation.Platform.load(MANIFESTS, INTENT, platform_objects))


def _assert_only_new_checks_see_it(copy: Path, before: dict[str, list[str]], check: str, rule: str) -> str:
    found = violations(copy)
    old = {k: v for k, v in found.items() if k not in BOUNDARY_CHECKS}
    assert old == {k: v for k, v in before.items() if k not in BOUNDARY_CHECKS}, "the old checks saw it after all"
    assert found[check] != before[check], f"{check} did not change"
    report = found[check][0]
    assert f"allowed by {rule}" in report, report[:3000]
    return report


def test_ingress_peer_split_and_to_or_is_caught_by_the_ingress_layer(copy: Path, before: dict[str, list[str]]) -> None:
    # test/allow-http-from-ingress-controller: {ingress-nginx namespace AND controller pods} becomes
    # every pod of ingress-nginx OR controller-labelled pods of test. Both sources' egress is closed
    # (ingress-nginx pods other than the controller; every pod of test), so the table is unchanged.
    edit_documents(
        copy / "manifests/network-policies/test.yaml",
        lambda docs: _split_peer(docs, "allow-http-from-ingress-controller", "ingress", "from"),
    )
    report = _assert_only_new_checks_see_it(
        copy, before, "ingress-layer", "test/allow-http-from-ingress-controller ingress[0]"
    )
    # The boundary pods that tell AND from OR: pods of ingress-nginx failing the pod selector.
    assert "ingress alone allows ingress-nginx/~near-miss-" in report


def test_egress_peer_split_and_to_or_is_caught_by_the_egress_layer(copy: Path, before: dict[str, list[str]]) -> None:
    # ingress-nginx/controller egress[0]: {test/staging AND part-of=devops-platform} becomes every
    # pod of test and staging OR devops-platform pods of ingress-nginx; their ingress is closed.
    edit_documents(
        copy / "manifests/network-policies/ingress-nginx.yaml",
        lambda docs: _split_peer(docs, "controller", "egress", "to"),
    )
    report = _assert_only_new_checks_see_it(copy, before, "egress-layer", "ingress-nginx/controller egress[0]")
    assert "egress alone allows ingress-nginx/controller -> test/~near-miss-" in report


def test_port_widened_to_a_range_is_caught_by_the_ingress_layer(copy: Path, before: dict[str, list[str]]) -> None:
    # argocd/allow-metrics-from-prometheus: 8082-8084 becomes 8082-8090. Prometheus's egress still
    # ends at 8084, so the table is unchanged; the port just past the range (8085) shows it.
    def widen(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for d in docs:
            if d["metadata"]["name"] == "allow-metrics-from-prometheus":
                d["spec"]["ingress"][0]["ports"][0]["endPort"] = 8090
        return docs

    edit_documents(copy / "manifests/network-policies/argocd.yaml", widen)
    report = _assert_only_new_checks_see_it(
        copy, before, "ingress-layer", "argocd/allow-metrics-from-prometheus ingress[0]"
    )
    assert ":8085/TCP: allowed by argocd/allow-metrics-from-prometheus ingress[0]" in report


def test_egress_port_widened_to_a_range_is_caught_by_the_egress_layer(copy: Path, before: dict[str, list[str]]) -> None:
    # monitoring/prometheus egress to the controller's metrics: 10254 becomes 10254-10300. The
    # controller's ingress allows only 10254, so the table is unchanged; the controller's boundary
    # port 10255 shows the egress rule alone allowing it.
    def widen(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for d in docs:
            if d["metadata"]["name"] == "prometheus":
                for rule in d["spec"]["egress"]:
                    for port in rule.get("ports") or []:
                        if port.get("port") == 10254:
                            port["endPort"] = 10300
        return docs

    edit_documents(copy / "manifests/network-policies/monitoring.yaml", widen)
    report = _assert_only_new_checks_see_it(copy, before, "egress-layer", "monitoring/prometheus egress[5]")
    assert "monitoring/prometheus -> ingress-nginx/controller:10255/TCP" in report
