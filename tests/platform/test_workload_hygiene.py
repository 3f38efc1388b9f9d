"""Workload hygiene checks against hand-written objects: a clean workload passes, each defect is named."""

import copy
from typing import Any

import pytest

from verification.errors import UserError
from verification.models.workloads import hygiene as h

LABELS = {"app": "web"}
CONTAINER = {
    "name": "web",
    "image": "registry.example/web:1.0@sha256:" + "a" * 64,
    "ports": [{"name": "http", "containerPort": 8080}],
    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
    "livenessProbe": {"tcpSocket": {"port": "http"}},
    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "1", "memory": "64Mi"}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    },
}
POD = {
    "serviceAccountName": "web",
    "automountServiceAccountToken": False,
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
    "topologySpreadConstraints": [{"topologyKey": "kubernetes.io/hostname", "maxSkew": 1}],
    "containers": [CONTAINER],
}


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": "apps", "labels": dict(LABELS), "annotations": {}}


def deployment(**pod: Any) -> dict[str, Any]:
    spec = {"replicas": 2, "selector": {"matchLabels": LABELS},
            "template": {"metadata": {"labels": dict(LABELS)}, "spec": {**copy.deepcopy(POD), **pod}}}  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("web"), "spec": spec}


PDB_SPEC = {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow", "selector": {"matchLabels": LABELS}}
PDB = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta("web"), "spec": PDB_SPEC}
POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta("deny"),
          "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}  # fmt: skip


def _checks(*objects: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for finding in h.findings(list(objects)):
        out.setdefault(finding.check, []).append(finding.message)
    return out


def _with_container(**changes: Any) -> dict[str, Any]:
    return deployment(containers=[{**copy.deepcopy(CONTAINER), **changes}])


def test_a_clean_workload_passes_every_check() -> None:
    assert _checks(deployment(), PDB, POLICY) == {}


def test_identical_or_missing_probes() -> None:
    same = _with_container(livenessProbe={"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 30})
    assert "use the same check" in _checks(same, PDB, POLICY)["probes"][0]
    assert "no readinessProbe" in _checks(_with_container(readinessProbe=None), PDB, POLICY)["probes"][0]
    bad_port = _with_container(livenessProbe={"tcpSocket": {"port": "metrics"}})
    assert "livenessProbe port 'metrics' is not a container port" in _checks(bad_port, PDB, POLICY)["probes"][0]


def test_pdb_eviction_policy_and_spread() -> None:
    pdb = copy.deepcopy(PDB)
    del pdb["spec"]["unhealthyPodEvictionPolicy"]
    assert "unhealthyPodEvictionPolicy is not AlwaysAllow" in _checks(deployment(), pdb, POLICY)["disruption-budget"][0]
    assert "no PodDisruptionBudget" in _checks(deployment(), POLICY)["disruption-budget"][0]
    assert "may all land on one node" in _checks(deployment(topologySpreadConstraints=[]), PDB, POLICY)["spread"][0]
    anti = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}  # fmt: skip
    assert "spread" not in _checks(deployment(topologySpreadConstraints=[], affinity=anti), PDB, POLICY)


def test_images_resources_tokens_and_isolation() -> None:
    found = _checks(_with_container(image="web:latest", resources={}), PDB)
    assert "has no fixed tag" in found["image-tag"][0]
    assert "by tag, not digest" in found["image-digest"][0]
    assert "no requests.cpu, requests.memory, limits.cpu, limits.memory" in found["resources"][0]
    assert "no NetworkPolicy isolates its ingress" in found["network-isolation"][0]
    token = _checks(deployment(automountServiceAccountToken=True), PDB, POLICY)["service-account-token"]
    assert "which no binding grants anything" in token[0]


def test_host_namespaces_escalation_and_env() -> None:
    found = _checks(deployment(hostNetwork=True), PDB, POLICY)
    assert "hostNetwork: true" in found["host-namespaces"][0]
    env = [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    found = _checks(_with_container(env=env, securityContext={}), PDB, POLICY)
    assert any("credential DB_PASSWORD" in m for m in found["env"]) and any(
        "env A set twice" in m for m in found["env"]
    )
    assert "allowPrivilegeEscalation is not false" in found["privilege-escalation"][0]
    assert "capabilities not dropped" in " ".join(found["security-context"])


def test_api_versions_and_config_content() -> None:
    old = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": _meta("old")}
    assert "is deprecated" in _checks(old)["api-versions"][0]
    ini = "admin_password = hunter2\nclient_secret = $__file{/s}\ntoken_url = https://x"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("c"), "data": {"a.ini": ini}}
    assert _checks(cm)["config-content"] == [
        "<unknown>: ConfigMap apps/c a.ini: admin_password looks like a credential"
    ]


def test_exemptions_cover_and_go_stale(tmp_path: Any) -> None:
    found = h.findings([_with_container(image="web:1.0")], only=["image-digest"])
    exemptions = [h.Exemption("image-digest", ("apps/Deployment/*", "other/*"), "offline builds")]
    left, used = h.exempt(found, exemptions)
    assert left == [] and used == {(0, "apps/Deployment/*")}
    assert h.stale(exemptions, used) == [
        f"{h.EXEMPTIONS_FILE}: exemption image-digest for 'other/*' exempts nothing any more: remove it"
    ]
    bad = tmp_path / "e.yaml"
    bad.write_text("- {check: nope, objects: [x], why: y}\n")
    with pytest.raises(UserError, match="unknown check 'nope'"):
        h.load_exemptions(bad)


def test_unbounded_scratch_space_and_uncovered_kinds() -> None:
    found = _checks(deployment(volumes=[{"name": "tmp", "emptyDir": {}}]), PDB, POLICY)
    assert found["ephemeral-storage"] == ["<unknown>: Deployment apps/web: emptyDir tmp has no sizeLimit"]
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta("web")}
    assert h.uncovered_kinds([deployment(), hpa]) == ["HorizontalPodAutoscaler (<unknown>)"]


@pytest.mark.parametrize(
    ("resources", "missing"),
    [
        ({"requests": {"cpu": "10m", "memory": "16Mi"}}, "limits.cpu, limits.memory"),
        # a key without a value states nothing (capacity's figures could not be computed from it)
        ({"requests": {"cpu": "10m", "memory": None}, "limits": {"cpu": "1", "memory": "64Mi"}}, "requests.memory"),
        ({"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": None}, "limits.cpu, limits.memory"),
    ],
    ids=["no-limits", "null-request", "null-limits"],
)
def test_resources_names_each_missing_request_and_limit(resources: dict[str, Any], missing: str) -> None:
    found = _checks(_with_container(resources=resources), PDB, POLICY)
    assert list(found) == ["resources"]
    assert found["resources"] == [f"<unknown>: Deployment apps/web container web: no {missing}"]


def test_resources_covers_init_containers() -> None:
    init = {**copy.deepcopy(CONTAINER), "name": "init", "resources": {}}
    found = _checks(deployment(initContainers=[init]), PDB, POLICY)
    assert [m.split(": ", 1)[1] for m in found["resources"]] == [
        "Deployment apps/web container init: no requests.cpu, requests.memory, limits.cpu, limits.memory"
    ]


@pytest.mark.parametrize(("threshold", "named"), [(1, True), (2, False), (None, False)])  # None: Kubernetes' 3
def test_a_readiness_probe_that_gives_up_after_one_miss_is_named(threshold: int | None, named: bool) -> None:
    probe: dict[str, Any] = {"httpGet": {"path": "/ready", "port": "http"}}
    if threshold is not None:
        probe["failureThreshold"] = threshold
    found = _checks(_with_container(readinessProbe=probe), PDB, POLICY).get("probes", [])
    assert any("failureThreshold 1" in message for message in found) is named
