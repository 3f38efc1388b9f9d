"""ValidatingAdmissionPolicies evaluated as kube-apiserver applies them, CEL included.

The CEL is evaluated with cel-python (`celpy`), the policy plumbing follows
k8s.io/apiserver/pkg/admission/plugin/policy (validating/dispatcher.go, matching/matching.go):

- a policy takes part only through a ValidatingAdmissionPolicyBinding that names it (spec.policyName);
- a request is validated when the policy's matchConstraints and the binding's matchResources both
  match it: resourceRules (apiGroups, apiVersions, resources with `*`, `*/*`, `res/sub`, operations,
  scope, resourceNames), excludeResourceRules, namespaceSelector (on the namespace's labels; a
  cluster-scoped object other than a Namespace is never skipped), objectSelector (on the object's,
  or for DELETE the old object's, labels);
- then every matchCondition must be true (false skips the policy; an error applies failurePolicy);
- variables are evaluated lazily, when an expression reads them, as the API server does;
- every validation is evaluated; false is a violation with `message` (or `messageExpression`, or
  "failed expression: EXPR"), an error applies failurePolicy (Fail: a violation, Ignore: nothing);
- the binding's validationActions decide what a violation does: Deny refuses the request, Warn
  and Audit only report.

Not modelled, and refused with a clear error rather than silently allowed: paramKind/paramRef (the
platform's policies take no parameters), the `authorizer` variable, and every CEL function that
cel-python does not implement (the Kubernetes extension libraries: strings' split/lowerAscii/...,
lists, regex find, url, quantity, optional syntax `.?`). Known divergence kept on the safe side by
writing policies with stepwise has(): cel-python's has(a.b.c) is false when a.b is absent, where
the API server's CEL raises an error (failurePolicy then decides).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import celpy
from celpy import celtypes

from verification.errors import UserError
from verification.models import selectors
from verification.yamlio import iter_kind, source_of, strip_source

POLICY = "ValidatingAdmissionPolicy"
BINDING = "ValidatingAdmissionPolicyBinding"
MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
SUPPORTED_FUNCTIONS = frozenset(celpy.evaluation.base_functions) | MACROS
# Variables the API server binds for a policy without paramKind (cel/composition.go, filter.go).
UNSUPPORTED_VARIABLES = {"authorizer": "authorizer checks need a live authorizer", "params": "paramKind"}


class UnsupportedPolicy(UserError):
    """A policy uses something the model does not evaluate: never treated as allow."""


@dataclass(frozen=True)
class AdmissionRequest:
    """One API request as admission sees it (after defaulting: see `server_defaults`)."""

    operation: str  # CREATE | UPDATE | DELETE | CONNECT
    group: str
    version: str
    resource: str
    kind: str
    namespace: str
    name: str
    user: str
    groups: tuple[str, ...] = ()
    object: Mapping[str, Any] | None = None
    old_object: Mapping[str, Any] | None = None
    subresource: str = ""
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = True

    def describe(self) -> str:
        what = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.operation} {what} {self.namespace}/{self.name} as {self.user}"

    def cel_request(self) -> dict[str, Any]:
        return {
            "kind": {"group": self.group, "version": self.version, "kind": self.kind},
            "resource": {"group": self.group, "version": self.version, "resource": self.resource},
            "subResource": self.subresource,
            "requestKind": {"group": self.group, "version": self.version, "kind": self.kind},
            "requestResource": {"group": self.group, "version": self.version, "resource": self.resource},
            "name": self.name,
            "namespace": self.namespace,
            "operation": self.operation,
            "userInfo": {"username": self.user, "groups": list(self.groups)},
            "dryRun": self.dry_run,
        }


@dataclass(frozen=True)
class Violation:
    """One validation that refuses (Deny), warns (Warn) or is audited (Audit)."""

    policy: str
    binding: str
    validation: int  # index in spec.validations; -1 for a matchCondition error
    message: str
    actions: tuple[str, ...]

    def api_message(self) -> str:
        """What kube-apiserver answers for a denial (dispatcher.go)."""
        return f"ValidatingAdmissionPolicy '{self.policy}' with binding '{self.binding}' denied request: {self.message}"


@dataclass(frozen=True)
class Decision:
    request: AdmissionRequest
    violations: tuple[Violation, ...]

    @property
    def denials(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if "Deny" in v.actions)

    @property
    def allowed(self) -> bool:
        return not self.denials


# --- CEL ------------------------------------------------------------------------------------------

_ENV = celpy.Environment()


def _called_functions(tree: Any) -> set[str]:
    names: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data == "ident_arg" and node.children:
            names.add(str(node.children[0]))
        elif node.data == "member_dot_arg" and len(node.children) > 1:
            names.add(str(node.children[1]))
    return names


def _identifiers(tree: Any) -> set[str]:
    return {str(n.children[0]) for n in tree.iter_subtrees() if n.data == "ident" and n.children}


@cache
def compile_expression(expression: str, where: str) -> Any:
    """A cel-python program; UnsupportedPolicy names the function or variable it cannot evaluate."""
    try:
        tree = _ENV.compile(expression)
    except celpy.CELParseError as exc:
        first = str(exc).splitlines()[0]
        raise UnsupportedPolicy(f"{where}: CEL the model cannot parse ({first}): {expression!r}") from None
    unsupported = sorted(_called_functions(tree) - SUPPORTED_FUNCTIONS)
    if unsupported:
        raise UnsupportedPolicy(
            f"{where}: CEL function(s) {', '.join(unsupported)} are not evaluated by the model (cel-python "
            "implements standard CEL only); write the expression with standard functions or extend "
            "verification/models/cel_admission.py"
        )
    for name, why in UNSUPPORTED_VARIABLES.items():
        if name in _identifiers(tree):
            raise UnsupportedPolicy(f"{where}: the variable {name!r} is not modelled ({why})")
    return _ENV.program(tree)


class _EvaluationError(Exception):
    pass


class _LazyVariables(celtypes.MapType):
    """`variables.NAME`, each evaluated on first use against the same activation."""

    def __init__(self, programs: dict[str, Any], activation: dict[str, Any]) -> None:
        super().__init__({})
        self._programs = programs
        self._activation = activation
        self._values: dict[str, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        name = str(key)
        if name not in self._programs:
            raise KeyError(name)
        if name not in self._values:
            self._values[name] = _evaluate(self._programs[name], self._activation)
        return self._values[name]

    def __contains__(self, key: object) -> bool:
        return str(key) in self._programs


def _evaluate(program: Any, activation: dict[str, Any]) -> Any:
    try:
        result = program.evaluate(activation)
    except (celpy.CELEvalError, _EvaluationError) as exc:
        raise _EvaluationError(str(exc.args[0] if exc.args else exc)) from None
    if isinstance(result, celpy.CELEvalError):
        raise _EvaluationError(str(result.args[0] if result.args else result))
    return result


def _cel(value: Any) -> Any:
    return celpy.json_to_cel(value) if value is not None else None


# --- matching -------------------------------------------------------------------------------------


def _listed(values: Iterable[str] | None, value: str) -> bool:
    values = list(values or [])
    return value in values or "*" in values


def _resource_listed(resources: Iterable[str], resource: str, subresource: str) -> bool:
    for entry in resources:
        if entry == "*/*":
            return True
        if not subresource and entry in ("*", resource):
            return True
        if subresource and entry in (f"{resource}/{subresource}", f"*/{subresource}", f"{resource}/*"):
            return True
    return False


def rule_matches(rule: Mapping[str, Any], request: AdmissionRequest) -> bool:
    scope = rule.get("scope", "*")
    namespaced = bool(request.namespace)
    return (
        _listed(rule.get("operations"), request.operation)
        and _listed(rule.get("apiGroups"), request.group)
        and _listed(rule.get("apiVersions"), request.version)
        and _resource_listed(rule.get("resources") or [], request.resource, request.subresource)
        and (scope == "*" or (scope == "Namespaced") == namespaced)
        and (not rule.get("resourceNames") or request.name in rule["resourceNames"])
    )


def _labels(obj: Mapping[str, Any] | None) -> dict[str, str]:
    return dict(((obj or {}).get("metadata") or {}).get("labels") or {})


def match_resources(match: Mapping[str, Any] | None, request: AdmissionRequest, where: str, *, policy: bool) -> bool:
    if match is None:
        return not policy  # a binding without matchResources takes the policy's
    namespace_selector = match.get("namespaceSelector") or {}
    if request.namespace:
        labels = {**request.namespace_labels, "kubernetes.io/metadata.name": request.namespace}
        if not selectors.matches(namespace_selector, labels, f"{where}: namespaceSelector"):
            return False
    elif request.kind == "Namespace" and not selectors.matches(
        namespace_selector, _labels(request.object), f"{where}: namespaceSelector"
    ):
        return False
    subject = request.old_object if request.operation == "DELETE" else request.object
    if not selectors.matches(match.get("objectSelector") or {}, _labels(subject), f"{where}: objectSelector"):
        return False
    rules = match.get("resourceRules") or []
    if (policy or rules) and not any(rule_matches(r, request) for r in rules):
        return False
    return not any(rule_matches(r, request) for r in match.get("excludeResourceRules") or [])


# --- policies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    name: str
    source: str
    spec: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"{self.source}: {POLICY} {self.name}"

    @property
    def failure_policy(self) -> str:
        return self.spec.get("failurePolicy") or "Fail"

    def check_supported(self) -> None:
        if self.spec.get("paramKind"):
            raise UnsupportedPolicy(f"{self.where}: paramKind is not modelled (the platform's policies take none)")
        for kind in ("matchConditions", "variables", "validations"):
            for i, entry in enumerate(self.spec.get(kind) or []):
                compile_expression(entry.get("expression", ""), f"{self.where}: {kind}[{i}]")
                if entry.get("messageExpression"):
                    compile_expression(entry["messageExpression"], f"{self.where}: {kind}[{i}].messageExpression")


@dataclass(frozen=True)
class Binding:
    name: str
    policy: str
    actions: tuple[str, ...]
    match: Mapping[str, Any] | None
    source: str

    def check_supported(self) -> None:
        if self.match is not None and not isinstance(self.match, Mapping):
            raise UserError(f"{self.source}: {BINDING} {self.name}: matchResources must be a mapping")


@dataclass
class PolicySet:
    """The platform's policies and bindings, ready to decide requests."""

    policies: dict[str, Policy]
    bindings: list[Binding]

    @classmethod
    def from_objects(cls, objects: Iterable[dict[str, Any]]) -> "PolicySet":
        objects = list(objects)
        policies = {}
        for obj in iter_kind(objects, POLICY):
            policy = Policy(obj["metadata"]["name"], source_of(obj), obj.get("spec") or {})
            policy.check_supported()
            policies[policy.name] = policy
        bindings = []
        for obj in iter_kind(objects, BINDING):
            spec = obj.get("spec") or {}
            if spec.get("paramRef"):
                raise UnsupportedPolicy(
                    f"{source_of(obj)}: {BINDING} {obj['metadata']['name']}: paramRef is not modelled"
                )
            binding = Binding(
                obj["metadata"]["name"],
                str(spec.get("policyName", "")),
                tuple(spec.get("validationActions") or ()),
                spec.get("matchResources"),
                source_of(obj),
            )
            binding.check_supported()
            bindings.append(binding)
        return cls(policies, bindings)

    def decide(self, request: AdmissionRequest) -> Decision:
        violations: list[Violation] = []
        for binding in self.bindings:
            policy = self.policies.get(binding.policy)
            if policy is None:
                continue  # the API server ignores a binding to a missing policy
            violations += _validate(policy, binding, request)
        return Decision(request, tuple(violations))


def _activation(request: AdmissionRequest) -> dict[str, Any]:
    namespace_object = None
    if request.namespace:
        labels = {**request.namespace_labels, "kubernetes.io/metadata.name": request.namespace}
        namespace_object = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": request.namespace, "labels": labels},
        }
    clean = strip_source(dict(request.object)) if request.object else None
    old = strip_source(dict(request.old_object)) if request.old_object else None
    return {
        "object": _cel(clean),
        "oldObject": _cel(old),
        "request": _cel(request.cel_request()),
        "namespaceObject": _cel(namespace_object),
    }


def _validate(policy: Policy, binding: Binding, request: AdmissionRequest) -> list[Violation]:
    spec = policy.spec
    if not match_resources(spec.get("matchConstraints"), request, policy.where, policy=True):
        return []
    if not match_resources(binding.match, request, f"{binding.source}: {BINDING} {binding.name}", policy=False):
        return []
    activation = _activation(request)
    programs = {
        v["name"]: compile_expression(v["expression"], f"{policy.where}: variables[{i}]")
        for i, v in enumerate(spec.get("variables") or [])
    }
    activation["variables"] = _LazyVariables(programs, activation)

    def violation(index: int, message: str) -> Violation:
        return Violation(policy.name, binding.name, index, message, binding.actions)

    for i, condition in enumerate(spec.get("matchConditions") or []):
        program = compile_expression(condition["expression"], f"{policy.where}: matchConditions[{i}]")
        try:
            matched = bool(_evaluate(program, activation))
        except _EvaluationError as exc:
            if policy.failure_policy == "Ignore":
                return []
            return [violation(-1, f"failed to evaluate matchCondition {condition.get('name')!r}: {exc}")]
        if not matched:
            return []
    found = []
    for i, validation in enumerate(spec.get("validations") or []):
        expression = validation["expression"]
        program = compile_expression(expression, f"{policy.where}: validations[{i}]")
        try:
            ok = bool(_evaluate(program, activation))
        except _EvaluationError as exc:
            if policy.failure_policy != "Ignore":
                found.append(violation(i, f"expression '{expression}' resulted in error: {exc}"))
            continue
        if not ok:
            found.append(violation(i, _message(policy, validation, i, activation)))
    return found


def _message(policy: Policy, validation: Mapping[str, Any], index: int, activation: dict[str, Any]) -> str:
    if validation.get("messageExpression"):
        program = compile_expression(validation["messageExpression"], f"{policy.where}: validations[{index}]")
        try:
            text = str(_evaluate(program, activation)).strip()
            if text and "\n" not in text:
                return text
        except _EvaluationError:
            pass  # the API server falls back to message
    if validation.get("message"):
        return " ".join(str(validation["message"]).split())
    return f"failed expression: {validation['expression']}"


def server_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """The one defaulting of a pod spec the policies' decisions depend on: serviceAccount is the
    deprecated alias of serviceAccountName (core/v1 conversion copies each way when one is empty)."""
    for spec in pod_specs(obj):
        if spec.get("serviceAccountName") and not spec.get("serviceAccount"):
            spec["serviceAccount"] = spec["serviceAccountName"]
        elif spec.get("serviceAccount") and not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = spec["serviceAccount"]
    return obj


# Where each pod-producing kind keeps its pod spec (the kinds a workload controller turns into pods).
POD_SPEC_PATHS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    path = POD_SPEC_PATHS.get(str(obj.get("kind")))
    node: Any = obj
    for key in path or ():
        node = node.get(key) if isinstance(node, dict) else None
    return [node] if path and isinstance(node, dict) else []
