"""Schema model: strict validation of built-in objects for the pinned Kubernetes version."""

from verification.models.schema import builtin as schema

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "test"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}},
    },
}


def test_valid_object_has_no_violations() -> None:
    assert schema.validate(DEPLOYMENT) == []


def test_unknown_field_is_named_with_its_path() -> None:
    bad = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replica": 2}}
    [problem] = schema.validate(bad)
    assert "Deployment test/web" in problem and "spec" in problem and "replica" in problem


def test_wrong_type_is_reported() -> None:
    bad = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": "two"}}
    assert any("spec.replicas" in p for p in schema.validate(bad))


def test_unknown_kind_is_reported() -> None:
    [problem] = schema.validate({"apiVersion": "v1", "kind": "Pizza", "metadata": {"name": "x"}})
    assert "unknown kind v1/Pizza" in problem


def test_kubernetes_minor_comes_from_versions_file() -> None:
    assert schema.kubernetes_minor() == "1.33"
