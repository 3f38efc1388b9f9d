"""Kubernetes API objects (the client's own models) mapped to the decision model's states."""

from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from verification.bluegreen.kube import Kube


def _deployment(color: str, *, replicas: int, generation: int, observed: int, updated: int, total: int) -> Any:
    env = [
        client.V1EnvVar(name="APP_VERSION", value="1.1.0"),
        client.V1EnvVar(name="MAX_CONNECTION_AGE_SECONDS", value="3"),
    ]
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=f"sample-app-{color}", generation=generation),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app.kubernetes.io/name": "sample-app", "color": color}),
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(containers=[client.V1Container(name="app", env=env)])
            ),
        ),
        status=client.V1DeploymentStatus(observed_generation=observed, updated_replicas=updated, replicas=total),
    )


def _pod(
    name: str, *, ready: bool, version: str, waiting: str | None = None, deleting: bool = False, image_id: str = ""
) -> Any:
    state = client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason=waiting)) if waiting else None
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, deletion_timestamp=datetime.now(UTC) if deleting else None),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(name="sidecar", env=[client.V1EnvVar(name="APP_VERSION", value="other")]),
                client.V1Container(name="app", env=[client.V1EnvVar(name="APP_VERSION", value=version)]),
            ]
        ),
        status=client.V1PodStatus(
            phase="Running",
            conditions=[client.V1PodCondition(type="Ready", status="True" if ready else "False")],
            container_statuses=[
                client.V1ContainerStatus(name="sidecar", image="s", image_id="s@sha256:5", ready=True, restart_count=0),
                client.V1ContainerStatus(
                    name="app", image="i", image_id=image_id, ready=ready, restart_count=0, state=state
                ),
            ],
        ),
    )


class _Apps:
    def __init__(self, deployment: Any) -> None:
        self.deployment = deployment

    def read_namespaced_deployment(self, name: str, namespace: str) -> Any:
        if self.deployment is None:
            raise client.ApiException(status=404)
        return self.deployment


class _Core:
    def __init__(self, pods: list[Any]) -> None:
        self.pods = pods
        self.selectors: list[str] = []

    def list_namespaced_pod(self, namespace: str, label_selector: str) -> Any:
        self.selectors.append(label_selector)
        return client.V1PodList(items=self.pods)


class _Discovery:
    def list_namespaced_endpoint_slice(self, namespace: str, label_selector: str) -> Any:
        assert label_selector == "kubernetes.io/service-name=sample-app"

        def endpoint(pod: str, ready: bool | None) -> Any:
            return client.V1Endpoint(
                addresses=["10.0.0.1"],
                conditions=client.V1EndpointConditions(ready=ready),
                target_ref=client.V1ObjectReference(kind="Pod", name=pod),
            )

        slice_ = client.V1EndpointSlice(
            address_type="IPv4",
            endpoints=[endpoint("g-0", True), endpoint("g-1", None), endpoint("b-0", False)],
        )
        return client.V1EndpointSliceList(items=[slice_])


def kube(deployment: Any, pods: list[Any]) -> Kube:
    k = Kube.__new__(Kube)  # no kubeconfig: the API objects are handed in
    k.namespace = "test"
    k.apps, k.core, k.discovery = _Apps(deployment), _Core(pods), _Discovery()
    k._api_exception = client.ApiException
    return k


def test_ready_colour() -> None:
    dep = _deployment("green", replicas=2, generation=3, observed=3, updated=2, total=2)
    k = kube(dep, [_pod("g-0", ready=True, version="1.1.0"), _pod("g-1", ready=True, version="1.1.0")])
    state = k.colour("sample-app", "green", "1.1.0", "1.1.0")
    assert k.core.selectors == ["app.kubernetes.io/name=sample-app,color=green"]
    assert state.rolled_out and state.replicas == 2 and state.max_connection_age == 3.0
    assert [(p.name, p.ready, p.version) for p in state.pods] == [("g-0", True, "1.1.0"), ("g-1", True, "1.1.0")]
    assert state.unready_reason() is None


def test_rollout_in_progress_with_a_crashing_and_a_terminating_pod() -> None:
    dep = _deployment("green", replicas=2, generation=4, observed=4, updated=2, total=3)
    pods = [
        _pod("g-new-0", ready=True, version="1.1.0"),
        _pod("g-new-1", ready=False, version="1.1.0", waiting="CrashLoopBackOff"),
        _pod("g-old", ready=True, version="1.0.0", deleting=True),
    ]
    state = kube(dep, pods).colour("sample-app", "green", "1.1.0", "1.1.0")
    assert not state.rolled_out  # three replicas exist for two desired
    assert [(p.name, p.ready, p.terminating, p.detail) for p in state.pods] == [
        ("g-new-0", True, False, "Running"),
        ("g-new-1", False, False, "CrashLoopBackOff"),
        ("g-old", False, True, "Running"),
    ]
    assert state.unready_reason() == "green is still rolling out (1/2 pods ready)"


def test_controller_has_not_seen_the_new_generation() -> None:
    dep = _deployment("blue", replicas=2, generation=5, observed=4, updated=2, total=2)
    assert not kube(dep, []).colour("sample-app", "blue", "1", "1").rolled_out


def test_missing_deployment_is_a_colour_without_replicas() -> None:
    state = kube(None, []).colour("sample-app", "blue", "1.0.0", "1.0.0")
    assert (state.replicas, state.rolled_out, state.pods) == (0, False, ())
    assert state.unready_reason() == "blue has 0 replicas"


def test_ready_endpoints_count_unknown_as_ready() -> None:
    assert kube(None, []).ready_endpoint_pods("sample-app") == ("g-0", "g-1")


def test_a_forbidden_endpoint_read_stops_with_the_missing_right() -> None:
    import pytest

    from verification.bluegreen.kube import Forbidden

    class _NoDiscovery:
        def list_namespaced_endpoint_slice(self, namespace: str, label_selector: str) -> Any:
            raise client.ApiException(status=403, reason="Forbidden")

    k = kube(None, [])
    k.discovery = _NoDiscovery()
    with pytest.raises(Forbidden, match=r"may not list endpointslices\.discovery\.k8s\.io in test"):
        k.ready_endpoint_pods("sample-app")


def test_a_pinned_digest_is_ready_only_when_every_pod_runs_it() -> None:
    # The app container's imageID is what the node pulled; the sidecar's digest is not the app's.
    digest = "sha256:" + "a" * 64
    dep = _deployment("green", replicas=2, generation=3, observed=3, updated=2, total=2)
    pods = [
        _pod("g-0", ready=True, version="1.1.0", image_id=f"r.local/platform/sample-app@{digest}"),
        _pod("g-1", ready=True, version="1.1.0", image_id="r.local/platform/sample-app@sha256:" + "b" * 64),
    ]
    state = kube(dep, pods).colour("sample-app", "green", "1.1.0", "1.1.0", digest)
    assert [p.image_id.rpartition("@")[2] for p in state.pods] == [digest, "sha256:" + "b" * 64]
    assert state.unready_reason() == (
        f"green has pods not running {digest}: g-1=r.local/platform/sample-app@sha256:{'b' * 64}"
    )
    assert kube(dep, pods[:1] * 2).colour("sample-app", "green", "1.1.0", "1.1.0", digest).unready_reason() is None
    # Without a digest, the tag is all a colour asks for (the build image source side-loads images).
    assert kube(dep, pods).colour("sample-app", "green", "1.1.0", "1.1.0").unready_reason() is None
