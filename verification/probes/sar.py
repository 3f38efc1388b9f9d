"""RBAC on a live cluster: SubjectAccessReview answers, the RBAC objects the cluster holds, and
whether the repository's RBAC objects are there unchanged.

The model (verification.models.rbac.authorizer.Authorizer) is evaluated over the objects READ FROM THE
CLUSTER (bootstrap roles, kind's own bindings and the platform's), so a disagreement with the SAR
is a disagreement about RBAC semantics, not about which objects exist; the separate presence check
says whether the cluster holds the repository's objects as written.
"""

import json
from collections.abc import Iterable
from typing import Any

from kubernetes import client, config

from verification.cluster.cluster import Cluster
from verification.models.rbac.authorizer import RBAC_GROUP, RBAC_KINDS, Request
from verification.verdicts.verdict import Row
from verification.yamlio import strip_source

RBAC_RESOURCES = "roles,clusterroles,rolebindings,clusterrolebindings"


class SarClient:
    """Asks the API server's authorizer (authorization.k8s.io/v1 SubjectAccessReview)."""

    def __init__(self, kubeconfig: str) -> None:
        self.api = client.AuthorizationV1Api(config.new_client_from_config(config_file=kubeconfig))

    def allowed(self, request: Request) -> bool:
        # The client sends a dict body as it is; its stubs ask for the model class.
        review = self.api.create_subject_access_review(body=request.subject_access_review())  # type: ignore[arg-type]
        return bool(review.status is not None and review.status.allowed)


def live_rbac_objects(cluster: Cluster) -> list[dict[str, Any]]:
    """Every Role, ClusterRole, RoleBinding and ClusterRoleBinding in the cluster."""
    data = json.loads(cluster.kubectl("get", RBAC_RESOURCES, "-A", "-o", "json", timeout=120).stdout)
    return [{"apiVersion": f"{RBAC_GROUP}/v1", **item} for item in data["items"]]


def answer_row(request: Request, live: bool, model: bool, intended: bool | None = None) -> Row:
    """One SubjectAccessReview compared: expected the model's answer (and the intent's when it
    differs), observed the live one; the cause says which of the two the cluster disagrees with."""
    word = {True: "allow", False: "deny"}
    expected = word[model] if intended in (None, model) else f"{word[model]} (model), {word[intended]} (intent)"
    if live != model:
        cause = "the API server's authorizer answers otherwise than the model over the same objects"
    else:
        cause = "" if intended in (None, model) else "the cluster's RBAC objects do not grant what the intent says"
    subject = f"{request.user} [{','.join(request.groups)}] {request.describe()}"
    return Row(subject, expected, word[live], cause, agrees=not cause)


# --- the repository's objects, as the cluster holds them ---------------------------------------

_RULE_KEYS = ("apiGroups", "resources", "resourceNames", "nonResourceURLs", "verbs")


def _rules(rules: Any) -> list[dict[str, list[str]]]:
    return [{k: list(rule[k]) for k in _RULE_KEYS if rule.get(k)} for rule in rules or []]


def _subjects(subjects: Any) -> list[dict[str, str]]:
    """Subjects with the API server's defaults: every field present, apiGroup rbac but for ServiceAccounts."""
    return [
        {
            **{key: s.get(key, "") for key in ("kind", "name", "namespace")},
            "apiGroup": s.get("apiGroup", "" if s.get("kind") == "ServiceAccount" else RBAC_GROUP),
        }
        for s in subjects or []
    ]


def essence(obj: dict[str, Any]) -> dict[str, Any]:
    """What an RBAC object grants, with the API server's defaults filled in.

    An aggregated ClusterRole's rules belong to the aggregation controller, so only its
    aggregationRule counts.
    """
    kind = obj["kind"]
    if kind in ("Role", "ClusterRole"):
        if obj.get("aggregationRule"):
            return {"aggregationRule": obj["aggregationRule"]}
        return {"rules": _rules(obj.get("rules"))}
    ref = dict(obj.get("roleRef") or {})
    ref.setdefault("apiGroup", RBAC_GROUP)
    return {"roleRef": ref, "subjects": _subjects(obj.get("subjects"))}


def key_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return obj["kind"], meta.get("namespace") or "", meta["name"]


def repository_drift(repo_objects: Iterable[dict[str, Any]], live_objects: Iterable[dict[str, Any]]) -> list[str]:
    """One line per repository RBAC object missing from the cluster or different there."""
    live = {key_of(o): o for o in live_objects}
    problems = []
    for obj in repo_objects:
        if not str(obj.get("apiVersion", "")).startswith(RBAC_GROUP + "/") or obj.get("kind") not in RBAC_KINDS:
            continue
        obj = strip_source(obj)
        key = key_of(obj)
        label = f"{key[0]} {key[1] + '/' if key[1] else ''}{key[2]}"
        found = live.get(key)
        if found is None:
            problems.append(f"{label}: absent from the cluster")
            continue
        want, have = essence(obj), essence(found)
        if want != have:
            problems.append(f"{label}: differs: repository {json.dumps(want)} cluster {json.dumps(have)}")
        want_labels = (obj.get("metadata") or {}).get("labels") or {}
        have_labels = (found.get("metadata") or {}).get("labels") or {}
        missing = {k: v for k, v in want_labels.items() if have_labels.get(k) != v}
        if missing:
            problems.append(f"{label}: labels {missing} missing in the cluster")
    return problems
