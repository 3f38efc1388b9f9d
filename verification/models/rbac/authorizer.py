"""The RBAC authorizer of Kubernetes, computed from manifests.

Same semantics as kube-apiserver's RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go,
pkg/registry/rbac/validation/rule.go, pkg/apis/rbac/v1/evaluation_helpers.go) and the
clusterrole-aggregation controller:
- ClusterRoleBindings always apply; RoleBindings only for requests in their own namespace (a
  RoleBinding to a ClusterRole grants that ClusterRole's rules in the binding's namespace only);
  a request without a namespace (cluster-wide) is decided by ClusterRoleBindings alone.
- subjects: User by name, Group by membership, ServiceAccount by the user name
  `system:serviceaccount:NS:NAME` (NS defaults to the RoleBinding's namespace).
- a rule matches when verb, apiGroup, resource (`*`, exact `res/sub`, or `*/sub`) and
  resourceNames (empty = any; else the request must name one of them) all match; non-resource
  URLs match `*`, exactly, or by prefix when the rule ends in `*`.
  `pods/*` is NOT a wildcard in Kubernetes (deliberately: liggitt in kubernetes/kubernetes#78936
  and kubernetes/enhancements#4961); it only matches the literal resource `pods/*`.
- a ClusterRole with an aggregationRule holds exactly the union of the rules of the other
  ClusterRoles its selectors match (its own `rules` are overwritten by the controller); nested
  aggregation (admin > edit > view) converges to a fixpoint, computed here directly.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from verification.errors import UserError
from verification.models import selectors
from verification.models.rbac.defaults import DEFAULT_OBJECTS, DEFAULTS_SOURCE
from verification.models.rbac.resources import ResourceCatalog
from verification.yamlio import only_fields, source_of

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
SA_PREFIX = "system:serviceaccount:"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
ALL = "*"


# ---------------------------------------------------------------------------------------------
# identities


def service_account_user(namespace: str, name: str) -> str:
    return f"{SA_PREFIX}{namespace}:{name}"


def split_service_account(user: str) -> tuple[str, str] | None:
    """(namespace, name) of a service-account user name, else None."""
    if not user.startswith(SA_PREFIX):
        return None
    parts = user[len(SA_PREFIX) :].split(":")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def impersonated_groups(user: str, groups: Iterable[str] = ()) -> tuple[str, ...]:
    """The groups kube-apiserver gives `--as USER [--as-group G ...]` (filters/impersonation.go).

    A service account gets `system:serviceaccounts` and `system:serviceaccounts:NS` only when no
    group is given (as in Kubernetes); every user but `system:anonymous` gets
    `system:authenticated` unless it asked for `system:(un)authenticated` itself.
    """
    result = list(dict.fromkeys(groups))
    sa = split_service_account(user)
    if sa and not result:
        result = ["system:serviceaccounts", f"system:serviceaccounts:{sa[0]}"]
    if user == ANONYMOUS:
        if UNAUTHENTICATED not in result:
            result.append(UNAUTHENTICATED)
    elif AUTHENTICATED not in result and UNAUTHENTICATED not in result:
        result.append(AUTHENTICATED)
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# requests and rules


@dataclass(frozen=True)
class Request:
    """What SubjectAccessReview asks: who (user, groups as given) wants to do what, where."""

    user: str
    groups: tuple[str, ...] = ()
    verb: str = "get"
    resource: str = ""
    subresource: str = ""
    api_group: str = ""
    namespace: str = ""  # "" = cluster-wide
    name: str = ""
    path: str = ""  # non-resource URL, e.g. /metrics; set instead of resource

    @property
    def is_resource_request(self) -> bool:
        return not self.path

    def subject_access_review(self) -> dict[str, Any]:
        """The SubjectAccessReview that asks a live cluster the same question (for e2e)."""
        spec: dict[str, Any] = {"user": self.user, "groups": list(self.groups)}
        if self.is_resource_request:
            attributes = {
                "verb": self.verb,
                "group": self.api_group,
                "resource": self.resource,
                "subresource": self.subresource,
                "namespace": self.namespace,
                "name": self.name,
            }
            spec["resourceAttributes"] = {k: v for k, v in attributes.items() if v}
        else:
            spec["nonResourceAttributes"] = {"verb": self.verb, "path": self.path}
        return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}

    def describe(self) -> str:
        if not self.is_resource_request:
            return f"{self.verb} {self.path}"
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        if self.api_group:
            what += f".{self.api_group}"
        if self.name:
            what += f" named {self.name!r}"
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {what} {where}"


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    def allows(self, request: Request, *, any_name: bool = False) -> bool:
        """RuleAllows; `any_name` asks "for at least one object name" (resourceNames ignored)."""
        if not self.verb_matches(request.verb):
            return False
        if not request.is_resource_request:
            return self.url_matches(request.path)
        return (
            self.group_matches(request.api_group)
            and self.resource_matches(request.resource, request.subresource)
            and (any_name or self.name_matches(request.name))
        )

    def verb_matches(self, verb: str) -> bool:
        return ALL in self.verbs or verb in self.verbs

    def group_matches(self, group: str) -> bool:
        return ALL in self.api_groups or group in self.api_groups

    def resource_matches(self, resource: str, subresource: str) -> bool:
        combined = f"{resource}/{subresource}" if subresource else resource
        return any(r in (ALL, combined) or (subresource and r == f"*/{subresource}") for r in self.resources)

    def name_matches(self, name: str) -> bool:
        return not self.resource_names or name in self.resource_names

    def url_matches(self, path: str) -> bool:
        return any(
            u in (ALL, path) or (u.endswith("*") and path.startswith(u.rstrip("*"))) for u in self.non_resource_urls
        )

    @property
    def has_wildcard(self) -> bool:
        return any(ALL in values for values in (self.verbs, self.api_groups, self.resources, self.non_resource_urls))

    def describe(self) -> str:
        fields = {
            "apiGroups": self.api_groups,
            "resources": self.resources,
            "nonResourceURLs": self.non_resource_urls,
            "resourceNames": self.resource_names,
            "verbs": self.verbs,
        }
        parts = [f"{k}: [{', '.join(repr(v) if v in ('', '*') else v for v in vs)}]" for k, vs in fields.items() if vs]
        return "{" + "; ".join(parts) + "}"


# ---------------------------------------------------------------------------------------------
# roles and bindings


@dataclass(frozen=True)
class Role:
    kind: str  # Role | ClusterRole
    name: str
    namespace: str
    rules: tuple[Rule, ...]
    labels: tuple[tuple[str, str], ...] = ()
    # aggregationRule.clusterRoleSelectors; mappings are unhashable, and identity is kind/namespace/name
    selectors: tuple[Mapping[str, Any], ...] | None = field(default=None, compare=False)
    source: str = "<inline>"

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Subject:
    kind: str  # User | Group | ServiceAccount
    name: str
    namespace: str = ""

    def applies_to(self, user: str, groups: Sequence[str], binding_namespace: str) -> bool:
        if self.kind == "User":
            return user == self.name
        if self.kind == "Group":
            return self.name in groups
        if self.kind == "ServiceAccount":
            namespace = self.namespace or binding_namespace
            return bool(namespace) and user == service_account_user(namespace, self.name)
        return False

    def describe(self, binding_namespace: str = "") -> str:
        if self.kind == "ServiceAccount":
            return f"ServiceAccount {self.namespace or binding_namespace or '?'}/{self.name}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Binding:
    kind: str  # RoleBinding | ClusterRoleBinding
    name: str
    namespace: str
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]
    source: str = "<inline>"

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def role_ref(self) -> str:
        if self.role_kind == "Role":
            return f"Role {self.namespace}/{self.role_name}"
        return f"ClusterRole {self.role_name}"


@dataclass(frozen=True)
class Grant:
    """One rule reaching an identity: through which binding, subject and role, defined where."""

    binding: Binding
    subject: Subject
    rule: Rule
    origin: Role  # the role whose `rules` hold this rule (an aggregated role's member)

    def describe(self) -> str:
        via = self.binding.role_ref
        if (self.origin.kind, self.origin.name) != (self.binding.role_kind, self.binding.role_name):
            via += f" (aggregates {self.origin.ref})"
        return (
            f"{self.binding.ref} [{self.binding.source}] binds {self.subject.describe(self.binding.namespace)} "
            f"to {via}: rule {self.rule.describe()} [{self.origin.source}]"
        )


# ---------------------------------------------------------------------------------------------
# the authorizer


@dataclass
class Authorizer:
    """Effective permissions of a set of RBAC objects (plus Kubernetes' defaults unless told not).

    Answers are cached: treat `roles` and `bindings` as frozen once a question has been asked.
    """

    roles: list[Role] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    catalog: ResourceCatalog = field(default_factory=ResourceCatalog)
    _cache: dict[tuple[str, tuple[str, ...], str], list[Grant]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_objects(cls, objects: Iterable[dict[str, Any]], *, defaults: bool = True) -> "Authorizer":
        objects = list(objects)
        roles, bindings = parse_objects(objects)
        if defaults:
            own = {(r.kind, r.namespace, r.name) for r in roles}
            own_bindings = {(b.kind, b.namespace, b.name) for b in bindings}
            default_roles, default_bindings = parse_objects(DEFAULT_OBJECTS, DEFAULTS_SOURCE)
            # an object in the manifests replaces the default of the same name, as `kubectl apply` would
            roles += [r for r in default_roles if (r.kind, r.namespace, r.name) not in own]
            bindings += [b for b in default_bindings if (b.kind, b.namespace, b.name) not in own_bindings]
        return cls(roles, bindings, ResourceCatalog.with_crds(objects))

    # -- role resolution ---------------------------------------------------------------------

    @cached_property
    def _roles_by_key(self) -> dict[tuple[str, str, str], Role]:
        found: dict[tuple[str, str, str], Role] = {}
        for role in self.roles:
            key = (role.kind, role.namespace, role.name)
            if key in found:
                raise UserError(f"{role.source}: {role.ref} is defined twice (also in {found[key].source})")
            found[key] = role
        return found

    @cached_property
    def _effective_cluster_rules(self) -> dict[str, tuple[tuple[Rule, Role], ...]]:
        """Every ClusterRole's rules after aggregation, each with the role that defines it."""
        cluster_roles = [r for key, r in self._roles_by_key.items() if key[0] == "ClusterRole"]  # duplicates raise
        rules: dict[str, tuple[tuple[Rule, Role], ...]] = {
            r.name: (() if r.selectors is not None else tuple((rule, r) for rule in r.rules)) for r in cluster_roles
        }
        changed = True
        while changed:  # monotone union over a finite set of rules: terminates
            changed = False
            for role in cluster_roles:
                if role.selectors is None:
                    continue
                union: dict[Rule, Role] = {}
                for selector in role.selectors:
                    for other in cluster_roles:
                        if other.name != role.name and selector_matches(selector, dict(other.labels), role):
                            for rule, origin in rules[other.name]:
                                union.setdefault(rule, origin)
                merged = tuple(sorted(union.items(), key=lambda item: (item[1].name, repr(item[0]))))
                if set(merged) != set(rules[role.name]):
                    rules[role.name] = merged
                    changed = True
        return rules

    def role_rules(self, kind: str, name: str, namespace: str) -> tuple[tuple[Rule, Role], ...]:
        """GetRoleReferenceRules: a missing role grants nothing."""
        if kind == "ClusterRole":
            return self._effective_cluster_rules.get(name, ())
        role = self._roles_by_key.get(("Role", namespace, name))
        return tuple((rule, role) for rule in role.rules) if role else ()

    def role_exists(self, kind: str, name: str, namespace: str = "") -> bool:
        return (kind, namespace if kind == "Role" else "", name) in self._roles_by_key

    # -- decisions ---------------------------------------------------------------------------

    def grants(self, user: str, groups: Sequence[str], namespace: str = "") -> list[Grant]:
        """Every rule that applies to the user in `namespace` ("" = cluster-wide), as RulesFor."""
        key = (user, tuple(groups), namespace)
        if key not in self._cache:
            self._cache[key] = self._grants(user, groups, namespace)
        return self._cache[key]

    @cached_property
    def _bindings_by_scope(self) -> tuple[list[Binding], dict[str, list[Binding]]]:
        """ClusterRoleBindings, and RoleBindings per namespace, each in the order _grants reports them.

        Sorted once: sorting every binding for every question made 5,000 questions on 4,000 bindings
        cost minutes (benchmarks/scale.py).
        """
        ordered = sorted(self.bindings, key=lambda b: (b.kind != "ClusterRoleBinding", b.namespace, b.name))
        by_namespace: dict[str, list[Binding]] = {}
        for binding in ordered:
            if binding.kind != "ClusterRoleBinding":
                by_namespace.setdefault(binding.namespace, []).append(binding)
        return [b for b in ordered if b.kind == "ClusterRoleBinding"], by_namespace

    def _grants(self, user: str, groups: Sequence[str], namespace: str) -> list[Grant]:
        found: list[Grant] = []
        cluster_bindings, by_namespace = self._bindings_by_scope
        # ClusterRoleBindings, then (for a namespaced request) the RoleBindings of that namespace
        for binding in cluster_bindings + (by_namespace.get(namespace, []) if namespace else []):
            binding_ns = "" if binding.kind == "ClusterRoleBinding" else namespace
            subject = next((s for s in binding.subjects if s.applies_to(user, groups, binding_ns)), None)
            if subject is not None:
                rules = self.role_rules(binding.role_kind, binding.role_name, binding.namespace)
                found += [Grant(binding, subject, rule, origin) for rule, origin in rules]
        return found

    def grant_for(self, request: Request, *, any_name: bool = False) -> Grant | None:
        """The first grant allowing the request (explains a yes), or None."""
        for grant in self.grants(request.user, request.groups, request.namespace):
            if grant.rule.allows(request, any_name=any_name):
                return grant
        return None

    def allowed(self, request: Request) -> bool:
        return self.grant_for(request) is not None


# ---------------------------------------------------------------------------------------------
# label selectors (aggregationRule.clusterRoleSelectors)


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str], owner: Role | None = None) -> bool:
    """aggregationRule selector; an unknown operator names the ClusterRole that carries it."""
    return selectors.matches(selector, labels, f"{owner.source}: {owner.ref}" if owner else "label selector")


# ---------------------------------------------------------------------------------------------
# parsing manifests (strict: a typo in an RBAC object must not silently grant or deny)

_RULE_FIELDS = {"verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"}
_SUBJECT_FIELDS = {"kind", "name", "namespace", "apiGroup"}


def parse_objects(
    objects: Iterable[dict[str, Any]], default_source: str = "<inline>"
) -> tuple[list[Role], list[Binding]]:
    roles: list[Role] = []
    bindings: list[Binding] = []
    for obj in objects:
        api_version = str(obj.get("apiVersion", ""))
        kind = obj.get("kind")
        if not api_version.startswith(RBAC_GROUP + "/"):
            continue
        source = source_of(obj) if source_of(obj) != "<unknown>" else default_source
        meta = obj.get("metadata") or {}
        name, namespace = meta.get("name"), meta.get("namespace") or ""
        where = f"{source}: {kind} {namespace + '/' if namespace else ''}{name}"
        if api_version != f"{RBAC_GROUP}/v1":
            raise UserError(f"{where}: apiVersion {api_version} is not served in v1.33; use {RBAC_GROUP}/v1")
        if kind not in RBAC_KINDS:
            raise UserError(f"{source}: unknown kind {kind!r} in {RBAC_GROUP} (known: {', '.join(RBAC_KINDS)})")
        if not name:
            raise UserError(f"{source}: {kind} without metadata.name")
        namespaced = kind in ("Role", "RoleBinding")
        if namespaced and not namespace:
            raise UserError(f"{where}: a {kind} needs metadata.namespace")
        if not namespaced and namespace:
            raise UserError(f"{where}: a {kind} is cluster-scoped; remove metadata.namespace")
        if kind in ("Role", "ClusterRole"):
            roles.append(_parse_role(obj, kind, name, namespace, source, where))
        else:
            bindings.append(_parse_binding(obj, kind, name, namespace, source, where))
    return roles, bindings


def _strings(value: Any, where: str, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{where}: {label} must be a list of strings")
    return tuple(value)


def _parse_rule(raw: Any, where: str, namespaced: bool) -> Rule:
    only_fields(raw, _RULE_FIELDS, where)
    rule = Rule(
        verbs=_strings(raw.get("verbs"), where, "verbs"),
        api_groups=_strings(raw.get("apiGroups"), where, "apiGroups"),
        resources=_strings(raw.get("resources"), where, "resources"),
        resource_names=_strings(raw.get("resourceNames"), where, "resourceNames"),
        non_resource_urls=_strings(raw.get("nonResourceURLs"), where, "nonResourceURLs"),
    )
    # the API server's validation (pkg/apis/rbac/validation)
    if not rule.verbs:
        raise UserError(f"{where}: verbs is required")
    if rule.non_resource_urls:
        if namespaced:
            raise UserError(f"{where}: namespaced rules cannot apply to non-resource URLs")
        if rule.api_groups or rule.resources:
            raise UserError(f"{where}: a rule cannot apply to both resources and non-resource URLs")
        return rule
    if not rule.api_groups:
        raise UserError(f'{where}: apiGroups is required ("" is the core group)')
    if not rule.resources:
        raise UserError(f"{where}: resources is required")
    return rule


def _parse_role(obj: dict[str, Any], kind: str, name: str, namespace: str, source: str, where: str) -> Role:
    raw_rules = obj.get("rules") or []
    if not isinstance(raw_rules, list):
        raise UserError(f"{where}: rules must be a list")
    rules = tuple(_parse_rule(r, f"{where}: rules[{i}]", kind == "Role") for i, r in enumerate(raw_rules))
    selectors = None
    if kind == "ClusterRole" and obj.get("aggregationRule") is not None:
        raw = (obj.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
            raise UserError(f"{where}: aggregationRule.clusterRoleSelectors must be a list of label selectors")
        selectors = tuple(raw)
    elif obj.get("aggregationRule") is not None:
        raise UserError(f"{where}: only a ClusterRole can have an aggregationRule")
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return Role(kind, name, namespace, rules, tuple(sorted((k, str(v)) for k, v in labels.items())), selectors, source)


def _parse_binding(obj: dict[str, Any], kind: str, name: str, namespace: str, source: str, where: str) -> Binding:
    ref = obj.get("roleRef")
    if not isinstance(ref, dict) or not ref.get("name") or not ref.get("kind"):
        raise UserError(f"{where}: roleRef needs kind and name")
    allowed_kinds = ("Role", "ClusterRole") if kind == "RoleBinding" else ("ClusterRole",)
    if ref["kind"] not in allowed_kinds:
        raise UserError(f"{where}: roleRef.kind {ref['kind']!r} not allowed here (use {' or '.join(allowed_kinds)})")
    if ref.get("apiGroup", RBAC_GROUP) != RBAC_GROUP:
        raise UserError(f"{where}: roleRef.apiGroup must be {RBAC_GROUP}")
    subjects = []
    raw_subjects = obj.get("subjects") or []
    if not isinstance(raw_subjects, list):
        raise UserError(f"{where}: subjects must be a list")
    for i, raw in enumerate(raw_subjects):
        at = f"{where}: subjects[{i}]"
        only_fields(raw, _SUBJECT_FIELDS, at)
        subject_kind, subject_name = raw.get("kind"), raw.get("name")
        if subject_kind not in ("User", "Group", "ServiceAccount"):
            raise UserError(f"{at}: unknown subject kind {subject_kind!r} (User, Group, ServiceAccount)")
        if not subject_name:
            raise UserError(f"{at}: name is required")
        if subject_kind == "ServiceAccount" and kind == "ClusterRoleBinding" and not raw.get("namespace"):
            raise UserError(f"{at}: a ServiceAccount subject of a ClusterRoleBinding needs a namespace")
        subjects.append(Subject(subject_kind, subject_name, raw.get("namespace") or ""))
    return Binding(kind, name, namespace, ref["kind"], ref["name"], tuple(subjects), source)
