"""Helpers of the ArgoCD model on hand-made inputs: directory selection, chart kinds, RBAC policy."""

from pathlib import Path

from verification.models.delivery import argocd
from verification.yamlio import SOURCE_ANNOTATION


def _obj(kind: str, source: str, api: str = "v1", namespace: str | None = None) -> dict:
    meta: dict = {"name": kind.lower(), "annotations": {SOURCE_ANNOTATION: source}}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": meta}


OBJECTS = [
    _obj("ConfigMap", "platform/manifests/mon/a.yaml"),
    _obj("Role", "platform/manifests/mon/rbac.yaml", "rbac.authorization.k8s.io/v1"),
    _obj("ConfigMap", "platform/manifests/mon/sub/b.yaml"),
    _obj("ConfigMap", "platform/manifests/other/c.yaml"),
]


def test_directory_selection_follows_argocd_include_exclude_and_recurse() -> None:
    plain = {"path": "platform/manifests/mon"}
    assert argocd.directory_files(plain, OBJECTS) == {
        "platform/manifests/mon/a.yaml",
        "platform/manifests/mon/rbac.yaml",
    }
    assert argocd.directory_files({**plain, "directory": {"exclude": "rbac.yaml"}}, OBJECTS) == {
        "platform/manifests/mon/a.yaml"
    }
    assert argocd.directory_files({**plain, "directory": {"include": "{rbac.yaml,nothing.yaml}"}}, OBJECTS) == {
        "platform/manifests/mon/rbac.yaml"
    }
    assert "platform/manifests/mon/sub/b.yaml" in argocd.directory_files(
        {**plain, "directory": {"recurse": True}}, OBJECTS
    )


def test_chart_kinds_reads_every_template_document(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.yaml").write_text(
        "{{- if .Values.a }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n---\n"
        "apiVersion: v1\nkind: Service\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
    )
    assert argocd.chart_kinds(tmp_path) == {
        ("apps", "Deployment"),
        ("", "Service"),
        ("autoscaling", "HorizontalPodAutoscaler"),
    }


def test_rbac_policy_rows_ignore_comments_and_blank_lines() -> None:
    csv = "# comment\n\np, role:x, applications, get, test/*, allow\ng, team/a, role:x\n"
    assert argocd._policy_lines(csv) == [
        ["p", "role:x", "applications", "get", "test/*", "allow"],
        ["g", "team/a", "role:x"],
    ]


def test_selector_matching_of_notification_subscriptions() -> None:
    labels = {"platform.io/environment": "staging", "app.kubernetes.io/name": "sample-app"}
    assert argocd._selects(None, labels)
    assert argocd._selects("platform.io/environment=staging", labels)
    assert not argocd._selects("platform.io/environment=test", labels)
    assert not argocd._selects("platform.io/environment=staging,app.kubernetes.io/name=other", labels)


def test_spec_source_is_ignored_when_spec_sources_is_set() -> None:
    app = {"spec": {"source": {"path": "ignored"}, "sources": [{"path": "a"}, {"path": "b"}]}}
    assert [s["path"] for s in argocd._sources(app)] == ["a", "b"]
    assert [s["path"] for s in argocd._sources({"spec": {"source": {"path": "only"}}})] == ["only"]
