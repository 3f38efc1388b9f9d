"""Observations of a release in the cluster, through the Kubernetes API (the `kubernetes` client).

HTTP checks go to each pod through the API server's port-forward (kubelet streams into the
pod's network namespace). That needs no helper pod, no image and no extra NetworkPolicy rule,
works from a GitLab runner outside the cluster, and lets the orchestrator test EVERY pod of a
colour (a port-forward to a Service would pin one arbitrary pod). That the Services route to
exactly those pods is checked from their EndpointSlices; the live Service path itself
(kube-proxy) is exercised by e2e through the NodePort, or by `--url` here.
"""

import http.client
import os
from typing import Any

import httpx

from verification.bluegreen.model import FORBIDDEN, Answer, ColourState, PodState
from verification.errors import UserError, VerificationError

VERSION_HEADER = "X-App-Version"
APP_CONTAINER = "app"


def http_get_over(sock: Any, path: str, via: str, timeout: float = 5.0) -> Answer:
    """One `GET path` over an already connected socket (a port-forward stream)."""
    try:
        sock.settimeout(timeout)
        conn = http.client.HTTPConnection("localhost", timeout=timeout)
        conn.sock = sock  # the connection is already established
        conn.request("GET", path, headers={"Connection": "close", "User-Agent": "platform-verify-bluegreen"})
        response = conn.getresponse()
        response.read()
        return Answer(via, path, response.status, response.getheader(VERSION_HEADER))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(via, path, None, None, f"{type(exc).__name__}: {exc}")


def get_url(url: str, path: str = "/version", timeout: float = 5.0) -> Answer:
    """One request on a fresh connection, as a new client would send it."""
    try:
        response = httpx.get(url.rstrip("/") + path, timeout=timeout, headers={"Connection": "close"})
        return Answer(url, path, response.status_code, response.headers.get(VERSION_HEADER))
    except httpx.HTTPError as exc:
        return Answer(url, path, None, None, f"{type(exc).__name__}: {exc}")


class Forbidden(VerificationError):
    """The identity lacks a read the orchestrator needs; raised before anything is changed."""

    exit_code = 1


class Kube:
    """Read-only views of one namespace, plus port-forwarded GETs to pods."""

    def __init__(self, namespace: str, context: str | None = None, kubeconfig: str | None = None) -> None:
        from kubernetes import client, config

        self.namespace = namespace
        try:
            api = config.new_client_from_config(config_file=kubeconfig, context=context, persist_config=False)
        except config.ConfigException as exc:
            if context or kubeconfig or not os.environ.get("KUBERNETES_SERVICE_HOST"):
                raise UserError(f"cannot use the kubeconfig (context {context or 'current'}): {exc}") from None
            config.load_incluster_config()  # a deploy job running inside the cluster
            api = client.ApiClient()
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.discovery = client.DiscoveryV1Api(api)
        self._api = api
        self._api_exception = client.ApiException

    def live_objects(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The live counterpart of each rendered object that exists (GitOps plans compare with it)."""
        from kubernetes.dynamic import DynamicClient
        from kubernetes.dynamic.exceptions import NotFoundError

        dynamic = DynamicClient(self._api)
        found = []
        for obj in objects:
            resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
            try:
                live = resource.get(name=obj["metadata"]["name"], namespace=self.namespace)
            except NotFoundError:
                continue
            found.append(live.to_dict())
        return found

    def colour(
        self, app: str, color: str, tag: str | None, version: str | None, digest: str | None = None
    ) -> ColourState:
        name = f"{app}-{color}"
        try:
            dep = self.apps.read_namespaced_deployment(name, self.namespace)
        except self._api_exception as exc:
            if exc.status == 404:
                return ColourState(color, tag, version, 0, False, digest=digest)
            raise
        want = dep.spec.replicas if dep.spec.replicas is not None else 1
        status = dep.status
        assert status is not None and dep.metadata is not None  # the API server fills both on a read
        rolled_out = (
            (status.observed_generation or 0) >= (dep.metadata.generation or 0)
            and (status.updated_replicas or 0) == want
            and (status.replicas or 0) == want
        )
        selector = ",".join(f"{k}={v}" for k, v in (dep.spec.selector.match_labels or {}).items())
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        age = _env_value(dep.spec.template.spec, "MAX_CONNECTION_AGE_SECONDS")
        max_age = float(age) if age and age.replace(".", "", 1).isdigit() else None
        return ColourState(color, tag, version, want, rolled_out, tuple(map(_pod_state, pods)), max_age, digest)

    def selector_color(self, service: str) -> str | None:
        try:
            svc = self.core.read_namespaced_service(service, self.namespace)
        except self._api_exception as exc:
            if exc.status == 404:
                return None
            raise
        selector = svc.spec.selector if svc.spec is not None else None
        return (selector or {}).get("color")

    def ready_endpoint_pods(self, service: str) -> tuple[str, ...]:
        """Pods behind the Service's ready endpoints (EndpointSlices: what kube-proxy routes to)."""
        try:
            slices = self.discovery.list_namespaced_endpoint_slice(
                self.namespace, label_selector=f"kubernetes.io/service-name={service}"
            ).items
        except self._api_exception as exc:
            if exc.status == 403:
                raise Forbidden(
                    f"this identity may not list endpointslices.discovery.k8s.io in {self.namespace}; "
                    "the orchestrator needs it to verify which pods each Service routes to"
                ) from None
            raise
        pods: set[str] = set()
        for item in slices:
            for endpoint in item.endpoints or []:
                ready = endpoint.conditions.ready if endpoint.conditions else None
                # The API says: nil means unknown, to be treated as ready.
                if ready is not False and endpoint.target_ref is not None and endpoint.target_ref.name:
                    pods.add(endpoint.target_ref.name)
        return tuple(sorted(pods))

    def get_via_pod(self, pod: str, path: str, port: int = 8080, timeout: float = 5.0) -> Answer:
        """GET `path` on the pod's port through a port-forward stream."""
        from kubernetes.stream import portforward

        try:
            forward = portforward(
                self.core.connect_get_namespaced_pod_portforward, pod, self.namespace, ports=str(port)
            )
        except Exception as exc:  # noqa: BLE001 - the client raises ApiException or websocket errors
            if "403" in str(exc) or "Forbidden" in str(exc):
                return Answer(pod, path, None, None, f"{FORBIDDEN} this identity may not use pods/portforward")
            return Answer(pod, path, None, None, f"port-forward failed: {exc}")
        try:
            answer = http_get_over(forward.socket(port), path, pod, timeout)
            error = forward.error(port)
            if answer.error and error:
                return Answer(pod, path, None, None, f"{answer.error}; port-forward: {error}")
            return answer
        finally:
            forward.close()


def _env_value(pod_spec: Any, name: str) -> str | None:
    """A variable of the app container (the one named `app`, else the first that sets it)."""
    found = None
    for container in pod_spec.containers:
        value: str | None = next((e.value for e in container.env or [] if e.name == name), None)
        if container.name == APP_CONTAINER and value is not None:
            return value
        found = found if found is not None else value
    return found


def _pod_state(pod: Any) -> PodState:
    ready = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
    version = _env_value(pod.spec, "APP_VERSION")
    detail, image_id = pod.status.phase or "", ""
    for status in pod.status.container_statuses or []:
        waiting = status.state.waiting if status.state else None
        if waiting and waiting.reason:
            detail = waiting.reason
        if status.name == APP_CONTAINER:
            image_id = status.image_id or ""
    terminating = pod.metadata.deletion_timestamp is not None
    return PodState(pod.metadata.name, ready and not terminating, version, terminating, detail, image_id)
