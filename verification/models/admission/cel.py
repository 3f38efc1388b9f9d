"""ValidatingAdmissionPolicies evaluated as kube-apiserver applies them, CEL included.

The CEL is evaluated with common-expression-language (Python bindings of cel-rust: a missing
field is an error, as in the API server's cel-go; `has(a.b.c)` with a.b absent too), the policy
plumbing follows
k8s.io/apiserver/pkg/admission/plugin/policy (validating/dispatcher.go, matching/matching.go):

- a policy takes part only through a ValidatingAdmissionPolicyBinding that names it (spec.policyName);
- a request is validated when the policy's matchConstraints and the binding's matchResources both
  match it: resourceRules (apiGroups, apiVersions, resources with `*`, `*/*`, `res/sub`, operations,
  scope, resourceNames), excludeResourceRules, namespaceSelector (on the namespace's labels; a
  cluster-scoped object other than a Namespace is never skipped), objectSelector (on the object's,
  or for DELETE the old object's, labels);
- then every matchCondition must be true (false skips the policy; an error applies failurePolicy);
- variables are inlined into the expressions that read them: like the API server's lazy
  evaluation, a failing variable is an error only for the expressions that read it;
- every validation is evaluated; false is a violation with `message` (or `messageExpression`, or
  "failed expression: EXPR"), an error applies failurePolicy (Fail: a violation, Ignore: nothing);
- the binding's validationActions decide what a violation does: Deny refuses the request, Warn
  and Audit only report.

Not modelled, and refused with a clear error (UnsupportedPolicy) rather than silently allowed:
paramKind/paramRef (the platform's policies take no parameters), the `authorizer` variable, and
every function outside standard CEL (the Kubernetes extension libraries: strings' split/lowerAscii,
lists, regex find, url, quantity, ...), found before evaluation by the names the expression calls
and, should one slip through, at evaluation ("Undefined variable or function").
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cel

from verification.errors import UserError
from verification.models import selectors
from verification.models.podsecurity.workloads import TEMPLATE_PATHS
from verification.yamlio import SOURCE_ANNOTATION, iter_kind, source_of

POLICY = "ValidatingAdmissionPolicy"
BINDING = "ValidatingAdmissionPolicyBinding"


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

MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
# Standard CEL functions cel-rust implements (the Kubernetes extension libraries are not among them).
SUPPORTED_FUNCTIONS = MACROS | frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches", "string", "int", "uint", "double", "bytes",
        "bool", "timestamp", "duration", "type", "dyn", "max", "min", "getFullYear", "getMonth", "getDate",
        "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds",
    }
)  # fmt: skip
# Variables the API server binds for a policy without paramKind (cel/composition.go, filter.go).
UNSUPPORTED_VARIABLES = {"authorizer": "authorizer checks need a live authorizer", "params": "paramKind"}
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')
_LITERAL_SPLIT = re.compile(f"({_STRING.pattern})")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_VARIABLE = re.compile(r"(?<![.\w])variables\.([A-Za-z_][A-Za-z0-9_]*)")
_WORD = re.compile(r"(?<![.\w])([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Program:
    expression: str
    where: str
    compiled: Any


@cache
def compile_expression(expression: str, where: str) -> Program:
    """A compiled expression; UnsupportedPolicy names the function or variable it cannot evaluate."""
    code = _STRING.sub("''", expression)
    unsupported = sorted(set(_CALL.findall(code)) - SUPPORTED_FUNCTIONS - {"in"})  # `x in (list)` is no call
    if unsupported:
        raise UnsupportedPolicy(
            f"{where}: CEL function(s) {', '.join(unsupported)} are not evaluated by the model (standard CEL "
            "only, not the Kubernetes extension libraries); write the expression with standard functions or "
            "extend verification/models/admission/cel.py"
        )
    for name, why in UNSUPPORTED_VARIABLES.items():
        if name in _WORD.findall(code):
            raise UnsupportedPolicy(f"{where}: the variable {name!r} is not modelled ({why})")
    try:
        compiled = cel.compile(expression)
    except ValueError as exc:
        # The parser's message quotes the whole expression again: keep the position, not the echo.
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        syntax = re.search(r"ERROR: <input>:(\d+:\d+): ([^:]+)", first)
        reason = f"at {syntax[1]}: {syntax[2]}" if syntax else first[:120]
        shown = expression if len(expression) <= 80 else expression[:77] + "..."
        raise UnsupportedPolicy(f"{where}: CEL the model cannot parse ({reason}): {shown!r}") from None
    return Program(expression, where, compiled)


class _EvaluationError(Exception):
    pass


def _evaluate(program: Program, context: Any) -> Any:
    try:
        return program.compiled.execute(context)
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        if "Undefined variable or function" in str(exc):
            raise UnsupportedPolicy(f"{program.where}: {exc}") from None
        raise _EvaluationError(f"{type(exc).__name__}: {exc}") from None


# --- matching -------------------------------------------------------------------------------------


def _listed(values: Iterable[str] | None, value: str) -> bool:
    values = list(values or [])
    return value in values or "*" in values


def _resource_listed(resources: Iterable[str], resource: str, subresource: str) -> bool:
    wanted = (f"{resource}/{subresource}", f"*/{subresource}", f"{resource}/*") if subresource else ("*", resource)
    return any(entry == "*/*" or entry in wanted for entry in resources)


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


def match_gap(match: Mapping[str, Any] | None, request: AdmissionRequest, where: str, *, policy: bool) -> str | None:
    """Why matchConstraints (policy=True) or a binding's matchResources skip the request; None: they match."""
    field = "matchConstraints" if policy else "matchResources"
    if match is None:
        return f"{where}: no {field} (the API server requires them)" if policy else None
    namespace_selector = match.get("namespaceSelector") or {}
    if request.namespace:
        labels = {**request.namespace_labels, "kubernetes.io/metadata.name": request.namespace}
        if not selectors.matches(namespace_selector, labels, f"{where}: namespaceSelector"):
            return f"{where}: {field}.namespaceSelector skips namespace {request.namespace}"
    elif request.kind == "Namespace" and not selectors.matches(
        namespace_selector, _labels(request.object), f"{where}: namespaceSelector"
    ):
        return f"{where}: {field}.namespaceSelector skips namespace {request.name}"
    subject = request.old_object if request.operation == "DELETE" else request.object
    if not selectors.matches(match.get("objectSelector") or {}, _labels(subject), f"{where}: objectSelector"):
        return f"{where}: {field}.objectSelector skips the object by its labels"
    rules = match.get("resourceRules") or []
    what = f"{request.resource} {request.operation}" + (f" named {request.name}" if request.name else "")
    if (policy or rules) and not any(rule_matches(r, request) for r in rules):
        return f"{where}: {field}.resourceRules do not cover {what}"
    if any(rule_matches(r, request) for r in match.get("excludeResourceRules") or []):
        return f"{where}: {field}.excludeResourceRules exclude {what}"
    return None


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

    def program(self, expression: str, label: str) -> Program:
        """The expression with the policy's variables inlined, compiled (cached)."""
        programs: dict[tuple[str, str], Program] = self.__dict__.setdefault("_programs", {})
        found = programs.get((expression, label))
        if found is None:  # a decision asks for every expression: the lookup itself is kept cheap
            definitions = tuple(
                (str(v.get("name")), str(v.get("expression", ""))) for v in self.spec.get("variables") or []
            )
            found = programs[(expression, label)] = _policy_program(expression, definitions, f"{self.where}: {label}")
        return found

    def check_supported(self) -> None:
        if self.spec.get("paramKind"):
            raise UnsupportedPolicy(f"{self.where}: paramKind is not modelled (the platform's policies take none)")
        for kind in ("matchConditions", "variables", "validations"):
            for i, entry in enumerate(self.spec.get(kind) or []):
                self.program(str(entry.get("expression", "")), f"{kind}[{i}]")
                if entry.get("messageExpression"):
                    self.program(entry["messageExpression"], f"{kind}[{i}].messageExpression")


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
        context = None
        for binding in self.bindings:
            policy = self.policies.get(binding.policy)
            if policy is None:
                continue  # the API server ignores a binding to a missing policy
            if not _matches(policy, binding, request):
                continue
            if context is None:
                context = cel.Context(_activation(request))  # converted once per request
            violations += _validate(policy, binding, request, context, matched=True)
        return Decision(request, tuple(violations))

    def explain(self, request: AdmissionRequest, only: Iterable[str] | None = None) -> list[str]:
        """Why no binding denies the request: one reason per binding (and per unbound policy);
        `only` limits it to the policies of that name (and bindings to them or to none)."""
        reasons = []
        bound = {b.policy for b in self.bindings}
        wanted = set(only) if only is not None else set(self.policies) | bound
        for name, unbound in self.policies.items():
            if name in wanted and name not in bound:
                reasons.append(f"{unbound.where}: no {BINDING} names it (a policy without a binding enforces nothing)")
        for binding in self.bindings:
            where = f"{binding.source}: {BINDING} {binding.name}"
            policy = self.policies.get(binding.policy)
            if policy is not None and policy.name not in wanted:
                continue
            if policy is None:
                reasons.append(f"{where}: names {POLICY} {binding.policy!r}, which does not exist")
                continue
            gap = match_gap(policy.spec.get("matchConstraints"), request, policy.where, policy=True)
            gap = gap or match_gap(binding.match, request, where, policy=False)
            if gap:
                reasons.append(gap)
                continue
            found = _validate(policy, binding, request)
            if not found:
                reasons.append(
                    f"{policy.where}: its matchConditions skip {request.user} or every validation admits the object"
                )
            elif "Deny" not in binding.actions:
                actions = list(binding.actions)
                reasons.append(f"{where}: validationActions {actions} do not include Deny (Warn and Audit only report)")
        return reasons


def _activation(request: AdmissionRequest) -> dict[str, Any]:
    namespace_object = None
    if request.namespace:
        labels = {**request.namespace_labels, "kubernetes.io/metadata.name": request.namespace}
        namespace_object = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": request.namespace, "labels": labels},
        }
    return {
        "object": _without_source(request.object) if request.object else None,
        "oldObject": _without_source(request.old_object) if request.old_object else None,
        "request": request.cel_request(),
        "namespaceObject": namespace_object,
    }


def _without_source(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object as the API server has it: without the loader's source annotation. Shallow (the
    activation is only read), so a decision does not copy the whole object."""
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    if SOURCE_ANNOTATION not in annotations:
        return obj
    kept = {k: v for k, v in annotations.items() if k != SOURCE_ANNOTATION}
    trimmed = {k: v for k, v in metadata.items() if k != "annotations"}
    return {**obj, "metadata": {**trimmed, "annotations": kept} if kept else trimmed}


@cache
def _policy_program(expression: str, definitions: tuple[tuple[str, str], ...], where: str) -> Program:
    return compile_expression(_expand(expression, dict(definitions), where), where)


def _expand(expression: str, definitions: Mapping[str, str], where: str, seen: tuple[str, ...] = ()) -> str:
    """`variables.NAME` replaced by its definition, in parentheses (outside string literals). The
    API server evaluates a variable lazily, when read: inlining gives the same results and errors
    (an expression that does not read a failing variable does not fail)."""

    def inline(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in definitions:
            return match.group(0)  # an error at evaluation, as in the API server
        if name in seen:
            raise UnsupportedPolicy(f"{where}: variables {' -> '.join((*seen, name))} read each other")
        return "(" + _expand(definitions[name], definitions, where, (*seen, name)) + ")"

    # Code and string literals alternate: the literals (odd pieces) are kept as written.
    pieces = _LITERAL_SPLIT.split(expression)
    return "".join(text if i % 2 else _VARIABLE.sub(inline, text) for i, text in enumerate(pieces))


def _matches(policy: Policy, binding: Binding, request: AdmissionRequest) -> bool:
    where = f"{binding.source}: {BINDING} {binding.name}"
    return match_gap(policy.spec.get("matchConstraints"), request, policy.where, policy=True) is None and (
        match_gap(binding.match, request, where, policy=False) is None
    )


def _validate(
    policy: Policy, binding: Binding, request: AdmissionRequest, context: Any = None, *, matched: bool = False
) -> list[Violation]:
    """The violations of one binding; `matched`: the caller has already checked that it matches."""
    spec = policy.spec
    if not matched and not _matches(policy, binding, request):
        return []
    context = context if context is not None else cel.Context(_activation(request))

    def violation(index: int, message: str) -> Violation:
        return Violation(policy.name, binding.name, index, message, binding.actions)

    for i, condition in enumerate(spec.get("matchConditions") or []):
        program = policy.program(condition["expression"], f"matchConditions[{i}]")
        try:
            matched = _evaluate(program, context) is True
        except _EvaluationError as exc:
            if policy.failure_policy == "Ignore":
                return []
            return [violation(-1, f"failed to evaluate matchCondition {condition.get('name')!r}: {exc}")]
        if not matched:
            return []
    found = []
    for i, validation in enumerate(spec.get("validations") or []):
        expression = validation["expression"]
        program = policy.program(expression, f"validations[{i}]")
        try:
            ok = _evaluate(program, context)
        except _EvaluationError as exc:
            if policy.failure_policy != "Ignore":
                found.append(violation(i, f"expression '{expression}' resulted in error: {exc}"))
            continue
        if ok is not True:
            found.append(violation(i, _message(policy, validation, i, context)))
    return found


def _message(policy: Policy, validation: Mapping[str, Any], index: int, context: Any) -> str:
    if validation.get("messageExpression"):
        program = policy.program(validation["messageExpression"], f"validations[{index}].messageExpression")
        try:
            text = str(_evaluate(program, context)).strip()
            if text and "\n" not in text:
                return text
        except _EvaluationError:
            pass  # the API server falls back to message
    if validation.get("message"):
        return " ".join(str(validation["message"]).split())
    return f"failed expression: {validation['expression']}"


def server_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """The defaulting of a pod spec the policies' decisions depend on: serviceAccount is the
    deprecated alias of serviceAccountName; core/v1 conversion takes serviceAccountName (or, when
    empty, serviceAccount) and writes it back to both fields; a bare Pod without either runs as
    `default`. (The plugin's token volume for Pods is not added: it only ever adds a denial after
    the token rule's, so the first denial, the one the API server reports, is unchanged.)"""
    for spec in pod_specs(obj):
        account = spec.get("serviceAccountName") or spec.get("serviceAccount")
        if not account and obj.get("kind") == "Pod":
            account = "default"  # the ServiceAccount admission plugin, before validation (Pods only)
        if account:
            spec["serviceAccountName"] = spec["serviceAccount"] = account
    return obj


# Where each pod-producing kind keeps its pod spec (the kinds a workload controller turns into pods).
POD_SPEC_PATHS = {"Pod": ("spec",)} | {
    kind: (*path, "spec") for kind, path in TEMPLATE_PATHS.items() if kind != "PodTemplate"
}


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    path = POD_SPEC_PATHS.get(str(obj.get("kind")))
    node: Any = obj
    for key in path or ():
        node = node.get(key) if isinstance(node, dict) else None
    return [node] if path and isinstance(node, dict) else []
