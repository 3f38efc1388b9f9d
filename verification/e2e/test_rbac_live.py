"""RBAC live: the cluster's SubjectAccessReview answers equal the RBAC model's.

The model is evaluated over the RBAC objects read from the live cluster (bootstrap roles and
kind's own bindings included); the repository's objects must be present there unchanged
(checked separately). Compared: every request of platform/intent/permissions.yaml and at least
500 hypothesis-generated (subject, verb, resource, subresource, namespace, name) queries.
"""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from verification import catalog
from verification.e2e.stack import Stack
from verification.models.rbac.authorizer import Authorizer, Request, impersonated_groups, service_account_user
from verification.models.rbac.checks import expectations, identities_in_scope
from verification.models.rbac.intent import PermissionsIntent, load_intent
from verification.paths import MANIFESTS
from verification.probes.sar import SarClient, answer_row, live_rbac_objects, repository_drift
from verification.verdicts.verdict import Row, Verdict
from verification.yamlio import load_manifests

GENERATED = 700  # hypothesis examples (distinct queries are counted and must be >= 500)
NAMESPACES = ("test", "staging", "monitoring", "argocd", "ingress-nginx", "kube-system", "default")
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate",
         "bind", "escalate", "use", "approve", "proxy")  # fmt: skip
SUBRESOURCES = ("status", "log", "exec", "scale", "portforward", "proxy", "attach", "token", "finalizers")
APPS = catalog.current().names()
NAMES = (APPS[0], "alertmanager-receivers", "platform", "ci-deployer", "kube-root-ca.crt", "x")
URLS = ("/metrics", "/healthz", "/readyz", "/livez", "/version", "/api", "/apis/apps", "/logs", "/openapi/v2")
SA_NAMES = ("default", "ci-deployer", "argocd-manager", "readonly", *APPS, "prometheus",
            "alertmanager", "prometheus-operator", "kube-state-metrics", "nobody")  # fmt: skip
# Built-in users the RBAC bootstrap policy binds (not node identities: the Node authorizer
# answers for those before RBAC, and it is not what this model describes).
SYSTEM_USERS = ("system:kube-scheduler", "system:kube-controller-manager", "system:kube-proxy",
                "system:anonymous", "alice", "kubernetes-admin")  # fmt: skip
SYSTEM_GROUPS = ("system:authenticated", "system:unauthenticated", "system:serviceaccounts", "system:masters",
                 "kubeadm:cluster-admins", "system:monitoring", "platform-admins", "developers")  # fmt: skip


@pytest.fixture(scope="module")
def repository() -> tuple[list[dict[str, Any]], Authorizer, PermissionsIntent]:
    objects = load_manifests([MANIFESTS])
    authorizer = Authorizer.from_objects(objects)
    return objects, authorizer, load_intent(authorizer.catalog)


@pytest.fixture(scope="module")
def live_objects(stack: Stack) -> list[dict[str, Any]]:
    return live_rbac_objects(stack.cluster)


@pytest.fixture(scope="module")
def live_model(live_objects: list[dict[str, Any]]) -> Authorizer:
    return Authorizer.from_objects(live_objects, defaults=False)


@pytest.fixture(scope="module")
def sar(stack: Stack) -> SarClient:
    return SarClient(stack.kubeconfig)


def _verdict(artifacts: Path, name: str, title: str, rows: list[Row]) -> Verdict:
    verdict = Verdict(title, rows=rows)
    (artifacts / name).write_text(verdict.render() + "\n")
    print("\n" + verdict.render())
    return verdict


def test_repository_rbac_objects_are_in_the_cluster_unchanged(
    repository: tuple[list[dict[str, Any]], Authorizer, PermissionsIntent], live_objects: list[dict[str, Any]]
) -> None:
    problems = repository_drift(repository[0], live_objects)
    assert not problems, "repository RBAC objects missing or changed in the cluster:\n" + "\n".join(problems)


def test_intent_requests_sar_equals_model_over_live_objects(
    repository: tuple[list[dict[str, Any]], Authorizer, PermissionsIntent],
    live_model: Authorizer,
    sar: SarClient,
    artifacts: Path,
) -> None:
    intent = repository[2]
    checked = expectations(live_model, intent)
    assert checked, "permissions intent yields no request"
    rows = [answer_row(e.request, sar.allowed(e.request), e.modelled, e.intended) for e in checked]
    verdict = _verdict(
        artifacts,
        "rbac-live-intent.txt",
        "intent requests: live SubjectAccessReview against the model and the intent",
        rows,
    )
    assert verdict.ok, verdict.render()


def _subjects(authorizer: Authorizer, intent: PermissionsIntent) -> st.SearchStrategy[tuple[str, tuple[str, ...]]]:
    declared = [(c.identity.user, tuple(c.identity.groups)) for c in identities_in_scope(authorizer, intent)]
    service_accounts = st.builds(
        lambda ns, name: (service_account_user(ns, name), impersonated_groups(service_account_user(ns, name))),
        st.sampled_from(NAMESPACES),
        st.sampled_from(SA_NAMES),
    )
    others = st.builds(
        lambda user, groups: (user, impersonated_groups(user, groups)),
        st.sampled_from(SYSTEM_USERS),
        st.lists(st.sampled_from(SYSTEM_GROUPS), max_size=2, unique=True),
    )
    return st.one_of(st.sampled_from(declared), service_accounts, others)


def _requests(authorizer: Authorizer, intent: PermissionsIntent) -> st.SearchStrategy[Request]:
    types = authorizer.catalog.types

    @st.composite
    def resource_request(draw: st.DrawFn) -> Request:
        user, groups = draw(_subjects(authorizer, intent))
        kind = draw(st.sampled_from(types))
        namespace = draw(st.sampled_from((*NAMESPACES, ""))) if kind.namespaced else ""
        return Request(
            user,
            groups,
            draw(st.sampled_from(VERBS)),
            kind.plural,
            draw(st.one_of(st.just(""), st.just(""), st.sampled_from(SUBRESOURCES))),
            kind.group,
            namespace,
            draw(st.one_of(st.just(""), st.sampled_from(NAMES))),
        )

    @st.composite
    def url_request(draw: st.DrawFn) -> Request:
        user, groups = draw(_subjects(authorizer, intent))
        return Request(user, groups, draw(st.sampled_from(("get", "post", "head"))), path=draw(st.sampled_from(URLS)))

    return st.one_of(resource_request(), resource_request(), resource_request(), url_request())


def test_generated_requests_sar_equals_model_over_live_objects(
    repository: tuple[list[dict[str, Any]], Authorizer, PermissionsIntent],
    live_model: Authorizer,
    sar: SarClient,
    artifacts: Path,
) -> None:
    _, repo_authorizer, intent = repository
    answers: dict[Request, tuple[bool, bool]] = {}

    @settings(
        max_examples=GENERATED,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(_requests(repo_authorizer, intent))
    def ask(request: Request) -> None:
        # the catalog of the repository (CRDs included) feeds generation; the live model answers
        if request not in answers:
            answers[request] = (sar.allowed(request), live_model.allowed(request))

    ask()
    rows = [answer_row(r, live, model) for r, (live, model) in answers.items()]
    verdict = _verdict(
        artifacts, "rbac-live-generated.txt", "generated requests: live SubjectAccessReview against the model", rows
    )
    allowed = sum(live for live, _ in answers.values())
    print(f"generated: {len(answers)} distinct queries, {allowed} allowed by the cluster")
    assert len(answers) >= 500, f"only {len(answers)} distinct generated queries (want >= 500)"
    assert verdict.ok, verdict.render()
