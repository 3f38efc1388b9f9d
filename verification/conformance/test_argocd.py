"""ArgoCD's projects and applications keep the delivery rules (verification/models/delivery/argocd.py)."""

from typing import Any

import pytest

from verification import catalog
from verification.models.delivery import argocd


@pytest.fixture(scope="module")
def install_values() -> dict[str, Any]:
    return argocd.load_install_values()


def test_every_app_has_an_application_per_environment(platform_objects: list[dict[str, Any]]) -> None:
    apps = argocd.applications(platform_objects)
    branches = {"test": "develop", "staging": "main"}  # GitOps environments and the branch each follows
    expected = {f"{a}-{env}": (env, branch) for env, branch in branches.items() for a in catalog.current().apps_in(env)}
    assert len(expected) >= 4
    found = {
        name: (argocd.app_namespace(app), app["spec"]["source"]["targetRevision"])
        for name, app in apps.items()
        if name in expected
    }
    assert found == expected


@pytest.mark.parametrize("check", argocd.CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_delivery_rule(platform_objects: list[dict[str, Any]], check: Any) -> None:
    problems = check(platform_objects)
    assert not problems, "\n".join(problems)


def test_install_values(platform_objects: list[dict[str, Any]], install_values: dict[str, Any]) -> None:
    problems = argocd.check_install_values(install_values, platform_objects)
    assert not problems, "\n".join(problems)
