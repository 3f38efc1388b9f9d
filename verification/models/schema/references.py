"""Every reference between objects of the rendered platform resolves, and matches.

A *universe* is everything one cluster would hold: the objects under platform/manifests, the chart
renders deployed beside them, what the Prometheus operator creates from its custom resources
(pods and the `*-operated` Services), Kubernetes' own objects (bootstrap ClusterRoles, the
`default` ServiceAccount, built-in namespaces) and the documented external sources of
platform/intent/external-references.yaml. `dangling(universe)` names every reference that points
at nothing, or at something that does not match (a port name the Service lacks, a selector whose
pods lack the named port).
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cached_property
from pathlib import Path
from typing import Any

from verification.errors import UserError
from verification.models import selectors
from verification.models.podsecurity import pod_spec_of
from verification.models.podsecurity.workloads import pod_template_of
from verification.models.rbac.defaults import DEFAULT_OBJECTS
from verification.models.schema import builtin
from verification.paths import INTENT, REPO_ROOT
from verification.yamlio import SOURCE_ANNOTATION, load_list, only_fields, source_of

EXTERNAL_FILE = INTENT / "external-references.yaml"
EXTERNAL_KINDS = ("Secret", "ConfigMap", "ServiceAccount", "Namespace", "Pods")
_EXTERNAL_FIELDS = {"kind", "namespace", "name", "labels", "ports", "why"}
# The platform's own Git repository: Applications pointing here must name a folder that exists.
PLATFORM_REPO = "https://gitlab.example.com/platform/devops-platform.git"
# Pods and Services the Prometheus operator creates for its custom resources (operator v0.82):
# the pods' container ports and the `*-operated` Service's ports (their names differ upstream).
_OPERATED = {
    "Prometheus": ("prometheus", "prometheus-operated", [("web", 9090, "TCP"), ("reloader-web", 8080, "TCP")]),
    "Alertmanager": (
        "alertmanager",
        "alertmanager-operated",
        [("web", 9093, "TCP"), ("tcp-mesh", 9094, "TCP"), ("udp-mesh", 9094, "UDP")],
    ),
}
_OPERATED_CONTAINER_PORTS = {
    "Prometheus": {"web": 9090, "reloader-web": 8080},
    "Alertmanager": {"web": 9093, "mesh-tcp": 9094, "mesh-udp": 9094, "reloader-web": 8080},
}


@dataclass(frozen=True)
class Pods:
    """The pods of one workload (or of an external source): labels and container ports by name."""

    namespace: str
    owner: str
    labels: Mapping[str, str]
    ports: Mapping[str, int] = field(default_factory=dict)
    external: bool = False  # from external-references.yaml, not rendered

    def matches_namespace(self, namespace: str) -> bool:
        return fnmatch(namespace, self.namespace) if "*" in self.namespace else namespace == self.namespace


@dataclass(frozen=True)
class External:
    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: Mapping[str, int]
    why: str


def load_external(path: Path = EXTERNAL_FILE) -> list[External]:
    out = []
    for i, row in enumerate(load_list(path, "external sources")):
        where = f"{path}: entry {i + 1}"
        row = only_fields(row, _EXTERNAL_FIELDS, where)
        if row.get("kind") not in EXTERNAL_KINDS:
            raise UserError(f"{where}: kind must be one of {', '.join(EXTERNAL_KINDS)}, got {row.get('kind')!r}")
        if not str(row.get("why") or "").strip():
            raise UserError(f"{where}: `why` is required (who creates it, and how)")
        is_pods = row["kind"] == "Pods"
        if is_pods and not row.get("labels"):
            raise UserError(f"{where}: Pods need `labels`")
        if not is_pods and not row.get("name"):
            raise UserError(f"{where}: {row['kind']} needs `name`")
        ports = {str(p["name"]): int(p["port"]) for p in row.get("ports") or []}
        labels = {str(k): str(v) for k, v in (row.get("labels") or {}).items()}
        out.append(
            External(row["kind"], str(row.get("namespace", "")), str(row.get("name", "")), labels, ports, row["why"])
        )
    return out


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _where(obj: Mapping[str, Any]) -> str:
    ns, name = _meta(obj)
    return f"{source_of(obj)}: {obj['kind']} {ns + '/' if ns else ''}{name}"


def _container_ports(spec: Mapping[str, Any]) -> dict[str, int]:
    return {
        str(p["name"]): int(p["containerPort"])
        for c in spec.get("containers") or []
        for p in c.get("ports") or []
        if p.get("name")
    }


class Universe:
    """One cluster's worth of objects, indexed for reference lookups."""

    def __init__(self, objects: Iterable[dict[str, Any]], external: list[External]) -> None:
        self.objects = list(objects)
        self.external = external
        everything = [*DEFAULT_OBJECTS, *self.objects, *self._operated_services()]
        self.index: dict[tuple[str, str, str], dict[str, Any]] = {(o["kind"], *_meta(o)): o for o in everything}

    def _operated_services(self) -> Iterator[dict[str, Any]]:
        for obj in self.objects:
            if obj["kind"] in _OPERATED:
                _, service, ports = _OPERATED[obj["kind"]]
                ns, _ = _meta(obj)
                yield {
                    "kind": "Service",
                    "metadata": {"namespace": ns, "name": service, "annotations": {}},
                    "spec": {
                        "selector": {"app.kubernetes.io/name": _OPERATED[obj["kind"]][0]},
                        "ports": [{"name": n, "port": p, "targetPort": p, "protocol": pr} for n, p, pr in ports],
                    },
                }

    @cached_property
    def pods(self) -> list[Pods]:
        out: list[Pods] = []
        for obj in self.objects:
            ns, name = _meta(obj)
            template = pod_template_of(obj)
            if template is not None:
                labels = (template.get("metadata") or {}).get("labels") or {}
                out.append(Pods(ns, f"{obj['kind']} {name}", labels, _container_ports(template.get("spec") or {})))
            elif obj["kind"] in _OPERATED:
                app = _OPERATED[obj["kind"]][0]
                labels = {
                    **((obj.get("spec") or {}).get("podMetadata") or {}).get("labels", {}),
                    "app.kubernetes.io/name": app,
                    "app.kubernetes.io/instance": name,
                    app: name,
                }
                out.append(Pods(ns, f"{obj['kind']} {name} (operator)", labels, _OPERATED_CONTAINER_PORTS[obj["kind"]]))
        for ext in self.external:
            if ext.kind == "Pods":
                out.append(Pods(ext.namespace, f"external ({ext.why})", ext.labels, ext.ports, external=True))
        return out

    @cached_property
    def namespaces(self) -> dict[str, dict[str, str]]:
        """Namespace name -> labels (with the automatic kubernetes.io/metadata.name)."""
        out: dict[str, dict[str, str]] = {e.name: {} for e in self.external if e.kind == "Namespace"}
        for obj in self.objects:
            if obj["kind"] == "Namespace":
                out[_meta(obj)[1]] = dict((obj.get("metadata") or {}).get("labels") or {})
        return {ns: {**labels, "kubernetes.io/metadata.name": ns} for ns, labels in out.items()}

    def exists(self, kind: str, namespace: str, name: str) -> bool:
        if (kind, namespace, name) in self.index or (kind == "ServiceAccount" and name == "default"):
            return True
        return any(e.kind == kind and e.name == name and e.namespace in (namespace, "*") for e in self.external)

    def selected_pods(self, namespace: str, selector: Mapping[str, Any], where: str) -> list[Pods]:
        return [p for p in self.pods if p.matches_namespace(namespace) and selectors.matches(selector, p.labels, where)]

    def namespaces_selected(self, selector: Mapping[str, Any], where: str) -> list[str]:
        return [ns for ns, labels in self.namespaces.items() if selectors.matches(selector, labels, where)]


def _as_selector(selector: Mapping[str, Any] | None) -> dict[str, Any]:
    """Service/PDB selectors: Services carry bare labels, others a LabelSelector."""
    if not selector:
        return {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        return dict(selector)
    return {"matchLabels": dict(selector)}


# --- the checks: each yields readable sentences, one per dangling reference ---------------------


def _each(u: Universe, *kinds: str) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(object, its namespace, its spec) of every object of `kinds`."""
    return ((obj, _meta(obj)[0], obj.get("spec") or {}) for obj in u.objects if obj["kind"] in kinds)


def _service_port(u: Universe, obj: dict[str, Any], ns: str, backend: Mapping[str, Any]) -> Iterator[str]:
    name = backend.get("name")
    service = u.index.get(("Service", ns, str(name)))
    if service is None:
        yield f"{_where(obj)}: routes to Service {ns}/{name}, which nothing creates"
        return
    port = backend.get("port") or {}
    ports = (service.get("spec") or {}).get("ports") or []
    if "name" in port and not any(p.get("name") == port["name"] for p in ports):
        names = [p.get("name") for p in ports]
        yield f"{_where(obj)}: Service {ns}/{name} has no port named {port['name']!r} (it has {names})"
    if "number" in port and not any(p.get("port") == port["number"] for p in ports):
        yield f"{_where(obj)}: Service {ns}/{name} has no port {port['number']} ({[p.get('port') for p in ports]})"


def check_ingresses(u: Universe) -> Iterator[str]:
    for obj, ns, spec in _each(u, "Ingress"):
        backends = [spec.get("defaultBackend") or {}]
        backends += [
            path.get("backend") or {}
            for rule in spec.get("rules") or []
            for path in (rule.get("http") or {}).get("paths") or []
        ]
        for backend in backends:
            if backend.get("service"):
                yield from _service_port(u, obj, ns, backend["service"])
        for tls in spec.get("tls") or []:
            if tls.get("secretName") and not u.exists("Secret", ns, tls["secretName"]):
                yield f"{_where(obj)}: TLS Secret {ns}/{tls['secretName']} is neither created nor external"
        klass = spec.get("ingressClassName")
        if klass and ("IngressClass", "", klass) not in u.index:
            yield f"{_where(obj)}: IngressClass {klass!r} is not created by the platform"


def check_services(u: Universe) -> Iterator[str]:
    for obj, ns, spec in _each(u, "Service"):
        if spec.get("type") == "ExternalName" or not spec.get("selector"):
            continue  # no selector: endpoints are managed by someone else on purpose
        pods = u.selected_pods(ns, _as_selector(spec["selector"]), _where(obj))
        if not pods:
            yield f"{_where(obj)}: selector {spec['selector']} selects the pods of no workload in {ns}"
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort")
            if isinstance(target, str) and not any(target in p.ports for p in pods):
                owners = ", ".join(p.owner for p in pods)
                yield f"{_where(obj)}: targetPort {target!r} is a port name none of its pods declares ({owners})"


def _monitor_namespaces(u: Universe, obj: dict[str, Any]) -> list[str]:
    ns, _ = _meta(obj)
    selector = (obj.get("spec") or {}).get("namespaceSelector") or {}
    if selector.get("any"):
        return list(u.namespaces)
    return list(selector.get("matchNames") or [ns])


def check_monitors(u: Universe) -> Iterator[str]:
    for obj, _, spec in _each(u, "ServiceMonitor", "PodMonitor"):
        namespaces = _monitor_namespaces(u, obj)
        if obj["kind"] == "ServiceMonitor":
            services = [
                s
                for s in [*u.index.values()]
                if s["kind"] == "Service"
                and _meta(s)[0] in namespaces
                and selectors.matches(spec.get("selector") or {}, (s.get("metadata") or {}).get("labels") or {})
            ]
            if not services:
                yield f"{_where(obj)}: selector {spec.get('selector')} matches no Service in {namespaces}"
                continue
            for endpoint in spec.get("endpoints") or []:
                port = endpoint.get("port")
                if port and not any(
                    any(p.get("name") == port for p in (s.get("spec") or {}).get("ports") or []) for s in services
                ):
                    yield f"{_where(obj)}: endpoint port {port!r} is not a port name of the selected Services"
        else:
            pods = [p for ns in namespaces for p in u.selected_pods(ns, spec.get("selector") or {}, _where(obj))]
            if not pods:
                yield f"{_where(obj)}: selector {spec.get('selector')} matches no pods in {namespaces}"
                continue
            for endpoint in spec.get("podMetricsEndpoints") or []:
                port = endpoint.get("port")
                if port and not any(port in p.ports for p in pods):
                    yield f"{_where(obj)}: endpoint port {port!r} is not a container port name of the selected pods"


def check_network_policies(u: Universe) -> Iterator[str]:
    for obj, ns, spec in _each(u, "NetworkPolicy"):
        where = _where(obj)
        selector = spec.get("podSelector") or {}
        if selector and not u.selected_pods(ns, selector, where):
            yield f"{where}: podSelector {selector} selects no pods in {ns}"
        rules = [("from", r) for r in spec.get("ingress") or []] + [("to", r) for r in spec.get("egress") or []]
        for direction, rule in rules:
            for peer in rule.get(direction) or []:
                if "ipBlock" in peer:
                    continue
                if "namespaceSelector" in peer:
                    namespaces = u.namespaces_selected(peer["namespaceSelector"] or {}, where)
                    if not namespaces:
                        yield f"{where}: {direction} namespaceSelector {peer['namespaceSelector']} selects no namespace"
                        continue
                else:
                    namespaces = [ns]
                pod_selector = peer.get("podSelector") or {}
                if pod_selector and not any(u.selected_pods(n, pod_selector, where) for n in namespaces):
                    yield f"{where}: {direction} podSelector {pod_selector} selects no pods in {namespaces}"


def check_rbac(u: Universe) -> Iterator[str]:
    for obj, ns, _ in _each(u, "RoleBinding", "ClusterRoleBinding"):
        ref = obj.get("roleRef") or {}
        role_ns = ns if ref.get("kind") == "Role" else ""
        if not u.exists(str(ref.get("kind")), role_ns, str(ref.get("name"))):
            yield f"{_where(obj)}: roleRef {ref.get('kind')} {ref.get('name')} does not exist"
        for subject in obj.get("subjects") or []:
            if subject.get("kind") != "ServiceAccount":
                continue
            sa_ns = subject.get("namespace") or ns
            if not u.exists("ServiceAccount", sa_ns, str(subject.get("name"))):
                yield f"{_where(obj)}: subject ServiceAccount {sa_ns}/{subject.get('name')} does not exist"
            elif sa_ns not in u.namespaces:
                yield f"{_where(obj)}: subject namespace {sa_ns} does not exist"


def check_disruption_budgets(u: Universe) -> Iterator[str]:
    for obj, ns, spec in _each(u, "PodDisruptionBudget"):
        selector = spec.get("selector") or {}
        if not u.selected_pods(ns, selector, _where(obj)):
            yield f"{_where(obj)}: selector {selector} selects no workload's pods in {ns}"


def check_applications(u: Universe, repo_root: Path = REPO_ROOT) -> Iterator[str]:
    for obj, ns, spec in _each(u, "Application"):
        sources = [spec["source"]] if spec.get("source") else list(spec.get("sources") or [])
        for source in sources:
            if source.get("repoURL") != PLATFORM_REPO or "path" not in source:
                continue
            folder = repo_root / source["path"]
            if not folder.is_dir():
                yield f"{_where(obj)}: source path {source['path']!r} is not a folder of the repository"
                continue
            for values in (source.get("helm") or {}).get("valueFiles") or []:
                if not (folder / values).resolve().is_file():
                    yield f"{_where(obj)}: helm valueFile {values!r} does not exist (relative to {source['path']})"
        project = spec.get("project")
        if project and project != "default" and not u.exists("AppProject", ns, project):
            yield f"{_where(obj)}: project {project!r} is no AppProject in {ns}"


def _pod_references(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(kind, name, how) of every Secret/ConfigMap/ServiceAccount a pod spec needs to start."""
    yield "ServiceAccount", spec.get("serviceAccountName") or "default", "serviceAccountName"
    for secret in spec.get("imagePullSecrets") or []:
        yield "Secret", secret.get("name"), "imagePullSecrets"
    for volume in spec.get("volumes") or []:
        if "secret" in volume and not volume["secret"].get("optional"):
            yield "Secret", volume["secret"].get("secretName"), f"volume {volume.get('name')}"
        if "configMap" in volume and not volume["configMap"].get("optional"):
            yield "ConfigMap", volume["configMap"].get("name"), f"volume {volume.get('name')}"
        for source in (volume.get("projected") or {}).get("sources") or []:
            for kind, key in (("Secret", "secret"), ("ConfigMap", "configMap")):
                if key in source and not source[key].get("optional"):
                    yield kind, source[key].get("name"), f"projected volume {volume.get('name')}"
    for field_ in ("initContainers", "containers"):
        for c in spec.get(field_) or []:
            for env in c.get("env") or []:
                ref = env.get("valueFrom") or {}
                for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                    if key in ref and not ref[key].get("optional"):
                        yield kind, ref[key].get("name"), f"container {c.get('name')} env {env.get('name')}"
            for env_from in c.get("envFrom") or []:
                for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                    if key in env_from and not env_from[key].get("optional"):
                        yield kind, env_from[key].get("name"), f"container {c.get('name')} envFrom"


def _custom_resource_references(obj: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    spec = obj.get("spec") or {}
    if obj["kind"] in _OPERATED:
        yield "ServiceAccount", spec.get("serviceAccountName") or "default", "serviceAccountName"
        for name in spec.get("secrets") or []:
            yield "Secret", name, "spec.secrets"
        for name in spec.get("configMaps") or []:
            yield "ConfigMap", name, "spec.configMaps"
        if spec.get("configSecret"):
            yield "Secret", spec["configSecret"], "spec.configSecret"
        for am in (spec.get("alerting") or {}).get("alertmanagers") or []:
            yield "Service", am.get("name"), "spec.alerting.alertmanagers"


def _object_references(obj: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    spec = pod_spec_of(obj)
    return _pod_references(spec) if spec is not None else _custom_resource_references(obj)


def check_object_references(u: Universe) -> Iterator[str]:
    for obj in u.objects:
        ns, _ = _meta(obj)
        for kind, name, how in _object_references(obj):
            if not u.exists(kind, ns, str(name)):
                yield (
                    f"{_where(obj)}: {how} needs {kind} {ns}/{name}, which is neither created by the platform"
                    f" nor a documented external source ({EXTERNAL_FILE.name})"
                )


def check_intent_workloads(u: Universe, rows: Iterable[Any]) -> list[str]:
    """Every workload row of the intent (netpol.Workload) describes pods that exist: a rendered
    workload whose pods carry the row's labels and declare its named ports, or a documented
    external source whose labels the row carries. Otherwise the truth table proves flows of pods
    that are not there."""
    problems = []
    for row in rows:
        labels = {str(k): str(v) for k, v in row.labels.items()}
        pods = [
            p
            for p in u.pods
            if not p.external and p.matches_namespace(row.namespace) and labels.items() <= dict(p.labels).items()
        ]
        external = [
            e for e in u.external
            if e.kind == "Pods" and fnmatch(row.namespace, e.namespace) and e.labels.items() <= labels.items()
        ]  # fmt: skip
        where = f"{INTENT / 'workloads.yaml'}: {row.namespace}/{row.name}"
        if not pods and not external:
            problems.append(f"{where}: no rendered workload has pods labelled {labels}, and no external source matches")
            continue
        if external and not pods:
            continue  # ports of external pods are theirs to declare
        for port in row.ports:
            if port.name and not any(p.ports.get(port.name) == port.port for p in pods):
                owners = ", ".join(f"{p.owner} {dict(p.ports)}" for p in pods)
                problems.append(f"{where}: port {port.name}={port.port} is no container port of its pods ({owners})")
    return problems


def referenced(u: Universe) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every Secret/ConfigMap/ServiceAccount something in the universe needs."""
    out: set[tuple[str, str, str]] = set()
    for obj in u.objects:
        ns, _ = _meta(obj)
        out |= {(kind, ns, str(name)) for kind, name, _ in _object_references(obj)}
        if obj["kind"] == "Ingress":
            out |= {
                ("Secret", ns, t["secretName"]) for t in (obj.get("spec") or {}).get("tls") or [] if t.get("secretName")
            }
    return out


CHECKS = {
    "ingress": check_ingresses,
    "service": check_services,
    "monitor": check_monitors,
    "networkpolicy": check_network_policies,
    "rbac": check_rbac,
    "pdb": check_disruption_budgets,
    "application": check_applications,
    "object": check_object_references,
}


def dangling(u: Universe) -> list[str]:
    return [problem for check in CHECKS.values() for problem in check(u)]


def with_namespace(objects: Iterable[dict[str, Any]], namespace: str, origin: str = "") -> list[dict[str, Any]]:
    """Chart renders leave namespaced objects without metadata.namespace (helm installs them there)
    and without a source file: set both, so findings name the release (`origin`)."""
    out = []
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        if not builtin.cluster_scoped(obj) and not meta.get("namespace"):
            meta["namespace"] = namespace
        if origin:
            meta["annotations"] = {SOURCE_ANNOTATION: origin, **(meta.get("annotations") or {})}
        out.append({**obj, "metadata": meta})
    return out


def render_objects(render: Any) -> list[dict[str, Any]]:
    """The objects of one chart render (verification.models.delivery.chart.Render) as installed."""
    return with_namespace(render.objects, render.namespace, f"helm template {render.app} ({render.env})")
