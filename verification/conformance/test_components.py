"""Grafana loads every dashboard and data source; ArgoCD's plain install equals its Helm values."""

from typing import Any

from verification.models.delivery import argocd
from verification.models.workloads import components


def test_grafana_mounts_every_dashboard_and_datasource(platform_objects: list[dict[str, Any]]) -> None:
    problems = components.check_grafana_provisioning(platform_objects)
    assert not problems, "\n".join(problems)


def test_argocd_install_equals_the_helm_values(platform_objects: list[dict[str, Any]]) -> None:
    problems = components.check_argocd_install(platform_objects, argocd.load_install_values())
    assert not problems, "\n".join(problems)
