"""Effective permissions: what an identity reaches, directly or through what it may cause to exist.

RBAC answers "may X get secrets?"; an identity that may create a Deployment reaches every Secret
of the namespace anyway (a volume, an env var, then the pod log), runs as any ServiceAccount there
(with a token, whatever the ServiceAccount's automountServiceAccountToken says, since the pod spec
overrides it), and so on (Kubernetes' RBAC good practices, "Workload creation"). This model
computes, for every identity in scope, the closure of what it reaches with the path that reaches
it:

- pod-producing objects (Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
  ReplicationController; create, update or patch): every vector of `workload_vectors` is tried as
  an admission request against the platform's ValidatingAdmissionPolicies (cel_admission); an
  admitted vector reaches what it references, a denied one is recorded as closed, with the message;
- pods/exec, attach, portforward, ephemeralcontainers: the identities and Secrets of running pods;
- serviceaccounts/token create: the namespace's ServiceAccount tokens; get/list/watch secrets:
  Secrets; bind/escalate, impersonate, CSR create+approve, nodes/proxy: their own prohibitions;
- credentials an operator reads on the identity's behalf: ServiceMonitor/PodMonitor/Probe/
  ScrapeConfig secret references and AlertmanagerConfig receivers reach the namespace's Secrets
  when the operator may read Secrets there (the operator is who reads them);
- ArgoCD Applications: whoever may create one reaches what each AppProject destination's
  ServiceAccount reaches;
- a reached ServiceAccount token adds that ServiceAccount's own reach (fixpoint).

Every reach has an equivalent RBAC request (reading a Secret by any path is `get secrets`), so the
intent's `prohibited` entries and exemptions apply to effective permissions unchanged.
"""

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from verification.models.admission.cel import AdmissionRequest, PolicySet, server_defaults
from verification.models.rbac.authorizer import Authorizer, Request, impersonated_groups, service_account_user
from verification.models.rbac.checks import identities_in_scope, namespaces_in_scope
from verification.models.rbac.intent import Identity, PermissionsIntent
from verification.yamlio import iter_kind

# (group, version, resource, kind): the objects whose creation makes pods run
POD_PRODUCERS = (
    ("", "v1", "pods", "Pod"),
    ("apps", "v1", "deployments", "Deployment"),
    ("apps", "v1", "replicasets", "ReplicaSet"),
    ("apps", "v1", "statefulsets", "StatefulSet"),
    ("apps", "v1", "daemonsets", "DaemonSet"),
    ("batch", "v1", "jobs", "Job"),
    ("batch", "v1", "cronjobs", "CronJob"),
    ("", "v1", "replicationcontrollers", "ReplicationController"),
)
WRITE_OPERATIONS = {"create": "CREATE", "update": "UPDATE", "patch": "UPDATE"}
MONITORING_GROUP = "monitoring.coreos.com"
# Kinds whose secret references prometheus-operator resolves and hands to Prometheus/Alertmanager.
OPERATOR_READ_KINDS = ("servicemonitors", "podmonitors", "probes", "scrapeconfigs", "alertmanagerconfigs")
OPERATOR_DEPLOYMENT = "prometheus-operator"
POD_SUBRESOURCES = (
    ("exec", "create"),
    ("attach", "create"),
    ("portforward", "create"),
    ("ephemeralcontainers", "patch"),
)


# --- what is reached ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """One thing an identity reaches in a namespace, and how."""

    what: str  # "Secrets", "token of ServiceAccount test/x", "running pods' identities", ...
    namespace: str  # "" cluster-wide
    path: str
    equivalent: Request  # the RBAC request this reach amounts to (user and groups filled)
    closed_by: str = ""  # the admission denial that stops this vector ("" = open)

    @property
    def open(self) -> bool:
        return not self.closed_by


def _token(identity: Identity, namespace: str, account: str, path: str, closed: str = "") -> Reach:
    equivalent = Request(identity.user, identity.groups, "create", "serviceaccounts", "token", "", namespace, account)
    return Reach(f"token of ServiceAccount {namespace}/{account}", namespace, path, equivalent, closed)


def _running_pods(identity: Identity, namespace: str, path: str) -> Reach:
    equivalent = Request(identity.user, identity.groups, "create", "pods", "exec", "", namespace)
    return Reach("running pods' identities and Secrets", namespace, path, equivalent)


def _read(identity: Identity, namespace: str, path: str, closed: str = "", what: str = "Secrets") -> Reach:
    """Reaching `what` (Secrets, ConfigMaps, PersistentVolumeClaims) amounts to `get` them."""
    equivalent = Request(identity.user, identity.groups, "get", what.lower(), namespace=namespace)
    return Reach(what, namespace, path, equivalent, closed)


# --- the vector catalog (shared with e2e) ---------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    """One change to an allowed pod template that would reach something."""

    name: str
    field: str  # the pod spec field it sets, relative to the pod spec
    reaches: str  # "secret" | "token:ACCOUNT" | "configmap" | "pvc"

    def apply(self, spec: dict[str, Any]) -> None:
        _VECTOR_EDITS[self.name](spec, self)


SECRET_NAME = "effective-probe-secret"
_SECRET_ENV = {"name": "PROBE", "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": "k"}}}


def _container_env(spec: dict[str, Any], env: dict[str, Any], where: str = "containers") -> None:
    containers = spec.setdefault(where, [])
    if not containers:
        # The app container's securityContext and resources too: otherwise Pod Security (restricted)
        # or the quota refuses the pod first, and a live run cannot show that the policy refuses it.
        app = spec["containers"][0]
        init = {"name": "init", "image": app["image"]}
        init.update({k: copy.deepcopy(app[k]) for k in ("securityContext", "resources") if k in app})
        containers.append(init)
    containers[0].setdefault("env", []).append(copy.deepcopy(env))


def _volume(spec: dict[str, Any], volume: dict[str, Any]) -> None:
    spec.setdefault("volumes", []).append({"name": "effective-probe", **volume})


# Each edit's result is ignored (some lambdas return what setdefault/pop/update return).
_VECTOR_EDITS: dict[str, Callable[[dict[str, Any], Vector], object]] = {
    "secret volume": lambda s, v: _volume(s, {"secret": {"secretName": SECRET_NAME}}),
    "secret env": lambda s, v: _container_env(s, _SECRET_ENV),
    "secret env (init container)": lambda s, v: _container_env(s, _SECRET_ENV, "initContainers"),
    "secret envFrom": lambda s, v: (
        s["containers"][0].setdefault("envFrom", []).append({"secretRef": {"name": SECRET_NAME}})
    ),
    "projected secret": lambda s, v: _volume(s, {"projected": {"sources": [{"secret": {"name": SECRET_NAME}}]}}),
    "imagePullSecrets": lambda s, v: s.setdefault("imagePullSecrets", []).append({"name": SECRET_NAME}),
    "CSI nodePublishSecretRef": lambda s, v: _volume(
        s, {"csi": {"driver": "secrets-store.csi.k8s.io", "nodePublishSecretRef": {"name": SECRET_NAME}}}
    ),
    "projected token": lambda s, v: _volume(
        s, {"projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}
    ),
    "automount token": lambda s, v: s.update(automountServiceAccountToken=True),
    "other account": lambda s, v: s.update(
        serviceAccountName=v.reaches.split(":", 1)[1], automountServiceAccountToken=True
    ),
    "deprecated serviceAccount": lambda s, v: (
        s.pop("serviceAccountName", None),
        s.update(serviceAccount=v.reaches.split(":", 1)[1], automountServiceAccountToken=True),
    ),
    "no serviceAccountName": lambda s, v: (s.pop("serviceAccountName", None), s.pop("serviceAccount", None)),
}


def workload_vectors(runtime_account: str, accounts: Iterable[str]) -> list[Vector]:
    """Every way a pod template can reach a Secret or a token, starting from an allowed template of
    `runtime_account`; `accounts` are the namespace's other ServiceAccounts."""
    vectors = [
        Vector("secret volume", "volumes[].secret.secretName", "secret"),
        Vector("secret env", "containers[].env[].valueFrom.secretKeyRef", "secret"),
        Vector("secret env (init container)", "initContainers[].env[].valueFrom.secretKeyRef", "secret"),
        Vector("secret envFrom", "containers[].envFrom[].secretRef", "secret"),
        Vector("projected secret", "volumes[].projected.sources[].secret", "secret"),
        Vector("imagePullSecrets", "imagePullSecrets[]", "secret"),
        Vector("CSI nodePublishSecretRef", "volumes[].csi.nodePublishSecretRef", "secret"),
        Vector("projected token", "volumes[].projected.sources[].serviceAccountToken", f"token:{runtime_account}"),
        Vector("automount token", "automountServiceAccountToken", f"token:{runtime_account}"),
        Vector("no serviceAccountName", "serviceAccountName", "token:default"),
    ]
    for account in sorted(set(accounts) - {runtime_account}):
        vectors.append(Vector("other account", "serviceAccountName", f"token:{account}"))
        vectors.append(Vector("deprecated serviceAccount", "serviceAccount", f"token:{account}"))
    return vectors


def allowed_pod_template(namespace: str, account: str, app: str = "") -> dict[str, Any]:
    """The least a runtime pod template is: the app's account, no token, one hardened container."""
    app = app or account
    return {
        "metadata": {"labels": {"app.kubernetes.io/name": app, "effective-probe": "true"}},
        "spec": {
            "serviceAccountName": account,
            "automountServiceAccountToken": False,
            "containers": [{"name": "app", "image": f"registry.invalid/{app}:probe"}],
        },
    }


def workload_object(kind: str, namespace: str, name: str, template: dict[str, Any]) -> dict[str, Any]:
    """A `kind` object running `template` (a pod template: metadata + spec)."""
    group_version = next(f"{g}/{v}" if g else v for g, v, _, k in POD_PRODUCERS if k == kind)
    metadata = {"name": name, "namespace": namespace, "labels": dict(template["metadata"]["labels"])}
    template = copy.deepcopy(template)
    labels = template["metadata"]["labels"]
    spec: dict[str, Any]
    if kind == "Pod":
        spec = template["spec"]
    elif kind in ("Job", "CronJob"):
        template["spec"].setdefault("restartPolicy", "Never")
        job = {"template": template}
        spec = job if kind == "Job" else {"schedule": "0 0 1 1 *", "jobTemplate": {"spec": job}}
    else:
        selector = labels if kind == "ReplicationController" else {"matchLabels": labels}
        spec = {"selector": selector, "template": template}
        if kind == "StatefulSet":
            spec["serviceName"] = name
        if kind != "DaemonSet":
            spec["replicas"] = 0
    return {"apiVersion": group_version, "kind": kind, "metadata": metadata, "spec": spec}


def vector_object(kind: str, namespace: str, name: str, template: dict[str, Any], vector: Vector) -> dict[str, Any]:
    obj = workload_object(kind, namespace, name, template)
    from verification.models.admission.cel import pod_specs

    vector.apply(pod_specs(obj)[0])
    return obj


# --- the model ------------------------------------------------------------------------------------


@dataclass
class Platform:
    """What the model needs from the manifests, read once."""

    objects: list[dict[str, Any]]
    authorizer: Authorizer
    intent: PermissionsIntent
    policies: PolicySet = field(init=False)

    _direct: dict[tuple[str, str], list["Reach"]] = field(init=False, default_factory=dict)
    _namespace_labels: dict[str, dict[str, str]] = field(init=False, default_factory=dict)
    # (identity, namespace, kind row, operation, vector) -> (admitted, denial message): the object
    # is a function of these (the template is the namespace's first runtime account's)
    decided: dict[tuple[Any, ...], tuple[bool, str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.policies = PolicySet.from_objects(self.objects)

    def direct(self, identity: Identity, namespace: str) -> list["Reach"]:
        """direct_reach, once per identity and namespace (the closure asks again for every path)."""
        key = (identity.user, namespace)
        if key not in self._direct:
            self._direct[key] = list(direct_reach(self, identity, namespace))
        return self._direct[key]

    def accounts(self, namespace: str) -> list[str]:
        """ServiceAccounts of a namespace: those in the manifests, plus `default` (always there)."""
        names = {
            o["metadata"]["name"]
            for o in iter_kind(self.objects, "ServiceAccount")
            if o["metadata"].get("namespace") == namespace
        }
        return sorted(names | {"default"})

    def runtime_accounts(self, namespace: str) -> list[str]:
        return [name for ns, name in self.intent.runtime_service_accounts if ns == namespace]

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        if namespace not in self._namespace_labels:  # every admission request asks
            self._namespace_labels[namespace] = next(
                (
                    {str(k): str(v) for k, v in (ns["metadata"].get("labels") or {}).items()}
                    for ns in iter_kind(self.objects, "Namespace")
                    if ns["metadata"]["name"] == namespace
                ),
                {},
            )
        return dict(self._namespace_labels[namespace])

    def operator(self) -> Identity | None:
        for deployment in iter_kind(self.objects, "Deployment"):
            if deployment["metadata"]["name"] == OPERATOR_DEPLOYMENT:
                namespace = deployment["metadata"].get("namespace", "")
                account = deployment["spec"]["template"]["spec"].get("serviceAccountName", "default")
                user = service_account_user(namespace, account)
                return Identity(user, impersonated_groups(user))
        return None

    def argocd_destination_accounts(self) -> list[tuple[str, str]]:
        return [
            (d["namespace"], d["defaultServiceAccount"])
            for project in iter_kind(self.objects, "AppProject")
            for d in (project.get("spec") or {}).get("destinationServiceAccounts") or []
            if d.get("namespace") and d.get("defaultServiceAccount")
        ]

    def admit(
        self,
        identity: Identity,
        kind_row: tuple[str, str, str, str],
        operation: str,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> tuple[bool, str]:
        """Admission of `obj`, a fresh object: the API server's defaults are applied to it in place."""
        meta = obj["metadata"]
        labels = self.namespace_labels(meta["namespace"])
        where = (*kind_row, meta["namespace"], meta["name"])  # group, version, resource, kind, namespace, name
        request = AdmissionRequest(
            operation, *where, identity.user, identity.groups, server_defaults(obj), old, namespace_labels=labels
        )
        decision = self.policies.decide(request)
        return decision.allowed, "; ".join(v.api_message() for v in decision.denials)


def _may(
    platform: Platform,
    identity: Identity,
    verb: str,
    resource: str,
    namespace: str,
    group: str = "",
    subresource: str = "",
) -> str | None:
    """The grant that allows it (described), for any object name, or None."""
    request = Request(identity.user, identity.groups, verb, resource, subresource, group, namespace)
    if grant := platform.authorizer.grant_for(request, any_name=True):
        return f"{verb} {request.describe().split(' ', 1)[1]} ({grant.binding.ref} -> {grant.binding.role_ref})"
    return None


def direct_reach(platform: Platform, identity: Identity, namespace: str) -> Iterator[Reach]:
    """One step: what this identity reaches by itself, admission applied; tokens not yet followed."""
    for verb in ("get", "list", "watch"):
        if why := _may(platform, identity, verb, "secrets", namespace):
            yield _read(identity, namespace, why)
            break
    for subresource, verb in POD_SUBRESOURCES:
        if why := _may(platform, identity, verb, "pods", namespace, subresource=subresource):
            yield _running_pods(identity, namespace, why)
    if why := _may(platform, identity, "create", "serviceaccounts", namespace, subresource="token"):
        for account in platform.accounts(namespace) if namespace else ():
            yield _token(identity, namespace, account, why)
    yield from _privilege_reach(platform, identity, namespace)
    yield from _workload_reach(platform, identity, namespace)
    yield from _operator_reach(platform, identity, namespace)
    if namespace and (why := _may(platform, identity, "create", "applications", namespace, "argoproj.io")):
        for dest_ns, account in platform.argocd_destination_accounts():
            yield _token(identity, dest_ns, account, f"{why} -> ArgoCD syncs it as {dest_ns}/{account}")


def _privilege_reach(platform: Platform, identity: Identity, namespace: str) -> Iterator[Reach]:
    """Verbs that are identities or permissions by themselves: bind/escalate, impersonate, CSR
    create with approval, nodes/proxy (the kubelet API: exec into every pod of the node)."""
    user, groups = identity.user, identity.groups
    rbac = "rbac.authorization.k8s.io"
    for verb in ("bind", "escalate"):
        for resource in ("roles", "clusterroles"):
            if why := _may(platform, identity, verb, resource, namespace, rbac):
                equivalent = Request(user, groups, verb, resource, "", rbac, namespace)
                yield Reach(f"any permission ({verb} {resource})", namespace, why, equivalent)
    for resource in ("users", "groups", "serviceaccounts"):
        if why := _may(platform, identity, "impersonate", resource, namespace):
            equivalent = Request(user, groups, "impersonate", resource, namespace=namespace)
            if resource == "serviceaccounts" and namespace:
                for account in platform.accounts(namespace):  # followed like a token: its own reach
                    yield Reach(f"token of ServiceAccount {namespace}/{account}", namespace, why, equivalent)
            else:
                yield Reach(f"any {resource[:-1]} (impersonate)", namespace, why, equivalent)
    if not namespace:
        certificates = "certificates.k8s.io"
        create = _may(platform, identity, "create", "certificatesigningrequests", "", certificates)
        approve = _may(platform, identity, "update", "certificatesigningrequests", "", certificates, "approval")
        signer = _may(platform, identity, "approve", "signers", "", certificates)
        if create and approve and signer:
            equivalent = Request(user, groups, "impersonate", "users")
            path = f"{create}; {approve}; {signer}"
            yield Reach("any user, by a client certificate it signs (CSR create + approve)", "", path, equivalent)
        for verb in ("get", "create"):
            if why := _may(platform, identity, verb, "nodes", "", subresource="proxy"):
                equivalent = Request(user, groups, verb, "nodes", "proxy")
                yield Reach("every pod's identity on every node (kubelet API)", "", why, equivalent)
                break


def _workload_reach(
    platform: Platform, identity: Identity, namespace: str, *, any_kind: bool = False
) -> Iterator[Reach]:
    """Workload vectors; `any_kind` tries every pod-producing kind and verb as if RBAC granted it
    (what admission alone would do once someone widens the identity's Role)."""
    if not namespace:
        return
    runtime = platform.runtime_accounts(namespace)
    base_account = runtime[0] if runtime else "default"
    template = allowed_pod_template(namespace, base_account)
    seen_open: set[tuple[str, str]] = set()
    for row in POD_PRODUCERS:
        group, _, resource, kind = row
        for verb, operation in WRITE_OPERATIONS.items():
            why = _may(platform, identity, verb, resource, namespace, group)
            if any_kind and not why:
                why = f"{verb} {resource}{'.' + group if group else ''} in namespace {namespace} (if granted)"
            if not why:
                continue
            old = workload_object(kind, namespace, "effective-probe", template) if operation == "UPDATE" else None
            for vector in workload_vectors(base_account, platform.accounts(namespace)):
                # patch is an UPDATE at admission, and the closure and the admission-only view ask
                # the same questions: each is decided once per platform.
                question = (identity, namespace, row, operation, vector)
                if question not in platform.decided:
                    obj = vector_object(kind, namespace, "effective-probe", template, vector)
                    platform.decided[question] = platform.admit(identity, row, operation, obj, old)
                admitted, message = platform.decided[question]
                path = f"{why} -> pod spec {vector.field} ({vector.name})"
                closed = "" if admitted else message
                if vector.reaches == "secret":
                    reach = _read(identity, namespace, path, closed)
                else:
                    reach = _token(identity, namespace, vector.reaches.split(":", 1)[1], path, closed)
                key = (reach.what, path)
                if key not in seen_open:
                    seen_open.add(key)
                    yield reach
            # Not prohibited by the intent, but reached all the same: listed for the record.
            for what, volume in (("ConfigMaps", "configMap"), ("PersistentVolumeClaims", "persistentVolumeClaim")):
                yield _read(identity, namespace, f"{why} -> pod spec volumes[].{volume}", what=what)


def _operator_reach(platform: Platform, identity: Identity, namespace: str) -> Iterator[Reach]:
    operator = platform.operator()
    if not namespace or operator is None or operator.user == identity.user:
        return
    for resource in OPERATOR_READ_KINDS:
        why = _may(platform, identity, "create", resource, namespace, MONITORING_GROUP)
        if not why:
            continue
        path = f"{why} -> secret reference read by {operator.user}"
        operator_reads = _may(platform, operator, "get", "secrets", namespace)
        closed = "" if operator_reads else f"{operator.user} may not get secrets in {namespace} (RBAC)"
        yield _read(identity, namespace, path, closed)


def effective_reach(platform: Platform, identity: Identity, namespaces: Iterable[str]) -> list[Reach]:
    """The closure: direct reach in every namespace, plus the reach of every token reached."""
    namespaces = list(namespaces)
    result: list[Reach] = []
    done: set[str] = set()
    queue: list[tuple[Identity, str]] = [(identity, "")]
    while queue:
        current, prefix = queue.pop(0)
        if current.user in done:
            continue
        done.add(current.user)
        for namespace in namespaces:
            for reach in platform.direct(current, namespace):
                if prefix:
                    reach = replace(
                        reach,
                        path=f"{prefix} => {reach.path}",
                        equivalent=replace(reach.equivalent, user=identity.user, groups=identity.groups),
                    )
                result.append(reach)
                if reach.open and reach.what.startswith("token of ServiceAccount "):
                    ns, account = reach.what.rsplit(" ", 1)[1].split("/")
                    user = service_account_user(ns, account)
                    if user not in done:
                        queue.append((Identity(user, impersonated_groups(user)), f"{reach.path} => as {user}"))
    return result


def admission_only_reach(platform: Platform, identity: Identity, namespace: str) -> list[Reach]:
    """Every workload vector of every pod-producing kind and verb, RBAC aside: what admission alone
    leaves open to this identity there (a kind missing from a policy shows up here first)."""
    guarded = ("Secrets", "token of ServiceAccount ")
    return [r for r in _workload_reach(platform, identity, namespace, any_kind=True) if r.what.startswith(guarded)]


def closing_policies(platform: Platform, reaches: Iterable[Reach]) -> list[str]:
    """A policy that closes a path must fail closed: failurePolicy Fail (an evaluation error then
    denies) and a binding without objectSelector (the object's author would opt out by its labels)."""
    problems = []
    names = {m.split("'")[1] for r in reaches if r.closed_by for m in r.closed_by.split("; ") if m.count("'") >= 2}
    for name in sorted(names):
        policy = platform.policies.policies.get(name)
        if policy is None:
            continue
        if policy.failure_policy != "Fail":
            problems.append(f"{policy.where}: failurePolicy {policy.failure_policy} admits whenever evaluation fails")
        for binding in platform.policies.bindings:
            selector = (binding.match or {}).get("objectSelector") or {}
            if binding.policy == name and (selector.get("matchLabels") or selector.get("matchExpressions")):
                problems.append(f"{binding.source}: binding {binding.name}: objectSelector lets the author opt out")
        selector = (policy.spec.get("matchConstraints") or {}).get("objectSelector") or {}
        if selector.get("matchLabels") or selector.get("matchExpressions"):
            problems.append(f"{policy.where}: matchConstraints.objectSelector lets the author opt out")
    return problems


def prohibited_reaches(platform: Platform, identity: Identity, reaches: Iterable[Reach]) -> list[str]:
    """Open reaches the intent prohibits for this identity (exemptions applied): one line per
    prohibition and thing reached, naming up to three of its paths."""
    intent = platform.intent
    paths: dict[tuple[str, str], list[str]] = {}
    for reach in reaches:
        if not reach.open:
            continue
        for prohibition in intent.prohibited:
            if _asked(reach.equivalent) not in map(_asked, prohibition.requests):
                continue
            if any(e.covers(identity.user, prohibition.name, reach.namespace) for e in intent.exemptions):
                continue
            found = paths.setdefault((prohibition.name, f"{reach.what} in {reach.namespace or 'the cluster'}"), [])
            if reach.path not in found:
                found.append(reach.path)
    return [
        f"'{name}' reached effectively: {what} via {len(found)} path(s): "
        + "; ".join(found[:3])
        + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
        for (name, what), found in paths.items()
    ]


def check_effective(platform: Platform) -> list[str]:
    """`prohibited` holds for effective permissions for every identity in scope."""
    namespaces = namespaces_in_scope(platform.authorizer, platform.intent)
    return [
        f"{checked.identity.user} ({checked.origin}): prohibited {line}"
        for checked in identities_in_scope(platform.authorizer, platform.intent)
        for line in prohibited_reaches(
            platform, checked.identity, effective_reach(platform, checked.identity, namespaces)
        )
    ]


def _asked(request: Request) -> tuple[str, str, str, str]:
    """What a request asks, whoever asks it where: a prohibition's templates are compared on it."""
    return request.verb, request.resource, request.subresource, request.api_group


def table(reaches: Iterable[Reach]) -> list[tuple[str, str, str, str]]:
    """(namespace, reached, path, state) rows, for the CLI and reports."""
    return [
        (r.namespace or "(cluster)", r.what, r.path, "OPEN" if r.open else f"closed: {r.closed_by}") for r in reaches
    ]
