"""Which scrape source each metric the platform reads needs, and whether Prometheus has it.

Every metric a dashboard panel or an alert rule reads belongs to one source of the metric
catalog (verification/models/monitoring/metric_catalog.py). A catalogued name is real, but it only has data
if the platform's Prometheus scrapes its source:

- app contract: the apps' ServiceMonitors, rendered by the charts (checked per render by
  verification/conformance/test_alerts_scrape.py, not here);
- prometheus: written by Prometheus itself, always there;
- kube-state-metrics: a ServiceMonitor selected by the Prometheus resource that selects the
  kube-state-metrics Service;
- kubelet/cAdvisor: a ScrapeConfig selected by the Prometheus resource that discovers Nodes and
  reads https://<node InternalIP>:10250/metrics/cadvisor with the service account token, keeping
  (metric relabelling) every container_* series that is read;
- argocd: a ServiceMonitor of ArgoCD's metrics Services (none yet: KNOWN_GAPS).

The selection rules follow the operator: a missing selector selects nothing, a missing
namespace selector means the Prometheus resource's own namespace.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from verification.models import selectors
from verification.models.monitoring import alerts, dashboards, metric_catalog, promql
from verification.yamlio import iter_kind, source_of

SA_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
KUBELET_PORT = 10250
CADVISOR_PATH = "/metrics/cadvisor"

# Sources read by a dashboard that the platform does not scrape yet, with the reason. Each entry
# must still be a real gap (check_known_gaps), so a fix removes it.
KNOWN_GAPS: dict[str, str] = {
    "argocd": (
        "ArgoCD's metrics Services (8082-8084) have no ServiceMonitor and namespace argocd is outside "
        "serviceMonitorNamespaceSelector; the NetworkPolicies already allow the scrape"
    ),
}


@dataclass(frozen=True)
class Reader:
    """One place that reads a metric: a dashboard panel or an alert rule."""

    where: str
    metric: str


def readers(objects: list[dict[str, Any]]) -> list[Reader]:
    found = []
    for query in dashboards.queries(dashboards.load(objects)):
        found += [Reader(query.where, name) for name in sorted(promql.metric_names(query.expr))]
    for alert in alerts.rule_set(objects).alerts:
        found += [Reader(f"alert {alert.title}", name) for name in sorted(promql.metric_names(alert.expr))]
    return found


def source_of_metric(name: str) -> str | None:
    for source, names in metric_catalog.SOURCES.items():
        if name in names:
            return source
    return None


# --- what the operator selects ------------------------------------------------------------------


def _scrape_class(objects: list[dict[str, Any]], name: str | None) -> dict[str, Any] | None:
    classes = (alerts.prometheus_resource(objects).get("spec") or {}).get("scrapeClasses") or []
    if name:
        return next((c for c in classes if c.get("name") == name), None)
    return next((c for c in classes if c.get("default")), {})


def _keeps(metric_relabelings: list[dict[str, Any]], name: str) -> bool:
    """Whether the metric relabelling lets a series named `name` through (keep/drop on __name__)."""
    for rule in metric_relabelings:
        action = str(rule.get("action", "replace")).lower()
        if rule.get("sourceLabels") != ["__name__"] or action not in ("keep", "drop"):
            continue
        matched = re.fullmatch(rule.get("regex", "(.*)"), name) is not None
        if matched != (action == "keep"):
            return False
    return True


# --- the kubelet cAdvisor scrape -----------------------------------------------------------------


def kubelet_scrape_problems(
    objects: list[dict[str, Any]], scrape_config: dict[str, Any], needed: set[str]
) -> list[str]:
    """What keeps this ScrapeConfig from being a working, authenticated kubelet cAdvisor scrape."""
    spec = scrape_config.get("spec") or {}
    meta = scrape_config["metadata"]
    where = f"{source_of(scrape_config)}: ScrapeConfig {meta.get('namespace')}/{meta['name']}"
    problems = []
    if not any(sd.get("role") == "Node" for sd in spec.get("kubernetesSDConfigs") or []):
        problems.append(f"{where}: no kubernetesSDConfigs with role Node (one target per kubelet)")
    if str(spec.get("scheme", "")).upper() != "HTTPS":
        problems.append(f"{where}: scheme must be HTTPS (the kubelet serves only TLS on {KUBELET_PORT})")
    if spec.get("metricsPath") != CADVISOR_PATH:
        problems.append(f"{where}: metricsPath {spec.get('metricsPath')!r} is not {CADVISOR_PATH}")
    address = [r for r in spec.get("relabelings") or [] if r.get("targetLabel") == "__address__"]
    if not any(
        r.get("sourceLabels") == ["__meta_kubernetes_node_address_InternalIP"]
        and str(r.get("replacement", "")).endswith(f":{KUBELET_PORT}")
        for r in address
    ):
        problems.append(
            f"{where}: no relabelling of __address__ from __meta_kubernetes_node_address_InternalIP "
            f"to port {KUBELET_PORT}"
        )
    scrape_class = _scrape_class(objects, spec.get("scrapeClass"))
    if scrape_class is None:
        problems.append(f"{where}: scrapeClass {spec.get('scrapeClass')!r} is not defined by the Prometheus resource")
        scrape_class = {}
    authorization = spec.get("authorization") or scrape_class.get("authorization") or {}
    if authorization.get("credentialsFile") != SA_TOKEN_FILE and not authorization.get("credentials"):
        problems.append(
            f"{where}: no bearer credentials (own authorization, or scrape class credentialsFile {SA_TOKEN_FILE}): "
            "the kubelet answers 401"
        )
    tls = spec.get("tlsConfig") or scrape_class.get("tlsConfig") or {}
    if not tls.get("insecureSkipVerify") and not (tls.get("caFile") or tls.get("ca")):
        problems.append(
            f"{where}: no tlsConfig: the kubelet's serving certificate is not signed by a CA Prometheus trusts "
            "(give a CA or insecureSkipVerify with the reason)"
        )
    for name in sorted(needed):
        if not _keeps(spec.get("metricRelabelings") or [], name):
            problems.append(f"{where}: metricRelabelings drop {name}, which is read")
    return problems


def _allows_port(rule: dict[str, Any], port: int) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != "TCP" or not isinstance(entry.get("port", port), int):
            continue
        low = entry.get("port", port)
        if low <= port <= entry.get("endPort", low):
            return True
    return False


def kubelet_egress_problems(objects: list[dict[str, Any]], prometheus_labels: dict[str, str]) -> list[str]:
    """Prometheus' NetworkPolicies must let it reach TCP 10250 on node addresses: a rule without
    `to` (any destination) or with an ipBlock, since nodes are no pods a selector could name."""
    namespace = alerts.prometheus_resource(objects)["metadata"].get("namespace")
    policies = [
        p
        for p in iter_kind(objects, "NetworkPolicy")
        if p["metadata"].get("namespace") == namespace
        and selectors.matches((p.get("spec") or {}).get("podSelector") or {}, prometheus_labels)
        and "Egress" in ((p.get("spec") or {}).get("policyTypes") or [])
    ]
    if not policies:
        return []  # no policy restricts Prometheus' egress
    for policy in policies:
        for rule in (policy.get("spec") or {}).get("egress") or []:
            peers = rule.get("to")
            if _allows_port(rule, KUBELET_PORT) and (not peers or any("ipBlock" in peer for peer in peers)):
                return []
    return [
        f"no NetworkPolicy egress rule of the Prometheus pods allows TCP {KUBELET_PORT} to node addresses "
        f"(policies: {', '.join(sorted(p['metadata']['name'] for p in policies))})"
    ]


def kubelet_sources(objects: list[dict[str, Any]], needed: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The selected ScrapeConfigs that scrape cAdvisor correctly, and what is wrong with the others."""
    selected, _ = alerts.operator_selection(
        objects, "ScrapeConfig", "scrapeConfigSelector", "scrapeConfigNamespaceSelector"
    )
    cadvisor = [c for c in selected if (c.get("spec") or {}).get("metricsPath") == CADVISOR_PATH]
    found = [(c, kubelet_scrape_problems(objects, c, needed)) for c in cadvisor]
    return [c for c, problems in found if not problems], [p for _, problems in found for p in problems]


# --- the other sources --------------------------------------------------------------------------


def _service_monitors_selecting(
    objects: list[dict[str, Any]], service_labels: dict[str, str], namespace: str
) -> Iterator[dict[str, Any]]:
    for monitor in alerts.operator_selection(
        objects, "ServiceMonitor", "serviceMonitorSelector", "serviceMonitorNamespaceSelector"
    )[0]:
        spec = monitor.get("spec") or {}
        namespaces = (spec.get("namespaceSelector") or {}).get("matchNames") or [monitor["metadata"].get("namespace")]
        if namespace in namespaces and selectors.matches(spec.get("selector") or {}, service_labels):
            yield monitor


def _service_labels(objects: list[dict[str, Any]], namespace: str, name: str) -> dict[str, str] | None:
    for service in iter_kind(objects, "Service"):
        meta = service["metadata"]
        if meta.get("namespace") == namespace and meta["name"] == name:
            return meta.get("labels") or {}
    return None


def _kube_state_metrics_problems(objects: list[dict[str, Any]], needed: set[str]) -> list[str]:
    labels = _service_labels(objects, "monitoring", "kube-state-metrics")
    if labels is None:
        return ["no Service monitoring/kube-state-metrics"]
    if not any(_service_monitors_selecting(objects, labels, "monitoring")):
        return ["no ServiceMonitor selected by the Prometheus resource selects Service monitoring/kube-state-metrics"]
    return []


def _kubelet_problems(objects: list[dict[str, Any]], needed: set[str]) -> list[str]:
    good, problems = kubelet_sources(objects, needed)
    if good:
        pod_labels = ((alerts.prometheus_resource(objects).get("spec") or {}).get("podMetadata") or {}).get("labels")
        return kubelet_egress_problems(objects, pod_labels or {"app.kubernetes.io/name": "prometheus"})
    return problems or [
        f"no ScrapeConfig selected by the Prometheus resource scrapes the kubelets' {CADVISOR_PATH} "
        "(scrapeConfigSelector / scrapeConfigNamespaceSelector, role Node, HTTPS, port "
        f"{KUBELET_PORT}, service account token)"
    ]


def _argocd_problems(objects: list[dict[str, Any]], needed: set[str]) -> list[str]:
    services = [s for s in iter_kind(objects, "Service") if s["metadata"].get("namespace") == "argocd"]
    # any() of each generator's items: a generator object itself is always truthy
    if any(any(_service_monitors_selecting(objects, s["metadata"].get("labels") or {}, "argocd")) for s in services):
        return []
    return ["no ServiceMonitor selected by the Prometheus resource scrapes ArgoCD's metrics"]


CHECKS = {
    "prometheus": lambda objects, needed: [],
    "app contract": lambda objects, needed: [],  # per chart render: test_alerts_scrape.py
    "kube-state-metrics": _kube_state_metrics_problems,
    "kubelet/cAdvisor": _kubelet_problems,
    "argocd": _argocd_problems,
}


def unscraped(objects: list[dict[str, Any]], found: Iterable[Reader] | None = None) -> dict[str, list[str]]:
    """Source -> problems, for every source some reader needs and Prometheus does not scrape."""
    by_source: dict[str, list[Reader]] = {}
    for reader in readers(objects) if found is None else found:
        source = source_of_metric(reader.metric)
        if source is not None:  # unknown names: dashboards.check and the alert checks report them
            by_source.setdefault(source, []).append(reader)
    result = {}
    for source, users in sorted(by_source.items()):
        problems = CHECKS[source](objects, {r.metric for r in users})
        if problems:
            examples = sorted({f"{r.where} reads {r.metric}" for r in users})
            result[source] = problems + [f"  needed by: {e}" for e in examples]
    return result


def check(objects: list[dict[str, Any]]) -> list[str]:
    """Every source a dashboard or alert reads is scraped, except the documented KNOWN_GAPS."""
    return [
        f"{source}: {problem}"
        for source, problems in unscraped(objects).items()
        if source not in KNOWN_GAPS
        for problem in problems
    ]


def check_known_gaps(objects: list[dict[str, Any]]) -> list[str]:
    """A known gap that is no longer one (scraped, or no longer read) must leave KNOWN_GAPS."""
    gaps = unscraped(objects)
    return [
        f"KNOWN_GAPS names {source!r}, which is scraped or no longer read: remove it from "
        "verification/models/monitoring/scrape_sources.py"
        for source in KNOWN_GAPS
        if source not in gaps
    ]
