"""The e2e stack takes its NodePort quota and access from the e2e overlay, not from code or the manifests."""

from typing import Any

from verification.e2e import stack


class _Recorder:
    provider = "kind"

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def kubectl(self, *args: str, **_: Any) -> None:
        self.calls.append(args)


def test_quota_patch_is_the_overlays(monkeypatch: Any) -> None:
    monkeypatch.setattr(stack, "e2e_overlay", lambda: {"namespace": "test", "quota": {"services.nodeports": 4}})
    cluster = _Recorder()
    stack.nodeport_quota(cluster)  # type: ignore[arg-type]
    (call,) = cluster.calls
    assert call[:4] == ("-n", "test", "patch", "resourcequota")
    assert call[-1] == '{"spec": {"hard": {"services.nodeports": "4"}}}'


def test_nodeport_policy_opens_only_the_overlays_ports(monkeypatch: Any) -> None:
    monkeypatch.setattr(stack, "e2e_overlay", lambda: {"nodeportAccess": {"ports": ["http"]}})
    (rule,) = stack.nodeport_policy(["172.18.0.0/16"])["spec"]["ingress"]
    assert rule == {"from": [{"ipBlock": {"cidr": "172.18.0.0/16"}}], "ports": [{"protocol": "TCP", "port": "http"}]}


def test_proxy_policy_admits_the_nodes_to_the_overlays_pods_and_ports_only(monkeypatch: Any) -> None:
    monkeypatch.setattr(stack, "e2e_overlay", lambda: {"proxyAccess": {"pods": ["alertmanager"], "ports": ["web"]}})
    policy = stack.proxy_policy(["172.18.0.0/16"])
    assert (policy["metadata"]["namespace"], policy["metadata"]["name"]) == tuple(stack.PROXY_POLICY.split("/"))
    assert policy["spec"]["podSelector"] == {
        "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["alertmanager"]}]
    }
    (rule,) = policy["spec"]["ingress"]
    assert rule == {"from": [{"ipBlock": {"cidr": "172.18.0.0/16"}}], "ports": [{"protocol": "TCP", "port": "web"}]}
    assert policy["spec"]["policyTypes"] == ["Ingress"]  # the components' egress stays the platform's


def test_the_repository_overlay_loads() -> None:
    overlay = stack.e2e_overlay()
    # its size is checked against the e2e renders by conformance (test_exposure.py)
    assert overlay["namespace"] == stack.APP_NAMESPACE and "services.nodeports" in overlay["quota"]
    assert set(overlay["proxyAccess"]["pods"]) == {"prometheus", "alertmanager"}
