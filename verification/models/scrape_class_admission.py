"""Scrape classes that carry credentials can be picked only in namespace monitoring.

prometheus-operator lets any ServiceMonitor, PodMonitor, Probe or ScrapeConfig name a scrape class
of the Prometheus resource with `spec.scrapeClass`, and a class can carry Prometheus' own
credentials (the class `kubelet`: the service account token file). Whoever may create such an
object outside monitoring (the app deployers create ServiceMonitors in test and staging) could
point it at their own Service and receive the token. The guard is a ValidatingAdmissionPolicy
(platform/manifests/monitoring/admission-scrape-class.yaml) that denies spec.scrapeClass outside
namespace monitoring.

No CEL is evaluated here. The model reads the one expression it knows, DENY_ANY_SCRAPE_CLASS
(whitespace aside), as "deny every object that sets spec.scrapeClass", and interprets the rest as
the API server does:

- a request is validated when the policy's matchConstraints and the binding's matchResources both
  match it: resourceRules (group, version, resource, operation, scope; resourceNames narrow a rule
  to some names, so such a rule covers nothing for certain), excludeResourceRules (any exclusion of
  a kind counts, names or not: a deployer can pick the excluded name), namespaceSelector (label
  selector on the namespace's labels, kubernetes.io/metadata.name included), objectSelector (must
  be empty: the object's author chooses its labels);
- the binding denies only with validationActions Deny (Warn and Audit only report);
- failurePolicy Ignore admits when evaluation fails; matchConditions can skip requests: both void
  the guard;
- namespaces: every Namespace under platform/manifests except monitoring, and one that is not
  declared anywhere (labels: only kubernetes.io/metadata.name).

A scrape class with `default: true` applies to objects that name no class, which no admission rule
on spec.scrapeClass can stop: a default class must carry no credentials.
"""

from dataclasses import dataclass
from typing import Any

from verification.models import selectors
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
# The validation the model understands: true (admit) only when spec.scrapeClass is absent.
DENY_ANY_SCRAPE_CLASS = "!has(object.spec) || !has(object.spec.scrapeClass)"
UNDECLARED_NAMESPACE = "<a namespace not declared under platform/manifests>"
POLICY = "ValidatingAdmissionPolicy"
BINDING = "ValidatingAdmissionPolicyBinding"
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
    found = []
    for prometheus in iter_kind(objects, "Prometheus", "PrometheusAgent"):
        meta = prometheus["metadata"]
        for entry in (prometheus.get("spec") or {}).get("scrapeClasses") or []:
            found.append(
                ScrapeClass(
                    f"{meta.get('namespace')}/{meta['name']}",
                    str(entry.get("name")),
                    class_credentials(entry),
                    bool(entry.get("default")),
                )
            )
    return found


def credentialed_classes(objects: list[dict[str, Any]]) -> list[ScrapeClass]:
    return [c for c in scrape_classes(objects) if c.credentials]


# --- how the API server matches a request ---------------------------------------------------------


def _normalized(expression: str) -> str:
    return "".join(str(expression).split())


def denies_scrape_class(policy: dict[str, Any]) -> bool:
    """Whether one of the policy's validations is DENY_ANY_SCRAPE_CLASS."""
    wanted = _normalized(DENY_ANY_SCRAPE_CLASS)
    return any(
        _normalized(v.get("expression", "")) == wanted for v in (policy.get("spec") or {}).get("validations") or []
    )


def _lists(values: list[str] | None, value: str) -> bool:
    return bool(values) and (value in values or "*" in values)


def rule_matches(rule: dict[str, Any], resource: str, operation: str) -> bool:
    """A NamedRuleWithOperations matches requests for `resource` with `operation` (any object name)."""
    _, version = MONITORING_RESOURCES[resource]
    resources = rule.get("resources") or []
    return (
        _lists(rule.get("apiGroups"), GROUP)
        and _lists(rule.get("apiVersions"), version)
        and (resource in resources or "*" in resources or "*/*" in resources)
        and _lists(rule.get("operations"), operation)
        and rule.get("scope", "*") in ("*", "Namespaced")
    )


def match_gap(
    match: dict[str, Any] | None, resource: str, operation: str, namespace: tuple[str, dict[str, str]], *, policy: bool
) -> str | None:
    """Why a policy's matchConstraints (policy=True) or a binding's matchResources do not send this
    request to validation; None when they do."""
    ns_name, ns_labels = namespace
    if match is None:
        return "no matchConstraints (the API server requires them)" if policy else None
    field = "matchConstraints" if policy else "matchResources"
    if match.get("objectSelector") and any(match["objectSelector"].get(k) for k in ("matchLabels", "matchExpressions")):
        return f"{field}.objectSelector lets the object's author opt out by its labels"
    if not selectors.matches(match.get("namespaceSelector") or {}, ns_labels, f"{field}.namespaceSelector"):
        return f"{field}.namespaceSelector skips namespace {ns_name}"
    rules = match.get("resourceRules") or []
    if policy or rules:
        covering = [r for r in rules if rule_matches(r, resource, operation)]
        if not covering:
            return f"{field}.resourceRules do not cover {resource} {operation}"
        if all(r.get("resourceNames") for r in covering):
            return f"{field}.resourceRules cover {resource} {operation} only for some resourceNames"
    for rule in match.get("excludeResourceRules") or []:
        if rule_matches(rule, resource, operation):
            return f"{field}.excludeResourceRules exclude {resource} {operation}"
    return None


@dataclass(frozen=True)
class Enforcement:
    policy: dict[str, Any]
    binding: dict[str, Any]


def _label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('name')}"


def enforcements(objects: list[dict[str, Any]]) -> tuple[list[Enforcement], list[str]]:
    """(policy, binding) pairs that deny spec.scrapeClass with Deny, and why the other candidates do not."""
    pairs, reasons = [], []
    candidates = [p for p in iter_kind(objects, POLICY) if denies_scrape_class(p)]
    if not candidates:
        reasons.append(f"no {POLICY} has the validation `{DENY_ANY_SCRAPE_CLASS}`")
    for policy in candidates:
        spec = policy.get("spec") or {}
        name = policy["metadata"].get("name")
        void = []
        if spec.get("failurePolicy") == "Ignore":
            void.append("failurePolicy Ignore admits whenever evaluation fails")
        if spec.get("matchConditions"):
            void.append("matchConditions can skip requests")
        if spec.get("paramKind"):
            void.append("paramKind: the expression needs no parameter, and a missing one can admit")
        bindings = [b for b in iter_kind(objects, BINDING) if (b.get("spec") or {}).get("policyName") == name]
        if not bindings:
            void.append(f"no {BINDING} names it (a policy without a binding enforces nothing)")
        if void:
            reasons += [f"{_label(policy)}: {v}" for v in void]
            continue
        for binding in bindings:
            actions = (binding.get("spec") or {}).get("validationActions") or []
            if "Deny" not in actions:
                reasons.append(
                    f"{_label(binding)}: validationActions {actions} do not include Deny (Warn and Audit only report)"
                )
            else:
                pairs.append(Enforcement(policy, binding))
    return pairs, reasons


def denial_gap(pair: Enforcement, resource: str, operation: str, namespace: tuple[str, dict[str, str]]) -> str | None:
    """Why this pair does not deny spec.scrapeClass for the request; None when it denies it."""
    gap = match_gap(
        (pair.policy.get("spec") or {}).get("matchConstraints"), resource, operation, namespace, policy=True
    )
    if gap:
        return f"{_label(pair.policy)}: {gap}"
    gap = match_gap(
        (pair.binding.get("spec") or {}).get("matchResources"), resource, operation, namespace, policy=False
    )
    return f"{_label(pair.binding)}: {gap}" if gap else None


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


# --- the checks -------------------------------------------------------------------------------------


def unprotected(objects: list[dict[str, Any]]) -> list[str]:
    """Requests outside monitoring that may set spec.scrapeClass, one line per resource, with causes."""
    pairs, reasons = enforcements(objects)
    problems = []
    for resource in MONITORING_RESOURCES:
        operations: set[str] = set()
        open_namespaces: list[str] = []
        causes = list(reasons)
        for namespace in namespaces(objects):
            for operation in OPERATIONS:
                gaps = [denial_gap(pair, resource, operation, namespace) for pair in pairs]
                if all(gaps):  # no pair denies it (also when there is none)
                    operations.add(operation)
                    if namespace[0] not in open_namespaces:
                        open_namespaces.append(namespace[0])
                    causes += [g for g in gaps if g and g not in causes]
        if operations:
            problems.append(
                f"{resource}.{GROUP} {'/'.join(o for o in OPERATIONS if o in operations)} in namespace(s) "
                f"{', '.join(open_namespaces)} may set spec.scrapeClass: {'; '.join(causes)}"
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
    pairs, _ = enforcements(objects)
    for resource, (kind, _version) in MONITORING_RESOURCES.items():
        for obj in iter_kind(objects, kind):
            chosen = (obj.get("spec") or {}).get("scrapeClass")
            namespace = obj["metadata"].get("namespace", "")
            if chosen is None:
                continue
            denied_by = [p for p in pairs if denial_gap(p, resource, "CREATE", _namespace(objects, namespace)) is None]
            where = f"{source_of(obj)}: {kind} {namespace}/{obj['metadata']['name']} sets scrapeClass {chosen!r}"
            if namespace != MONITORING_NAMESPACE:
                problems.append(f"{where} outside namespace {MONITORING_NAMESPACE}, the only one that may")
            elif denied_by:
                problems.append(
                    f"{where} and is denied by {', '.join(_label(p.policy) for p in denied_by)}: "
                    "the platform's own scrape would be rejected"
                )
    return problems
