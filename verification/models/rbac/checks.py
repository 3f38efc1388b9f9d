"""RBAC checks of manifests against platform/intent/permissions.yaml.

Each check returns a list of readable violations (empty: holds), so the conformance suite, the
mutation tests and any CLI share them. Every message names the identity, the request, what was
expected and what the model answered, and the binding, role and source file that decide.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from verification.models.rbac.authorizer import (
    ANONYMOUS,
    AUTHENTICATED,
    UNAUTHENTICATED,
    Authorizer,
    Binding,
    Grant,
    Request,
    Subject,
    impersonated_groups,
    service_account_user,
)
from verification.models.rbac.defaults import DEFAULTS_SOURCE
from verification.models.rbac.intent import Identity, PermissionsIntent
from verification.verdicts.verdict import Row, Verdict
from verification.yamlio import iter_kind, source_of

READ_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class Checked:
    """An identity under test and why: declared in the intent or found as a binding subject."""

    identity: Identity
    origin: str


def _own_bindings(authorizer: Authorizer) -> list[Binding]:
    return [b for b in authorizer.bindings if b.source != DEFAULTS_SOURCE]


def subject_identity(subject: Subject, binding: Binding) -> Identity:
    """A representative user for a binding subject: the SA itself, the user, or a group member."""
    if subject.kind == "ServiceAccount":
        user = service_account_user(subject.namespace or binding.namespace, subject.name)
        return Identity(user, impersonated_groups(user))
    if subject.kind == "Group":
        return Identity(f"(a member of group {subject.name})", impersonated_groups("", [subject.name]))
    return Identity(subject.name, impersonated_groups(subject.name))


def identities_in_scope(authorizer: Authorizer, intent: PermissionsIntent) -> list[Checked]:
    """The intent's identities plus every subject of the platform's bindings, admins excluded."""
    found: dict[Identity, str] = {}
    for declared in intent.identities:
        found.setdefault(declared.identity, f"declared in {intent.source}")
    for binding in _own_bindings(authorizer):
        for subject in binding.subjects:
            identity = subject_identity(subject, binding)
            found.setdefault(identity, f"subject of {binding.ref} [{binding.source}]")
    return [
        Checked(identity, origin)
        for identity, origin in found.items()
        if not intent.admins.includes(identity.user, identity.groups)
    ]


def namespaces_in_scope(authorizer: Authorizer, intent: PermissionsIntent) -> list[str]:
    """ "" (cluster-wide) plus every namespace where a RoleBinding or the intent asks something:
    RoleBindings grant nothing elsewhere, so these are all the places permissions can differ."""
    namespaces = {b.namespace for b in authorizer.bindings if b.kind == "RoleBinding"}
    for declared in intent.identities:
        namespaces |= {r.namespace for r in (*declared.allow, *declared.deny)}
    return sorted(namespaces | {""})


def _reaching(authorizer: Authorizer, request: Request) -> str:
    refs = {
        f"{g.binding.ref} -> {g.binding.role_ref} [{g.binding.source}]"
        for g in authorizer.grants(request.user, request.groups, request.namespace)
        if g.binding.source != DEFAULTS_SOURCE
    }
    return "; bindings reaching it there: " + ", ".join(sorted(refs)) if refs else "; no platform binding reaches it"


def check_intent(authorizer: Authorizer, intent: PermissionsIntent) -> Verdict:
    """Every allow entry is allowed; every deny entry is denied for every object name (deny means
    "for no object": a rule limited by resourceNames still counts). A row per request of the intent."""
    rows = []
    for declared in intent.identities:
        for wanted, requests in (("allow", declared.allow), ("deny", declared.deny)):
            for request in requests:
                grant = authorizer.grant_for(request, any_name=wanted == "deny")
                observed = "allow" if grant else "deny"
                if observed == wanted:
                    cause = ""
                else:
                    cause = f"by {grant.describe()}" if grant else "no rule grants it" + _reaching(authorizer, request)
                rows.append(Row(f"{declared.identity.describe()}: {request.describe()}", wanted, observed, cause))
    return Verdict(f"the RBAC model against {intent.source}", rows=rows)


@dataclass(frozen=True)
class Expectation:
    """One question for a live cluster: the intent's answer and the model's (e2e compares SAR to both)."""

    request: Request
    intended: bool
    modelled: bool


def expectations(authorizer: Authorizer, intent: PermissionsIntent) -> list[Expectation]:
    """Every request of the intent, as a SubjectAccessReview would ask it (exact name, no "any name")."""
    return [
        Expectation(request, intended, authorizer.allowed(request))
        for declared in intent.identities
        for intended, requests in ((True, declared.allow), (False, declared.deny))
        for request in requests
    ]


def check_prohibited(authorizer: Authorizer, intent: PermissionsIntent) -> list[str]:
    """No identity but admins holds a prohibited permission, anywhere, for any object name, except
    where the intent's `exemptions` allow that identity that permission in that namespace."""
    violations = []
    namespaces = namespaces_in_scope(authorizer, intent)
    for checked in identities_in_scope(authorizer, intent):
        identity = checked.identity
        for prohibition in intent.prohibited:
            for template in prohibition.requests:
                for namespace in namespaces:
                    if any(e.covers(identity.user, prohibition.name, namespace) for e in intent.exemptions):
                        continue
                    request = replace(template, user=identity.user, groups=identity.groups, namespace=namespace)
                    grant = authorizer.grant_for(request, any_name=True)
                    if grant:
                        violations.append(
                            f"{identity.describe()} ({checked.origin}): prohibited '{prohibition.name}': "
                            f"{request.describe()} is allowed by {grant.describe()}"
                        )
                        break  # one namespace is enough to name the cause
    return violations


def check_wildcards(authorizer: Authorizer, intent: PermissionsIntent) -> list[str]:
    """Wildcard verbs, resources, apiGroups or URLs: only in admin roles, and only reaching admins."""
    violations = []
    for role in authorizer.roles:
        if role.source == DEFAULTS_SOURCE or role.name in intent.admins.roles:
            continue
        for rule in role.rules:
            if rule.has_wildcard:
                violations.append(
                    f"{role.ref} [{role.source}]: wildcard rule {rule.describe()} "
                    f"(only admin roles of {intent.source} may hold '*')"
                )
    for checked in identities_in_scope(authorizer, intent):
        violations += [
            f"{checked.identity.describe()} ({checked.origin}) is not an admin but holds a wildcard rule: "
            f"{grant.describe()}"
            for grant in _grants_in_scope(authorizer, intent, checked.identity)
            if grant.rule.has_wildcard
        ]
    return violations


def _grants_in_scope(authorizer: Authorizer, intent: PermissionsIntent, identity: Identity) -> list[Grant]:
    """Every distinct grant reaching `identity` in a namespace of interest, cluster-wide included."""
    namespaces = namespaces_in_scope(authorizer, intent)
    return list(dict.fromkeys(g for ns in namespaces for g in authorizer.grants(identity.user, identity.groups, ns)))


_BROAD_SUBJECTS = {
    ("Group", AUTHENTICATED): "every authenticated user",
    ("Group", UNAUTHENTICATED): "every anonymous request",
    ("Group", "system:serviceaccounts"): "every service account of the cluster",
    ("User", ANONYMOUS): "every anonymous request",
    ("ServiceAccount", "default"): "the `default` service account that every pod without serviceAccountName mounts",
}


def check_binding_subjects(authorizer: Authorizer) -> list[str]:
    """No binding to everyone, to anonymous, or to a namespace's `default` service account."""
    violations = []
    for binding in _own_bindings(authorizer):
        for subject in binding.subjects:
            cause = _BROAD_SUBJECTS.get((subject.kind, subject.name))
            if subject.kind == "Group" and subject.name.startswith("system:serviceaccounts:"):
                cause = "every service account of the namespace, including `default` that every pod may mount"
            if cause:
                violations.append(
                    f"{binding.ref} [{binding.source}] binds {subject.describe(binding.namespace)} "
                    f"to {binding.role_ref}: that grants it to {cause}"
                )
    return violations


def check_role_refs(authorizer: Authorizer) -> list[str]:
    """A binding to a missing role grants nothing today and whatever someone creates tomorrow."""
    return [
        f"{b.ref} [{b.source}] refers to {b.role_ref}, which is neither in the manifests nor a Kubernetes default"
        for b in _own_bindings(authorizer)
        if not authorizer.role_exists(b.role_kind, b.role_name, b.namespace)
    ]


def check_read_only(authorizer: Authorizer, intent: PermissionsIntent) -> list[str]:
    """A `readOnly: true` identity gets only get/list/watch from the platform's bindings."""
    return [
        f"{declared.identity.describe()} is read-only but gets verbs {', '.join(mutating)} from {grant.describe()}"
        for declared in intent.identities
        if declared.read_only
        for grant in _grants_in_scope(authorizer, intent, declared.identity)
        if grant.binding.source != DEFAULTS_SOURCE and (mutating := sorted(set(grant.rule.verbs) - READ_VERBS))
    ]


def check_runtime_service_accounts(
    objects: Iterable[dict[str, Any]], authorizer: Authorizer, intent: PermissionsIntent
) -> list[str]:
    """App runtime accounts exist, do not automount a token, and are bound to nothing."""
    accounts = {
        ((o.get("metadata") or {}).get("namespace", ""), (o.get("metadata") or {}).get("name", "")): o
        for o in iter_kind(objects, "ServiceAccount")
    }
    violations = []
    for namespace, name in intent.runtime_service_accounts:
        obj = accounts.get((namespace, name))
        if obj is None:
            violations.append(f"ServiceAccount {namespace}/{name} (runtime, {intent.source}) is not in the manifests")
            continue
        if obj.get("automountServiceAccountToken") is not False:
            violations.append(
                f"ServiceAccount {namespace}/{name} [{source_of(obj)}]: runtime accounts need "
                "automountServiceAccountToken: false"
            )
        user = service_account_user(namespace, name)
        for binding in _own_bindings(authorizer):
            if any(s.applies_to(user, (), binding.namespace) for s in binding.subjects if s.kind != "Group"):
                violations.append(
                    f"ServiceAccount {namespace}/{name} is an app runtime account but {binding.ref} "
                    f"[{binding.source}] binds it to {binding.role_ref}"
                )
    return violations


def all_violations(
    objects: list[dict[str, Any]], authorizer: Authorizer, intent: PermissionsIntent
) -> dict[str, list[str]]:
    """Every check by name (for mutation tests and summaries)."""
    return {
        "intent": check_intent(authorizer, intent).problems(),
        "prohibited": check_prohibited(authorizer, intent),
        "wildcards": check_wildcards(authorizer, intent),
        "binding subjects": check_binding_subjects(authorizer),
        "role references": check_role_refs(authorizer),
        "read-only": check_read_only(authorizer, intent),
        "runtime service accounts": check_runtime_service_accounts(objects, authorizer, intent),
    }
