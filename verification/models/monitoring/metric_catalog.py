"""Every metric the platform's queries may name, by who exposes it.

Alert rules and dashboard panels may only read these. A name outside the catalog is almost
always a typo that silently matches nothing (an alert that never fires, an empty panel).
The app part is the runtime contract (platform/docs/conventions.md); the live loopback test
checks it against the real apps' /metrics.
"""

# platform/docs/conventions.md, "Metrics"
APP = set(
    "http_requests_total http_request_duration_seconds_bucket http_request_duration_seconds_sum "
    "http_request_duration_seconds_count app_info".split()
)
# series Prometheus writes itself for every target and rule
PROMETHEUS = set("up scrape_duration_seconds scrape_samples_scraped ALERTS ALERTS_FOR_STATE".split())
# kube-state-metrics v2 (versions.yaml images.kube-state-metrics)
KUBE_STATE_METRICS = set(
    "kube_pod_container_status_restarts_total kube_pod_status_phase kube_pod_status_ready kube_pod_info "
    "kube_deployment_spec_replicas kube_deployment_status_replicas_available kube_endpoint_address "
    "kube_namespace_status_phase kube_node_status_condition kube_resourcequota".split()
)
# cAdvisor through the kubelet
KUBELET = {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes"}
# argocd-application-controller
ARGOCD = {"argocd_app_info", "argocd_app_sync_total"}

SOURCES: dict[str, set[str]] = {
    "app contract": APP,
    "prometheus": PROMETHEUS,
    "kube-state-metrics": KUBE_STATE_METRICS,
    "kubelet/cAdvisor": KUBELET,
    "argocd": ARGOCD,
}
KNOWN: frozenset[str] = frozenset().union(*SOURCES.values())


def unknown(names: set[str]) -> list[str]:
    """Names outside the catalog, each with its nearest known name when one is close."""
    import difflib

    close = {name: difflib.get_close_matches(name, KNOWN, n=1) for name in sorted(names - KNOWN)}
    return [f"{name} (did you mean {near[0]}?)" if near else name for name, near in close.items()]
