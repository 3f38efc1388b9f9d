"""The references model against hand-written universes: each dangling reference is named once."""

from typing import Any

import pytest

from verification.errors import UserError
from verification.models.schema import references as refs


def _obj(kind: str, name: str, namespace: str = "app", **body: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "annotations": {}},
        **body,
    }


def _deployment(name: str, labels: dict[str, str], ports: dict[str, int], **pod: Any) -> dict[str, Any]:
    container = {"name": "c", "ports": [{"name": n, "containerPort": p} for n, p in ports.items()]}
    spec = {"template": {"metadata": {"labels": labels}, "spec": {"containers": [container], **pod}}}
    return _obj("Deployment", name, spec=spec)


WEB = _deployment("web", {"app": "web"}, {"http": 8080})
SERVICE = _obj(
    "Service", "web", spec={"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
)
NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app", "labels": {"tier": "apps"}}}


def _ingress(service: str, port: dict[str, Any]) -> dict[str, Any]:
    backend = {"service": {"name": service, "port": port}}
    return _obj("Ingress", "web", spec={"rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]})


def _problems(*objects: dict[str, Any], external: list[refs.External] | None = None) -> list[str]:
    return refs.dangling(refs.Universe([NAMESPACE, *objects], external or []))


def test_a_resolving_platform_has_no_problem() -> None:
    assert _problems(WEB, SERVICE, _ingress("web", {"name": "http"})) == []


def test_ingress_to_a_missing_service_is_named() -> None:
    (problem,) = _problems(WEB, _ingress("grafana", {"name": "http"}))
    assert "routes to Service app/grafana, which nothing creates" in problem


def test_ingress_to_a_missing_port_name_or_number() -> None:
    assert "no port named 'web'" in _problems(WEB, SERVICE, _ingress("web", {"name": "web"}))[0]
    assert "no port 8080" in _problems(WEB, SERVICE, _ingress("web", {"number": 8080}))[0]


def test_service_selecting_nothing_and_target_port_missing() -> None:
    lonely = _obj("Service", "web", spec={"selector": {"app": "api"}, "ports": [{"port": 80}]})
    assert "selects the pods of no workload" in _problems(WEB, lonely)[0]
    wrong_port = _obj(
        "Service", "web", spec={"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "metrics"}]}
    )
    assert "targetPort 'metrics'" in _problems(WEB, wrong_port)[0]


def test_service_monitor_port_must_be_a_service_port_name() -> None:
    monitor = _obj("ServiceMonitor", "web", spec={"selector": {}, "endpoints": [{"port": "metrics"}]})
    SERVICE["metadata"]["labels"] = {"app": "web"}
    assert "endpoint port 'metrics'" in _problems(WEB, SERVICE, monitor)[0]
    monitor["spec"]["endpoints"] = [{"port": "http"}]
    assert _problems(WEB, SERVICE, monitor) == []


def test_network_policy_peers_must_select_pods_or_be_external() -> None:
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}  # fmt: skip
    policy = _obj(
        "NetworkPolicy", "dns", spec={"podSelector": {"matchLabels": {"app": "web"}}, "egress": [{"to": [peer]}]}
    )
    assert "selects no namespace" in _problems(WEB, policy)[0]
    system = refs.External("Namespace", "", "kube-system", {}, {}, "cluster")
    assert "selects no pods in ['kube-system']" in _problems(WEB, policy, external=[system])[0]
    dns = refs.External("Pods", "kube-system", "", {"k8s-app": "kube-dns"}, {}, "cluster DNS")
    assert _problems(WEB, policy, external=[system, dns]) == []
    policy["spec"]["podSelector"] = {"matchLabels": {"app": "api"}}
    assert (
        "podSelector {'matchLabels': {'app': 'api'}} selects no pods in app"
        in _problems(WEB, policy, external=[system, dns])[0]
    )


def test_binding_needs_its_role_and_service_accounts() -> None:
    binding = _obj("RoleBinding", "b", roleRef={"kind": "Role", "name": "r"},
                   subjects=[{"kind": "ServiceAccount", "name": "deployer", "namespace": "app"}])  # fmt: skip
    problems = _problems(binding)
    assert any("roleRef Role r does not exist" in p for p in problems)
    assert any("ServiceAccount app/deployer does not exist" in p for p in problems)
    binding["roleRef"] = {"kind": "ClusterRole", "name": "view"}  # a Kubernetes default role
    assert _problems(binding, _obj("ServiceAccount", "deployer")) == []


def test_pdb_and_pod_references() -> None:
    pdb = _obj("PodDisruptionBudget", "web", spec={"selector": {"matchLabels": {"app": "api"}}})
    assert "selects no workload's pods" in _problems(WEB, pdb)[0]
    secret_pod = _deployment("s", {"app": "s"}, {}, volumes=[{"name": "v", "secret": {"secretName": "creds"}}])
    assert "needs Secret app/creds" in _problems(secret_pod)[0]
    creds = refs.External("Secret", "app", "creds", {}, {}, "out of band")
    assert _problems(secret_pod, external=[creds]) == []
    optional = _deployment("o", {"app": "o"}, {}, volumes=[{"name": "v", "configMap": {"name": "x", "optional": True}}])
    assert _problems(optional) == []


def test_operator_pods_and_services_are_modelled() -> None:
    alerting = {"alertmanagers": [{"name": "alertmanager-operated"}]}
    spec = {"podMetadata": {"labels": {"team": "obs"}}, "serviceAccountName": "p", "alerting": alerting}
    prometheus = _obj("Prometheus", "platform", spec=spec)
    alertmanager = _obj("Alertmanager", "platform", spec={"serviceAccountName": "p"})
    policy = _obj("NetworkPolicy", "p", spec={"podSelector": {"matchLabels": {"team": "obs"}}})
    assert _problems(prometheus, alertmanager, policy, _obj("ServiceAccount", "p")) == []
    assert "needs Service app/alertmanager-operated" in _problems(prometheus, _obj("ServiceAccount", "p"))[0]


def test_application_path_must_be_a_folder(tmp_path: Any) -> None:
    (tmp_path / "charts" / "app").mkdir(parents=True)
    source = {"repoURL": refs.PLATFORM_REPO, "path": "charts/app", "helm": {"valueFiles": ["../../env/x.yaml"]}}
    app = _obj("Application", "a", spec={"source": source})
    u = refs.Universe([app], [])
    assert "helm valueFile '../../env/x.yaml' does not exist" in next(refs.check_applications(u, tmp_path))
    source["path"] = "charts/missing"
    assert "is not a folder" in next(refs.check_applications(u, tmp_path))


def test_external_file_errors_name_the_entry(tmp_path: Any) -> None:
    bad = tmp_path / "external.yaml"
    bad.write_text("- {kind: Secret, namespace: a, name: b}\n")
    with pytest.raises(UserError, match="entry 1: `why` is required"):
        refs.load_external(bad)
    bad.write_text("- {kind: Secrets, name: b, why: x}\n")
    with pytest.raises(UserError, match="kind must be one of"):
        refs.load_external(bad)
    assert refs.load_external()  # the repository's file loads


def test_intent_rows_must_describe_rendered_pods() -> None:
    from verification.models.netpol.model import Port, Workload

    u = refs.Universe([NAMESPACE, WEB], [refs.External("Pods", "kube-system", "", {"k8s-app": "kube-dns"}, {}, "dns")])
    good = Workload("app", "web", {"app": "web"}, (Port(8080, name="http"),))
    assert refs.check_intent_workloads(u, [good]) == []
    wrong_port = Workload("app", "web", {"app": "web"}, (Port(9090, name="http"),))
    assert "port http=9090 is no container port of its pods" in refs.check_intent_workloads(u, [wrong_port])[0]
    ghost = Workload("app", "grafana", {"app": "grafana"}, ())
    assert "no rendered workload has pods labelled" in refs.check_intent_workloads(u, [ghost])[0]
    dns = Workload("kube-system", "coredns", {"k8s-app": "kube-dns"}, (Port(53, "UDP", "dns"),))
    assert refs.check_intent_workloads(u, [dns]) == []


@pytest.mark.parametrize(
    ("api_version", "kind", "namespaced"),
    [
        ("networking.k8s.io/v1", "IngressClass", False),
        ("scheduling.k8s.io/v1", "PriorityClass", False),
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", False),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
        ("v1", "Namespace", False),
        ("v1", "Service", True),
        ("rbac.authorization.k8s.io/v1", "Role", True),
    ],
)
def test_chart_renders_get_the_release_namespace_only_on_namespaced_kinds(
    api_version: str, kind: str, namespaced: bool
) -> None:
    [obj] = refs.with_namespace([{"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}], "test")
    assert obj["metadata"].get("namespace") == ("test" if namespaced else None)
