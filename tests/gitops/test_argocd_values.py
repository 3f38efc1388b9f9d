"""Applications render the chart with their destination environment's values files."""

from typing import Any

from verification.models.delivery import argocd_values


def _app(namespace: str, value_files: list[str], path: str = "platform/charts/bluegreen-app") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"sample-app-{namespace}", "namespace": "argocd"},
        "spec": {
            "source": {"path": path, "helm": {"releaseName": "sample-app", "valueFiles": value_files}},
            "destination": {"namespace": namespace},
        },
    }


OWN = ["../../environments/staging/values.yaml", "../../environments/staging/sample-app.yaml"]


def test_own_files_in_order_pass() -> None:
    assert argocd_values.check([_app("staging", OWN)]) == []


def test_another_environments_file_is_named() -> None:
    problems = argocd_values.check([_app("staging", ["../../environments/test/values.yaml", OWN[1]])])
    assert problems == [
        "Application sample-app-staging deploys sample-app to staging with values "
        "['platform/environments/test/values.yaml', 'platform/environments/staging/sample-app.yaml']; expected "
        "['platform/environments/staging/values.yaml', 'platform/environments/staging/sample-app.yaml'] "
        "(the environment's own files, in this order)"
    ]


def test_order_and_omissions_matter() -> None:
    assert argocd_values.check([_app("staging", list(reversed(OWN)))])
    assert argocd_values.check([_app("staging", OWN[:1])])


def test_destination_without_an_environment_and_other_sources() -> None:
    assert argocd_values.check([_app("production", OWN)])[0].startswith(
        "Application sample-app-production (destination production): "
    )
    assert argocd_values.check([_app("staging", [], path="platform/manifests/rbac")]) == []  # not the app chart
