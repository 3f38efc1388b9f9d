"""Scrape classes that carry credentials can be picked only in namespace monitoring.

prometheus-operator lets any ServiceMonitor, PodMonitor, Probe or ScrapeConfig name a scrape class
of the Prometheus resource with `spec.scrapeClass`, and a class can carry Prometheus' own
credentials (the class `kubelet`: the service account token file). Whoever may create such an
object outside monitoring (the app deployers create ServiceMonitors in test and staging) could
point it at their own Service and receive the token. The guard is a ValidatingAdmissionPolicy
(platform/manifests/monitoring/admission-scrape-class.yaml) that denies spec.scrapeClass outside
namespace monitoring.

The policies are evaluated, CEL included, as the API server applies them
(verification/models/admission/cel.py): for every monitoring kind, every namespace but monitoring
(and one not declared anywhere), CREATE and UPDATE, every identity RBAC lets write that kind there
plus anyone, every object name a policy mentions, and every scrape class of the platform plus one
added later, a ServiceMonitor/PodMonitor/Probe/ScrapeConfig with spec.scrapeClass must be denied.
An admitted one is reported with the reason each binding gives (not matched, skipped by
matchConditions, validation admits, Warn/Audit only). What evaluation of fixed requests cannot
show is checked on the structure: failurePolicy Ignore (admits whenever evaluation fails) and an
objectSelector (the object's author opts out by its labels).

A scrape class with `default: true` applies to objects that name no class, which no admission rule
on spec.scrapeClass can stop: a default class must carry no credentials.
"""

from dataclasses import dataclass
from itertools import product
from typing import Any

from verification.models.admission.cel import BINDING, POLICY, AdmissionRequest, PolicySet, UnsupportedPolicy
from verification.models.rbac.authorizer import Authorizer, Request, impersonated_groups, service_account_user
from verification.yamlio import iter_kind, source_of

GROUP = "monitoring.coreos.com"
MONITORING_NAMESPACE = "monitoring"
# Resources whose spec.scrapeClass the operator honours, with their kind and served version
# (prometheus-operator v0.82: ScrapeConfig is still v1alpha1).
MONITORING_RESOURCES = {
    "servicemonitors": ("ServiceMonitor", "v1"),
    "podmonitors": ("PodMonitor", "v1"),
    "probes": ("Probe", "v1"),
    "scrapeconfigs": ("ScrapeConfig", "v1alpha1"),
}
OPERATIONS = ("CREATE", "UPDATE")
UNDECLARED_NAMESPACE = "<a namespace not declared under platform/manifests>"
PROBE_NAME = "scrape-class-probe"
# A class added to Prometheus later: the rule is "no class outside monitoring", not "not kubelet".
LATER_CLASS = "a-class-added-later"
ANYONE = "someone@example.com"
PLATFORM_APPLIER = "platform-admin@example.com"  # the platform's own objects: applied by an admin
# Fields of a scrape class (or endpoint) that hand Prometheus' credentials to the targets.
CREDENTIAL_FIELDS = (
    ("authorization", "credentialsFile"),
    ("authorization", "credentials"),
    ("bearerTokenFile",),
    ("bearerTokenSecret",),
    ("basicAuth",),
    ("oauth2",),
    ("tlsConfig", "keyFile"),
    ("tlsConfig", "keySecret"),
)


@dataclass(frozen=True)
class ScrapeClass:
    prometheus: str  # namespace/name of the Prometheus resource
    name: str
    credentials: tuple[str, ...]  # dotted field paths
    default: bool


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def class_credentials(scrape_class: dict[str, Any]) -> tuple[str, ...]:
    """The credential fields a scrape class sets (empty: it carries none)."""
    return tuple(".".join(path) for path in CREDENTIAL_FIELDS if _get(scrape_class, path))


def scrape_classes(objects: list[dict[str, Any]]) -> list[ScrapeClass]:
    return [
        ScrapeClass(
            f"{p['metadata'].get('namespace')}/{p['metadata']['name']}",
            str(e.get("name")),
            class_credentials(e),
            bool(e.get("default")),
        )
        for p in iter_kind(objects, "Prometheus", "PrometheusAgent")
        for e in (p.get("spec") or {}).get("scrapeClasses") or []
    ]


def credentialed_classes(objects: list[dict[str, Any]]) -> list[ScrapeClass]:
    return [c for c in scrape_classes(objects) if c.credentials]


# --- the policies, evaluated ------------------------------------------------------------------------


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('name')}"


def namespaces(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """(name, labels) of every namespace a monitoring object could be created in, monitoring aside."""
    declared = [ns["metadata"]["name"] for ns in iter_kind(objects, "Namespace")]
    found = [_namespace(objects, name) for name in declared if name != MONITORING_NAMESPACE]
    return [*found, (UNDECLARED_NAMESPACE, {"kubernetes.io/metadata.name": "undeclared-namespace"})]


def _namespace(objects: list[dict[str, Any]], name: str) -> tuple[str, dict[str, str]]:
    for ns in iter_kind(objects, "Namespace"):
        if ns["metadata"]["name"] == name:
            return name, {**(ns["metadata"].get("labels") or {}), "kubernetes.io/metadata.name": name}
    return name, {"kubernetes.io/metadata.name": name}


def _writers(objects: list[dict[str, Any]], authorizer: Authorizer, resource: str, namespace: str) -> list[str]:
    """Who may write `resource` there: every ServiceAccount of the manifests RBAC lets, plus ANYONE
    (stands for whoever is granted it later: matchConditions must not depend on who asks)."""
    users = [ANYONE]
    for account in iter_kind(objects, "ServiceAccount"):
        user = service_account_user(account["metadata"].get("namespace", ""), account["metadata"]["name"])
        groups = impersonated_groups(user)
        if any(
            authorizer.allowed(Request(user, groups, verb, resource, api_group=GROUP, namespace=namespace))
            for verb in ("create", "update")
        ):
            users.append(user)
    return users


def _names(objects: list[dict[str, Any]]) -> list[str]:
    """Object names to try: a fresh one, and every resourceName a policy or binding mentions (the
    author picks the name, so an exclusion by name is a way around the guard)."""
    names = {PROBE_NAME}
    for obj in iter_kind(objects, POLICY, BINDING):
        spec = obj.get("spec") or {}
        for match in (spec.get("matchConstraints") or {}, spec.get("matchResources") or {}):
            for key in ("resourceRules", "excludeResourceRules"):
                for rule in match.get(key) or []:
                    names.update(rule.get("resourceNames") or [])
    return sorted(names)


def _request(
    resource: str, operation: str, namespace: tuple[str, dict[str, str]], user: str, name: str, scrape_class: str | None
) -> AdmissionRequest:
    kind, version = MONITORING_RESOURCES[resource]
    ns_name = namespace[1].get("kubernetes.io/metadata.name", namespace[0])
    spec: dict[str, Any] = {} if scrape_class is None else {"scrapeClass": scrape_class}
    obj = {"apiVersion": f"{GROUP}/{version}", "kind": kind, "metadata": {"name": name, "namespace": ns_name}}
    return _admission(resource, operation, (ns_name, namespace[1]), user, {**obj, "spec": spec})


def _admission(
    resource: str, operation: str, namespace: tuple[str, dict[str, str]], user: str, obj: dict[str, Any]
) -> AdmissionRequest:
    """`user` writing the monitoring object `obj` in the namespace (name, labels)."""
    kind, version = MONITORING_RESOURCES[resource]
    return AdmissionRequest(
        operation,
        GROUP,
        version,
        resource,
        kind,
        namespace[0],
        obj["metadata"]["name"],
        user,
        impersonated_groups(user),
        obj,
        obj if operation == "UPDATE" else None,
        namespace_labels=namespace[1],
    )


def _guards_monitoring(policy: dict[str, Any]) -> bool:
    rules = ((policy.get("spec") or {}).get("matchConstraints") or {}).get("resourceRules") or []
    return any(GROUP in (r.get("apiGroups") or []) or "*" in (r.get("apiGroups") or []) for r in rules)


def hygiene(objects: list[dict[str, Any]]) -> list[str]:
    """What evaluation cannot show: a policy on monitoring kinds with failurePolicy Ignore admits
    whenever evaluation fails; an objectSelector lets the object's author opt out by its labels."""
    problems = []
    for policy in iter_kind(objects, POLICY):
        spec = policy.get("spec") or {}
        if not _guards_monitoring(policy):
            continue
        if spec.get("failurePolicy") == "Ignore":
            problems.append(f"{_label(policy)}: failurePolicy Ignore admits whenever evaluation fails")
        if _selects(spec.get("matchConstraints")):
            problems.append(f"{_label(policy)}: matchConstraints.objectSelector lets the object's author opt out")
    for binding in iter_kind(objects, BINDING):
        if _selects((binding.get("spec") or {}).get("matchResources")):
            problems.append(f"{_label(binding)}: matchResources.objectSelector lets the object's author opt out")
    return problems


def _selects(match: dict[str, Any] | None) -> bool:
    selector = (match or {}).get("objectSelector") or {}
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


# --- the checks -------------------------------------------------------------------------------------


def unprotected(objects: list[dict[str, Any]]) -> list[str]:
    """Requests outside monitoring that may set spec.scrapeClass, one line per resource, with causes:
    every (namespace, operation, writer, object name, class) is decided by the policies' CEL."""
    try:
        policies = PolicySet.from_objects(objects)
    except UnsupportedPolicy as exc:
        return [str(exc)]
    authorizer = Authorizer.from_objects(objects)
    classes = [*sorted({c.name for c in scrape_classes(objects)}), LATER_CLASS]
    names = _names(objects)
    relevant = [p["metadata"]["name"] for p in iter_kind(objects, POLICY) if _guards_monitoring(p)]
    problems = []
    for resource in MONITORING_RESOURCES:
        operations: list[str] = []
        open_namespaces: list[str] = []
        causes: list[str] = []
        examples: list[str] = []
        for namespace in namespaces(objects):
            users = _writers(objects, authorizer, resource, namespace[1]["kubernetes.io/metadata.name"])
            for operation in OPERATIONS:
                for user, name, scrape_class in product(users, names, classes):
                    request = _request(resource, operation, namespace, user, name, scrape_class)
                    if not policies.decide(request).allowed:
                        continue
                    if operation not in operations:
                        operations.append(operation)
                    if namespace[0] not in open_namespaces:
                        open_namespaces.append(namespace[0])
                    if not examples:
                        examples.append(f"e.g. {request.describe()} with scrapeClass {scrape_class!r}")
                    causes += [c for c in policies.explain(request, relevant) if c not in causes]
                    break
        if operations:
            problems.append(
                f"{resource}.{GROUP} {'/'.join(o for o in OPERATIONS if o in operations)} in namespace(s) "
                f"{', '.join(open_namespaces)} may set spec.scrapeClass ({examples[0]}): "
                + ("; ".join(causes) or f"no {POLICY} denies it")
            )
    return problems


def check(objects: list[dict[str, Any]]) -> list[str]:
    """Every credentialed scrape class is out of reach outside monitoring, and the platform's own
    monitoring objects that name a class are admitted."""
    problems = []
    credentialed = credentialed_classes(objects)
    for scrape_class in credentialed:
        if scrape_class.default:
            problems.append(
                f"Prometheus {scrape_class.prometheus}: scrape class {scrape_class.name} is the default and carries "
                f"credentials ({', '.join(scrape_class.credentials)}): it applies to every ServiceMonitor without "
                "spec.scrapeClass, which no admission policy on spec.scrapeClass prevents"
            )
    if credentialed:
        names = ", ".join(sorted({f"{c.name} ({', '.join(c.credentials)})" for c in credentialed}))
        problems += [f"{p} (credentialed scrape classes: {names})" for p in unprotected(objects)]
        problems += hygiene(objects)
    try:
        policies = PolicySet.from_objects(objects)
    except UnsupportedPolicy:
        return problems  # unprotected() reported it
    for resource, (kind, _) in MONITORING_RESOURCES.items():
        for obj in iter_kind(objects, kind):
            chosen = (obj.get("spec") or {}).get("scrapeClass")
            namespace = obj["metadata"].get("namespace", "")
            if chosen is None:
                continue
            where = f"{source_of(obj)}: {kind} {namespace}/{obj['metadata']['name']} sets scrapeClass {chosen!r}"
            if namespace != MONITORING_NAMESPACE:
                problems.append(f"{where} outside namespace {MONITORING_NAMESPACE}, the only one that may")
                continue
            denials = policies.decide(
                _admission(resource, "CREATE", _namespace(objects, namespace), PLATFORM_APPLIER, obj)
            ).denials
            if denials:
                problems.append(
                    f"{where} and is denied by {', '.join(f'{POLICY} {d.policy}' for d in denials)}: "
                    "the platform's own scrape would be rejected"
                )
    return problems
