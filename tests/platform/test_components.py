"""Components model: Grafana provisioning and the ArgoCD install, on hand-made objects."""

import copy
from typing import Any

from verification.models.workloads import components
from verification.paths import MANIFESTS
from verification.yamlio import load_manifests

OBJECTS = load_manifests([MANIFESTS / "monitoring", MANIFESTS / "argocd-install"])
VALUES = {"configs": {"cm": {"create": True, "url": "https://argocd.example", "admin.enabled": "false"}}}


def _cm(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "monitoring", "labels": labels, "annotations": {}},
    }


def test_the_repository_passes() -> None:
    assert components.check_grafana_provisioning(OBJECTS) == []


def test_an_unmounted_dashboard_is_named() -> None:
    (problem,) = components.check_grafana_provisioning(
        [*OBJECTS, _cm("grafana-dashboard-new", {"grafana_dashboard": "1"})]
    )
    assert "ConfigMap grafana-dashboard-new (label grafana_dashboard) is not mounted" in problem


def test_no_grafana_is_named() -> None:
    others = [o for o in OBJECTS if not (o["kind"] == "Deployment" and o["metadata"]["name"] == "grafana")]
    assert "Grafana is not part of the platform" in components.check_grafana_provisioning(others)[0]


def _argocd(cm_data: dict[str, str], image: str = "quay.io/argoproj/argocd:v3.0.6") -> list[dict[str, Any]]:
    deployment = {"kind": "Deployment", "metadata": {"name": "argocd-server", "namespace": "argocd", "annotations": {}},
                  "spec": {"template": {"spec": {"containers": [{"name": "s", "image": image}]}}}}  # fmt: skip
    cm = {
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": "argocd", "annotations": {}},
        "data": cm_data,
    }
    return [deployment, cm]


def test_argocd_cm_must_equal_the_values(monkeypatch: Any) -> None:
    monkeypatch.setattr(components, "versions", lambda: {"components": {"argocd": "v3.0.6"}})
    same = {"url": "https://argocd.example", "admin.enabled": "false"}
    assert components.check_argocd_install(_argocd(same), VALUES) == []
    drifted = {**same, "admin.enabled": "true"}
    assert "argocd-cm 'admin.enabled' differs" in components.check_argocd_install(_argocd(drifted), VALUES)[0]
    extra = {**same, "exec.enabled": "true"}
    assert "'exec.enabled'" in components.check_argocd_install(_argocd(extra), VALUES)[0]
    (old,) = components.check_argocd_install(_argocd(same, "quay.io/argoproj/argocd:v2.14.0"), copy.deepcopy(VALUES))
    assert "runs quay.io/argoproj/argocd:v2.14.0, pin is v3.0.6" in old
