"""Before the suite touches a cluster it did not create: the context exists, answers, and allows
everything the stack deploy and the live tests do. Each failure is one line (UserError, exit 2).

The permissions are data (REQUIRED), derived from what verification/e2e/stack.py applies
(platform/manifests, the pinned CRDs, helm releases of the apps) and what the live tests do
(throw-away namespaces, pods/exec, pods/log, the pods' proxy for fault injection, impersonation
for the RBAC probes, nodes for the spread checks). They are asked with one batch of
SelfSubjectAccessReviews (`kubectl create -f -` of a List), so the answer names every missing
verb, resource and namespace at once instead of failing midway through a deploy.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification import yamlio
from verification.cluster.cluster import Cluster
from verification.errors import CommandError, UserError

# Namespaces the stack deploys into (verification.e2e.stack.NAMESPACES) and a stand-in for the
# tests' throw-away ones (e2e-<test>-<random>: RBAC has no wildcard namespace, so a grant that
# covers this one is cluster-wide and covers them all).
STACK_NAMESPACES = ("test", "staging", "monitoring", "argocd", "ingress-nginx")
THROWAWAY_NAMESPACE = "e2e-preflight"
WRITE = ("get", "list", "create", "patch", "delete")  # server-side apply patches; teardown deletes
REACH_SECONDS = 10  # kubectl's --request-timeout for the reachability question


@dataclass(frozen=True, order=True)
class Access:
    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    namespace: str = ""  # "" = cluster-scoped

    def what(self) -> str:
        name = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{name}/{self.subresource}" if self.subresource else name


Rule = tuple[str, str, str, tuple[str, ...]]  # (group, resource, subresource, verbs)


def _write(group: str, *resources: str) -> tuple[Rule, ...]:
    return tuple((group, resource, "", WRITE) for resource in resources)


_RBAC = "rbac.authorization.k8s.io"
# Cluster-scoped objects.
_CLUSTER: tuple[Rule, ...] = (
    *_write("", "namespaces"),
    *_write("apiextensions.k8s.io", "customresourcedefinitions"),
    (_RBAC, "clusterroles", "", (*WRITE, "bind", "escalate")),
    *_write(_RBAC, "clusterrolebindings"),
    *_write("admissionregistration.k8s.io", "validatingadmissionpolicies", "validatingadmissionpolicybindings"),
    *_write("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    *_write("networking.k8s.io", "ingressclasses"),
    ("", "nodes", "", ("get", "list")),
    *(("", kind, "", ("impersonate",)) for kind in ("users", "groups", "serviceaccounts")),
)
# In every namespace of the stack and the tests.
_NAMESPACED: tuple[Rule, ...] = (
    *_write("", "pods", "services", "configmaps", "secrets", "serviceaccounts", "resourcequotas", "limitranges"),
    ("", "pods", "exec", ("create",)),
    ("", "pods", "log", ("get",)),
    ("", "pods", "proxy", ("create", "update", "delete")),
    ("", "endpoints", "", ("get", "list")),
    ("", "events", "", ("list",)),
    ("apps", "deployments", "", (*WRITE, "update")),
    *_write("apps", "statefulsets"),
    ("apps", "replicasets", "", ("get", "list")),
    *_write("policy", "poddisruptionbudgets"),
    *_write("networking.k8s.io", "networkpolicies", "ingresses"),
    (_RBAC, "roles", "", (*WRITE, "bind", "escalate")),
    *_write(_RBAC, "rolebindings"),
    *_write("monitoring.coreos.com", "prometheuses", "alertmanagers", "prometheusrules", "servicemonitors"),
    *_write("monitoring.coreos.com", "scrapeconfigs"),
    *_write("argoproj.io", "applications", "appprojects"),
)


def required(namespaces: Iterable[str] = (*STACK_NAMESPACES, THROWAWAY_NAMESPACE)) -> list[Access]:
    """Every (verb, resource, namespace) the suite needs, cluster-scoped first."""
    needed = [Access(v, r, g, s) for g, r, s, verbs in _CLUSTER for v in verbs]
    needed += [Access(v, r, g, s, ns) for ns in namespaces for g, r, s, verbs in _NAMESPACED for v in verbs]
    return needed


def review(access: Access) -> dict[str, Any]:
    """The SelfSubjectAccessReview asking for `access`."""
    attributes = {"verb": access.verb, "resource": access.resource, "group": access.group}
    if access.subresource:
        attributes["subresource"] = access.subresource
    if access.namespace:
        attributes["namespace"] = access.namespace
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }


def documents(text: str) -> list[dict[str, Any]]:
    """The reviews `kubectl create -f - -o json` printed. kubectl (measured: v1.33.6) prints each
    created item of a List as a JSON object of its own, one after the other; a List is read too."""
    decoder, at = json.JSONDecoder(), _skip_space(text, 0)
    found: list[dict[str, Any]] = []
    while at < len(text):
        try:
            obj, at = decoder.raw_decode(text, at)
        except ValueError:
            raise UserError(f"SelfSubjectAccessReview: kubectl printed no JSON object at character {at}") from None
        found += (obj.get("items") or []) if isinstance(obj, dict) and obj.get("kind") == "List" else [obj]
        at = _skip_space(text, at)
    return found


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def answers(asked: list[Access], replies: list[dict[str, Any]]) -> dict[Access, bool]:
    """Pair each asked Access with `status.allowed` of the review that echoes its attributes."""
    if len(replies) != len(asked):
        raise UserError(f"SelfSubjectAccessReview: asked {len(asked)} questions, got {len(replies)} answers")
    allowed = {}
    for reply in replies:
        attributes = ((reply.get("spec") or {}).get("resourceAttributes") or {}) if isinstance(reply, dict) else {}
        key = tuple(str(attributes.get(k) or "") for k in ("verb", "resource", "group", "subresource", "namespace"))
        allowed[key] = bool((reply.get("status") or {}).get("allowed")) if isinstance(reply, dict) else False
    pairs = {a: (a.verb, a.resource, a.group, a.subresource, a.namespace) for a in asked}
    if unanswered := [a for a, key in pairs.items() if key not in allowed]:
        raise UserError(f"SelfSubjectAccessReview: no answer for {unanswered[0].verb} {unanswered[0].what()}")
    return {a: allowed[key] for a, key in pairs.items()}


def missing(answered: Mapping[Access, bool]) -> list[Access]:
    return sorted(a for a, allowed in answered.items() if not allowed)


def summary(lacking: Iterable[Access]) -> str:
    """`verb,verb resource (cluster|in ns,ns); ...`: verbs grouped per resource and namespace set."""
    verbs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in lacking:
        if a.verb not in verbs[(a.what(), a.namespace)]:
            verbs[(a.what(), a.namespace)].append(a.verb)
    by_verbs: dict[tuple[str, str], list[str]] = defaultdict(list)  # (verbs, what) -> namespaces
    for (what, namespace), denied in verbs.items():
        by_verbs[(",".join(denied), what)].append(namespace)
    parts = []
    for (joined, what), namespaces in sorted(by_verbs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        where = "cluster-wide" if namespaces == [""] else "in " + ",".join(sorted(n for n in namespaces if n))
        parts.append(f"{joined} {what} {where}")
    return "; ".join(parts)


def refusal(context: str, lacking: list[Access]) -> str:
    count = len(lacking)
    return f"context {context!r} lacks {count} permission{'s' * (count != 1)} the suite needs: {summary(lacking)}"


# --- the context: present in the kubeconfig, answering ------------------------------------------


def context_of(kubeconfig: Path, context: str | None) -> str:
    """The context to use: `context` if the kubeconfig has it, else its current-context."""
    if not kubeconfig.is_file():
        raise UserError(f"--kubeconfig {kubeconfig}: file not found")
    # The one loader: an alias bomb in a kubeconfig hung the bad-input test (yaml.safe_load expands it).
    config = yamlio.parse(yamlio.read_text(kubeconfig), f"--kubeconfig {kubeconfig}") or {}
    if not isinstance(config, dict):
        raise UserError(f"--kubeconfig {kubeconfig}: not a kubeconfig (no mapping)")
    names = [c.get("name") for c in config.get("contexts") or [] if isinstance(c, dict)]
    chosen = context or config.get("current-context")
    if not chosen:
        raise UserError(f"--kubeconfig {kubeconfig}: no current-context; name one with --context ({_known(names)})")
    if chosen not in names:
        raise UserError(f"context {chosen!r} is not in {kubeconfig} ({_known(names)})")
    return str(chosen)


def _known(names: list[Any]) -> str:
    return "contexts: " + ", ".join(map(str, names)) if names else "it has no contexts"


def reachable(cluster: Cluster, context: str) -> None:
    """One bounded question to the API server: kubectl's request timeout, and the process's."""
    try:
        cluster.kubectl("version", "-o", "json", f"--request-timeout={REACH_SECONDS}s", timeout=REACH_SECONDS + 5)
    except CommandError as exc:
        last = exc.tail[-1].strip() if exc.tail else f"exited {exc.returncode}"
        raise UserError(f"context {context!r} in {cluster.kubeconfig} does not answer: {last}") from None


def permissions(cluster: Cluster, context: str, needed: list[Access] | None = None) -> None:
    """Ask every SelfSubjectAccessReview at once; refuse naming each missing permission."""
    asked = needed if needed is not None else required()
    batch = {"apiVersion": "v1", "kind": "List", "items": [review(a) for a in asked]}
    try:
        out = cluster.kubectl("create", "-f", "-", "-o", "json", input=json.dumps(batch), timeout=120)
    except CommandError as exc:
        last = exc.tail[-1].strip() if exc.tail else f"exited {exc.returncode}"
        raise UserError(f"context {context!r}: SelfSubjectAccessReview refused: {last}") from None
    lacking = missing(answers(asked, documents(out.stdout)))
    if lacking:
        raise UserError(refusal(context, lacking))


def check(kubeconfig: Path, context: str | None) -> tuple[Cluster, str]:
    """The whole preflight: the minified kubeconfig of the context as a Cluster, and the context."""
    chosen = context_of(kubeconfig, context)
    cluster = Cluster("existing", kubeconfig, "existing", "existing", context=chosen)
    reachable(cluster, chosen)
    permissions(cluster, chosen)
    return cluster, chosen
