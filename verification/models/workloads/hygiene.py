"""Workload hygiene: what the manifest linters check (kube-linter, kube-score, Polaris, checkov),
as one model over the rendered platform (platform/docs/linter-coverage.md maps each of their
checks here or to another conformance test, or says why it does not apply).

Every check takes the whole set of objects of one cluster (so a PDB can be matched to its
workload) and yields `Finding(check, object id, sentence)`; deliberate exceptions live in
platform/intent/linter-exemptions.yaml with a reason, and an exemption that exempts nothing is
itself a finding (so fixing the platform removes it).
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from verification.errors import UserError
from verification.models import selectors
from verification.models.podsecurity.workloads import pod_template_of
from verification.paths import INTENT
from verification.yamlio import load_list, only_fields, source_of

EXEMPTIONS_FILE = INTENT / "linter-exemptions.yaml"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
# Built-in API groups whose objects the platform may use; anything alpha/beta there is deprecated
# or not served by the pinned Kubernetes (custom resources keep their own versions).
BUILTIN_GROUPS = {
    "", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "storage.k8s.io", "scheduling.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "extensions",
}  # fmt: skip
FORBIDDEN_IMAGES = ("tiller", "kubernetes-dashboard", "kubernetesui/dashboard", "git-sync")
SENSITIVE_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.IGNORECASE)
SENSITIVE_LINE = re.compile(r"^\s*([\w.-]*(?:password|passwd|secret|token))\s*[:=]\s*(\S.*)$", re.IGNORECASE)
PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$")  # IANA_SVC_NAME, <= 15 characters
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
HIGH_RISK_CAPABILITIES = {"SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_MODULE", "ALL"}


@dataclass(frozen=True)
class Finding:
    check: str
    obj: str  # NS/KIND/NAME
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


@dataclass(frozen=True)
class Exemption:
    check: str
    patterns: tuple[str, ...]
    why: str


def load_exemptions(path: Path = EXEMPTIONS_FILE) -> list[Exemption]:
    out = []
    for i, row in enumerate(load_list(path, "exemptions")):
        where = f"{path}: entry {i + 1}"
        row = only_fields(row, ("check", "objects", "why"), where)
        if row.get("check") not in CHECKS:
            raise UserError(f"{where}: unknown check {row.get('check')!r} (known: {', '.join(sorted(CHECKS))})")
        if not str(row.get("why") or "").strip() or not row.get("objects"):
            raise UserError(f"{where}: `objects` and `why` are required")
        out.append(Exemption(row["check"], tuple(str(p) for p in row["objects"]), str(row["why"])))
    return out


# --- the objects' views --------------------------------------------------------------------------


def _id(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{obj['kind']}/{meta.get('name', '')}"


def _where(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{source_of(obj)}: {obj['kind']} {meta.get('namespace', '')}/{meta.get('name')}"


def _template(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_template_of(obj) or {}


def _workloads(objects: Iterable[dict[str, Any]], kinds: tuple[str, ...] = WORKLOAD_KINDS) -> Iterator[dict[str, Any]]:
    return (o for o in objects if o.get("kind") in kinds)


def _containers(pod: dict[str, Any], init: bool = True) -> Iterator[dict[str, Any]]:
    yield from pod.get("containers") or []
    if init:
        yield from pod.get("initContainers") or []


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    return _template(obj).get("spec") or {}


def _pod_containers(
    objects: Iterable[dict[str, Any]], kinds: tuple[str, ...] = WORKLOAD_KINDS, init: bool = True
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, container) for every container of the workloads of `kinds`."""
    return ((obj, c) for obj in _workloads(objects, kinds) for c in _containers(_pod(obj), init))


def _finding(check: str, obj: dict[str, Any], text: str, container: dict[str, Any] | None = None) -> Finding:
    where = _where(obj) if container is None else f"{_where(obj)} container {container.get('name')}"
    return Finding(check, _id(obj), f"{where}: {text}")


# --- checks --------------------------------------------------------------------------------------

Check = Callable[[list[dict[str, Any]]], Iterator[Finding]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


def _probe_handler(probe: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted((k, repr(v)) for k, v in (probe or {}).items() if k in ("httpGet", "tcpSocket", "exec", "grpc"))
    )


@check("probes")
def probes(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Readiness and liveness on every long-running container, different handlers, declared ports."""
    for obj, c in _pod_containers(objects, LONG_RUNNING, init=False):
        ready, live = c.get("readinessProbe"), c.get("livenessProbe")
        if not ready:
            yield _finding("probes", obj, "no readinessProbe (traffic before it can serve)", c)
        if not live:
            yield _finding("probes", obj, "no livenessProbe (a hung process is never restarted)", c)
        if ready and live and _probe_handler(ready) == _probe_handler(live):
            yield _finding("probes", obj, "readinessProbe and livenessProbe use the same check: an overload that "
                           "fails readiness also restarts the pod (liveness should test less)", c)  # fmt: skip
        if ready and int(ready.get("failureThreshold", 3)) < 2:
            yield _finding("probes", obj, "readinessProbe failureThreshold 1: one slow answer takes the pod out of "
                           "its Services, and a colour down to one pod during a drain serves nothing", c)  # fmt: skip
        names = {p.get(key) for p in c.get("ports") or [] for key in ("name", "containerPort")}
        for kind, probe in (("readiness", ready), ("liveness", live), ("startup", c.get("startupProbe"))):
            for handler in ("httpGet", "tcpSocket", "grpc"):
                port = ((probe or {}).get(handler) or {}).get("port")
                if port is not None and port not in names:
                    yield _finding("probes", obj, f"{kind}Probe port {port!r} is not a container port", c)


@check("resources")
def resources(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """CPU and memory requests and limits on every container (and init container): the quotas'
    figures are computed from them (models/workloads/capacity.py), and a LimitRange default would
    size the app by a namespace-wide guess instead. A key without a value states nothing."""
    for obj, c in _pod_containers(objects):
        res = c.get("resources") or {}
        missing = [
            f"{k}.{r}" for k in ("requests", "limits") for r in ("cpu", "memory") if (res.get(k) or {}).get(r) is None
        ]
        if missing:
            yield _finding("resources", obj, f"no {', '.join(missing)}", c)


def _images(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(object, container name, image) of every workload container and Prometheus/Alertmanager."""
    for obj in _workloads(objects, (*WORKLOAD_KINDS, "Prometheus", "Alertmanager")):
        for c in _containers(_pod(obj)):
            yield obj, str(c.get("name")), str(c.get("image", ""))
        spec = obj.get("spec") or {}
        if obj["kind"] in ("Prometheus", "Alertmanager") and spec.get("image"):
            yield obj, obj["kind"].lower(), str(spec["image"])


@check("image-tag")
def image_tag(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """An explicit tag that is not `latest` (or a digest)."""
    for obj, name, image in _images(objects):
        tail = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and (":" not in tail or tail.endswith(":latest")):
            yield _finding("image-tag", obj, f"image {image!r} has no fixed tag", {"name": name})
        if any(f in image for f in FORBIDDEN_IMAGES):
            yield _finding("image-tag", obj, f"image {image!r} is a known-dangerous component")


@check("image-digest")
def image_digest(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Images by digest (a tag can be moved; a digest cannot)."""
    for obj, name, image in _images(objects):
        if "@sha256:" not in image:
            yield _finding("image-digest", obj, f"image {image!r} by tag, not digest", {"name": name})


@check("host-namespaces")
def host_namespaces(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """No host network, PID, IPC, ports or paths (also Pod Security baseline; here for every namespace)."""
    for obj in _workloads(objects):
        pod = _pod(obj)
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(key):
                yield _finding("host-namespaces", obj, f"{key}: true shares the node's namespace")
        for volume in pod.get("volumes") or []:
            if "hostPath" in volume:
                yield _finding("host-namespaces", obj, f"hostPath volume {volume.get('name')}")
        for port in (p for c in _containers(pod) for p in c.get("ports") or []):
            if port.get("hostPort"):
                yield _finding("host-namespaces", obj, f"hostPort {port['hostPort']}")


def _bound_subjects(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (s.get("namespace") or o["metadata"].get("namespace", ""), s.get("name"))
        for o in objects
        if o["kind"] in ("RoleBinding", "ClusterRoleBinding")
        for s in o.get("subjects") or []
        if s.get("kind") == "ServiceAccount"
    }


@check("service-account-token")
def service_account_token(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """A named service account; its token mounted only when the identity is bound to some role."""
    accounts = {
        (o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in objects if o["kind"] == "ServiceAccount"
    }
    bound = _bound_subjects(objects)
    for obj in _workloads(objects):
        pod, ns = _pod(obj), obj["metadata"].get("namespace", "")
        name = pod.get("serviceAccountName") or pod.get("serviceAccount") or "default"
        if pod.get("serviceAccount") and not pod.get("serviceAccountName"):
            yield _finding("service-account-token", obj, "deprecated field serviceAccount")
        if name == "default":
            yield _finding("service-account-token", obj, "runs as the namespace's default service account")
        sa = accounts.get((ns, name)) or {}
        mounted = pod.get("automountServiceAccountToken", sa.get("automountServiceAccountToken", True))
        if mounted and (ns, name) not in bound:
            yield _finding("service-account-token", obj, f"mounts the token of {ns}/{name}, which no binding "
                           "grants anything: set automountServiceAccountToken: false")  # fmt: skip


@check("security-context")
def security_context(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Every namespace, not only restricted ones: non-root, RuntimeDefault seccomp, no escalation, drop ALL."""
    for obj, c in _pod_containers(objects):
        psc, csc = _pod(obj).get("securityContext") or {}, c.get("securityContext") or {}
        seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        failed = {  # sentence -> whether this container fails it
            "runAsNonRoot is not true": not csc.get("runAsNonRoot", psc.get("runAsNonRoot")),
            "runs as UID 0": csc.get("runAsUser", psc.get("runAsUser")) == 0,
            "no RuntimeDefault seccomp profile": seccomp not in ("RuntimeDefault", "Localhost"),
            "privileged": csc.get("privileged"),
            "capabilities not dropped (drop: [ALL])": "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []),
            f"procMount {csc.get('procMount')}": csc.get("procMount") not in (None, "Default"),
        }
        yield from (_finding("security-context", obj, sentence, c) for sentence, bad in failed.items() if bad)


@check("privilege-escalation")
def privilege_escalation(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    for obj, c in _pod_containers(objects):
        if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
            yield _finding("privilege-escalation", obj, "allowPrivilegeEscalation is not false", c)


@check("capabilities-added")
def capabilities_added(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    for obj, c in _pod_containers(objects):
        added = ((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
        if added:
            risky = sorted(set(added) & HIGH_RISK_CAPABILITIES)
            note = f" (high risk: {', '.join(risky)})" if risky else ""
            yield _finding("capabilities-added", obj, f"adds {added}{note}", c)


@check("read-only-root-filesystem")
def read_only_root_filesystem(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    for obj, c in _pod_containers(objects):
        if not (c.get("securityContext") or {}).get("readOnlyRootFilesystem"):
            yield _finding("read-only-root-filesystem", obj, "root filesystem writable", c)


@check("privileged-port")
def privileged_port(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """No container port below 1024 (needs a capability) and no SSH port."""
    for obj, c in _pod_containers(objects):
        for number in (int(port.get("containerPort", 0)) for port in c.get("ports") or []):
            if number < 1024:
                yield _finding("privileged-port", obj, f"port {number}", c)


def _selected_by(selector: dict[str, Any], obj: dict[str, Any]) -> bool:
    labels = (_template(obj).get("metadata") or {}).get("labels") or {}
    return bool(selector) and selectors.matches(selector, labels)


def _replicas(obj: dict[str, Any]) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1))


@check("disruption-budget")
def disruption_budget(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Replicated workloads have a PDB that allows a disruption and evicts unhealthy pods."""
    pdbs = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for pdb in pdbs:
        spec = pdb.get("spec") or {}
        if "minAvailable" not in spec and "maxUnavailable" not in spec:
            yield _finding("disruption-budget", pdb, "neither minAvailable nor maxUnavailable")
        if str(spec.get("maxUnavailable", "1")) in ("0", "0%"):
            yield _finding("disruption-budget", pdb, "maxUnavailable 0 blocks every node drain")
        if spec.get("unhealthyPodEvictionPolicy") != "AlwaysAllow":
            yield _finding("disruption-budget", pdb, "unhealthyPodEvictionPolicy is not AlwaysAllow: a crash-looping "
                           "pod blocks every drain")  # fmt: skip
    for obj in _workloads(objects, ("Deployment", "StatefulSet")):
        ns = obj["metadata"].get("namespace")
        mine = [
            p
            for p in pdbs
            if p["metadata"].get("namespace") == ns and _selected_by((p.get("spec") or {}).get("selector") or {}, obj)
        ]
        if _replicas(obj) > 1 and not mine:
            yield _finding("disruption-budget", obj, f"{_replicas(obj)} replicas and no PodDisruptionBudget")
        for pdb in mine:
            min_available = (pdb.get("spec") or {}).get("minAvailable")
            if isinstance(min_available, int) and min_available >= _replicas(obj):
                text = f"minAvailable {min_available} >= {_replicas(obj)} replicas of {obj['metadata']['name']}"
                yield _finding("disruption-budget", pdb, f"{text}: no pod may ever be evicted")


@check("spread")
def spread(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Replicas spread over nodes: topologySpreadConstraints on hostname, or pod anti-affinity."""
    for obj in _workloads(objects, ("Deployment", "StatefulSet")):
        if _replicas(obj) < 2:
            continue
        pod = _pod(obj)
        keys = {t.get("topologyKey") for t in pod.get("topologySpreadConstraints") or []}
        anti = (pod.get("affinity") or {}).get("podAntiAffinity") or {}
        preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        terms = [*(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or [])]
        terms += [t.get("podAffinityTerm") or {} for t in preferred]
        keys |= {t.get("topologyKey") for t in terms}
        if "kubernetes.io/hostname" not in keys:
            yield _finding("spread", obj, f"{_replicas(obj)} replicas may all land on one node "
                           "(no topologySpreadConstraints or podAntiAffinity on kubernetes.io/hostname)")  # fmt: skip


@check("single-replica")
def single_replica(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    for obj in _workloads(objects, ("Deployment", "StatefulSet")):
        if _replicas(obj) < 2:
            yield _finding("single-replica", obj, "one replica: unavailable during every rollout or drain")


@check("rolling-update")
def rolling_update(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    for obj in _workloads(objects, ("Deployment",)):
        strategy = ((obj.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate")
        if strategy != "RollingUpdate":
            yield _finding("rolling-update", obj, f"strategy {strategy}: downtime on every rollout")


@check("selectors")
def selectors_match(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """The workload's selector selects its own pod template; StatefulSets name an existing Service."""
    services = {(o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects if o["kind"] == "Service"}
    for obj in _workloads(objects, ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")):
        if not _selected_by((obj.get("spec") or {}).get("selector") or {}, obj):
            yield _finding("selectors", obj, "spec.selector does not select its own pod template")
        if obj["kind"] == "StatefulSet":
            name = (obj.get("spec") or {}).get("serviceName")
            service = services.get((obj["metadata"].get("namespace"), name))
            if service is None or (service.get("spec") or {}).get("clusterIP") != "None":
                yield _finding("selectors", obj, f"serviceName {name!r} is no headless Service")


@check("env")
def env(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """No duplicate variable; no credential as a literal value."""
    for obj, c in _pod_containers(objects):
        names = [e.get("name") for e in c.get("env") or []]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            yield _finding("env", obj, f"env {dup} set twice", c)
        for e in c.get("env") or []:
            if "value" in e and SENSITIVE_NAME.search(str(e.get("name"))) and str(e["value"]).strip():
                yield _finding("env", obj, f"credential {e['name']} as a literal value", c)


@check("secret-in-env")
def secret_in_env(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Secrets as files, not environment variables (env leaks into crash dumps and child processes)."""
    for obj, c in _pod_containers(objects):
        refs = [e["name"] for e in c.get("env") or [] if "secretKeyRef" in (e.get("valueFrom") or {})]
        refs += [f"envFrom {e['secretRef'].get('name')}" for e in c.get("envFrom") or [] if "secretRef" in e]
        if refs:
            yield _finding("secret-in-env", obj, f"Secret in env {refs}", c)


@check("config-content")
def config_content(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """No credential in a ConfigMap (a reference such as $__file{...} or $VAR is fine)."""
    for obj in (o for o in objects if o["kind"] == "ConfigMap"):
        for key, text in (obj.get("data") or {}).items():
            for line in str(text).splitlines():
                m = SENSITIVE_LINE.match(line)
                value = m.group(2).strip() if m else ""
                if m and not value.strip("'\"").startswith(("$", "{{")) and value not in ('""', "''"):
                    yield Finding(
                        "config-content", _id(obj), f"{_where(obj)} {key}: {m.group(1)} looks like a credential"
                    )


@check("names")
def names(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Port names valid and unique (a named targetPort must resolve); label values valid."""
    for obj in objects:
        for key, value in ((obj.get("metadata") or {}).get("labels") or {}).items():
            if len(str(value)) > 63 or not LABEL_VALUE.match(str(value)):
                yield _finding("names", obj, f"label {key}={value!r} is not a valid label value")
        ports: list[str] = []
        if obj.get("kind") in WORKLOAD_KINDS:
            ports = [p.get("name") for c in _containers(_pod(obj)) for p in c.get("ports") or [] if p.get("name")]
        elif obj.get("kind") == "Service":
            ports = [
                p["targetPort"]
                for p in (obj.get("spec") or {}).get("ports") or []
                if isinstance(p.get("targetPort"), str)
            ]
        for port in ports:
            if len(port) > 15 or not PORT_NAME.match(port):
                yield _finding("names", obj, f"port name {port!r} is not an IANA service name")
        if obj.get("kind") in WORKLOAD_KINDS and len(ports) != len(set(ports)):
            yield _finding("names", obj, f"duplicate container port names {ports}")


@check("ephemeral-storage")
def ephemeral_storage(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Writable scratch space is bounded: every emptyDir has a sizeLimit (roots are read-only)."""
    for obj in _workloads(objects):
        for volume in _pod(obj).get("volumes") or []:
            if "emptyDir" in volume and not (volume["emptyDir"] or {}).get("sizeLimit"):
                yield _finding("ephemeral-storage", obj, f"emptyDir {volume.get('name')} has no sizeLimit")


# Kinds the checks and platform/docs/linter-coverage.md cover; a new kind (HPA, Job, CronJob, ...)
# fails test_only_covered_kinds until its linter checks are mapped.
COVERED_KINDS = {
    "Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "Role", "RoleBinding", "ClusterRole",
    "ClusterRoleBinding", "NetworkPolicy", "ConfigMap", "Secret", "Service", "Ingress", "IngressClass",
    "Deployment", "StatefulSet", "PodDisruptionBudget", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "Prometheus", "Alertmanager",
    "ServiceMonitor", "PodMonitor", "PrometheusRule", "ScrapeConfig", "Application", "AppProject",
}  # fmt: skip


def uncovered_kinds(objects: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({f"{o['kind']} ({source_of(o)})" for o in objects if o.get("kind") not in COVERED_KINDS})


@check("api-versions")
def api_versions(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Built-in kinds only in GA versions: alpha/beta ones are deprecated or not served by the pinned Kubernetes."""
    for obj in objects:
        group, _, version = str(obj.get("apiVersion")).rpartition("/")
        if group in BUILTIN_GROUPS and ("alpha" in version or "beta" in version):
            yield _finding("api-versions", obj, f"apiVersion {obj['apiVersion']} is deprecated")


@check("namespaces")
def namespaces(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Nothing in `default` (it has no quota, no policies, no Pod Security labels of the platform)."""
    for obj in objects:
        if (obj.get("metadata") or {}).get("namespace") == "default":
            yield _finding("namespaces", obj, "in namespace default")


@check("ingress")
def ingress(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Every Ingress host has TLS; no nginx configuration snippets (CVE-2021-25742)."""
    for obj in (o for o in objects if o["kind"] == "Ingress"):
        spec = obj.get("spec") or {}
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        for rule in spec.get("rules") or []:
            if rule.get("host") not in tls_hosts:
                yield _finding("ingress", obj, f"host {rule.get('host')!r} served without TLS")
        for key in obj["metadata"].get("annotations") or {}:
            if key.endswith("-snippet") or key.endswith("snippets"):
                yield _finding("ingress", obj, f"annotation {key} injects nginx configuration")
    for obj in (o for o in objects if o["kind"] == "ConfigMap"):
        if str((obj.get("data") or {}).get("allow-snippet-annotations", "false")).lower() == "true":
            yield _finding("ingress", obj, "allow-snippet-annotations is true")


@check("network-isolation")
def network_isolation(objects: list[dict[str, Any]]) -> Iterator[Finding]:
    """Every workload's pods are selected by a NetworkPolicy for ingress and for egress."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    for obj in _workloads(objects):
        ns = obj["metadata"].get("namespace")
        labels = (_template(obj).get("metadata") or {}).get("labels") or {}
        for direction in ("Ingress", "Egress"):
            if not any(
                p["metadata"].get("namespace") == ns
                and direction in ((p.get("spec") or {}).get("policyTypes") or ["Ingress"])
                and selectors.matches((p.get("spec") or {}).get("podSelector") or {}, labels)
                for p in policies
            ):
                yield _finding("network-isolation", obj, f"no NetworkPolicy isolates its {direction.lower()}")


# --- evaluation ----------------------------------------------------------------------------------


def findings(objects: list[dict[str, Any]], only: Iterable[str] | None = None) -> list[Finding]:
    names_ = list(only) if only is not None else list(CHECKS)
    return [f for name in names_ for f in CHECKS[name](objects)]


def exempt(found: Iterable[Finding], exemptions: list[Exemption]) -> tuple[list[Finding], set[tuple[int, str]]]:
    """(findings no exemption covers, the (exemption index, pattern) pairs that covered something)."""
    left, used = [], set()
    for finding in found:
        hits = [(i, p) for i, e in enumerate(exemptions) if e.check == finding.check for p in e.patterns
                if fnmatch(finding.obj, p)]  # fmt: skip
        used |= set(hits)
        if not hits:
            left.append(finding)
    return left, used


def stale(exemptions: list[Exemption], used: set[tuple[int, str]], path: Path = EXEMPTIONS_FILE) -> list[str]:
    return [
        f"{path}: exemption {e.check} for {p!r} exempts nothing any more: remove it"
        for i, e in enumerate(exemptions)
        for p in e.patterns
        if (i, p) not in used
    ]
