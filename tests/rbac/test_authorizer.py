"""The RBAC model against hand-checked cases.

Every expected answer comes from the Kubernetes rules (evaluation_helpers.go, rule.go, rbac.go,
filters/impersonation.go, the aggregation controller), worked out by hand for the case, never
from the model itself.
"""

from typing import Any

import pytest

from verification.errors import UserError
from verification.models.rbac.authorizer import Authorizer, Request, Rule, impersonated_groups

RBAC = "rbac.authorization.k8s.io/v1"


def rule(verbs: list[str], resources: list[str] | None = None, groups: list[str] | None = None, **extra: Any):
    out: dict[str, Any] = {"verbs": verbs}
    if resources is not None:
        out["apiGroups"] = groups if groups is not None else [""]
        out["resources"] = resources
    out.update(extra)
    return out


def role(name: str, namespace: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": list(rules),
    }


def cluster_role(
    name: str, *rules: dict[str, Any], labels: dict[str, str] | None = None, selectors: list | None = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels or {}},
        "rules": list(rules),
    }
    if selectors is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return obj


def role_binding(namespace: str, ref_kind: str, ref_name: str, *subjects: dict[str, str], name: str = "b"):
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
        "subjects": list(subjects),
    }


def cluster_binding(ref_name: str, *subjects: dict[str, str], name: str = "cb") -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ref_name},
        "subjects": list(subjects),
    }


def user(name: str) -> dict[str, str]:
    return {"kind": "User", "name": name}


def group(name: str) -> dict[str, str]:
    return {"kind": "Group", "name": name}


def sa(namespace: str, name: str) -> dict[str, str]:
    out = {"kind": "ServiceAccount", "name": name}
    if namespace:
        out["namespace"] = namespace
    return out


def can(
    objects: list[dict[str, Any]],
    who: str,
    verb: str,
    resource: str = "",
    namespace: str = "",
    *,
    group: str = "",
    sub: str = "",
    name: str = "",
    path: str = "",
    groups: list[str] | None = None,
    defaults: bool = False,
) -> bool:
    authorizer = Authorizer.from_objects(objects, defaults=defaults)
    request = Request(who, impersonated_groups(who, groups or []), verb, resource, sub, group, namespace, name, path)
    return authorizer.allowed(request)


POD_READER = [
    role("pod-reader", "test", rule(["get"], ["pods"])),
    role_binding("test", "Role", "pod-reader", user("alice")),
]


# --- scope: RoleBinding vs ClusterRoleBinding -------------------------------------------------------


def test_role_binding_grants_in_its_namespace() -> None:
    assert can(POD_READER, "alice", "get", "pods", "test") is True


def test_role_binding_grants_nothing_in_another_namespace() -> None:
    assert can(POD_READER, "alice", "get", "pods", "staging") is False


def test_role_binding_grants_nothing_cluster_wide() -> None:
    # a request without namespace only visits ClusterRoleBindings (rule.go VisitRulesFor)
    assert can(POD_READER, "alice", "get", "pods", "") is False


def test_other_user_gets_nothing() -> None:
    assert can(POD_READER, "bob", "get", "pods", "test") is False


def test_user_names_are_case_sensitive() -> None:
    assert can(POD_READER, "Alice", "get", "pods", "test") is False


def test_role_binding_to_cluster_role_applies_only_in_the_binding_namespace() -> None:
    objects = [
        cluster_role("reader", rule(["get"], ["pods"])),
        role_binding("test", "ClusterRole", "reader", user("a")),
    ]
    assert can(objects, "a", "get", "pods", "test") is True
    assert can(objects, "a", "get", "pods", "staging") is False
    assert can(objects, "a", "get", "pods", "") is False


def test_cluster_role_binding_applies_everywhere_and_cluster_wide() -> None:
    objects = [cluster_role("reader", rule(["list"], ["pods"])), cluster_binding("reader", user("a"))]
    assert can(objects, "a", "list", "pods", "monitoring") is True
    assert can(objects, "a", "list", "pods", "") is True


def test_cluster_scoped_resource_granted_through_role_binding_is_not_reachable_cluster_wide() -> None:
    objects = [cluster_role("nodes", rule(["get"], ["nodes"])), role_binding("test", "ClusterRole", "nodes", user("a"))]
    assert can(objects, "a", "get", "nodes", "") is False


def test_binding_to_missing_role_grants_nothing() -> None:
    assert can([role_binding("test", "Role", "ghost", user("a"))], "a", "get", "pods", "test") is False


def test_role_binding_finds_role_only_in_its_own_namespace() -> None:
    objects = [role("r", "staging", rule(["get"], ["pods"])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "get", "pods", "test") is False
    assert can(objects, "a", "get", "pods", "staging") is False


# --- verbs, groups, resources, subresources -----------------------------------------------------------


def test_verb_must_match() -> None:
    assert can(POD_READER, "alice", "list", "pods", "test") is False


def test_wildcard_verb_matches_any_verb() -> None:
    objects = [role("r", "test", rule(["*"], ["pods"])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "deletecollection", "pods", "test") is True


def test_api_group_must_match() -> None:
    objects = [role("r", "test", rule(["get"], ["deployments"], [""])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "get", "deployments", "test", group="apps") is False


def test_api_group_apps() -> None:
    objects = [
        role("r", "test", rule(["get"], ["deployments"], ["apps"])),
        role_binding("test", "Role", "r", user("a")),
    ]
    assert can(objects, "a", "get", "deployments", "test", group="apps") is True


def test_wildcard_api_group() -> None:
    objects = [role("r", "test", rule(["get"], ["deployments"], ["*"])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "get", "deployments", "test", group="apps") is True


def test_wildcard_resource_stays_within_its_groups() -> None:
    objects = [role("r", "test", rule(["get"], ["*"], [""])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "get", "configmaps", "test") is True
    assert can(objects, "a", "get", "deployments", "test", group="apps") is False


def test_wildcard_resource_covers_subresources() -> None:
    objects = [role("r", "test", rule(["create"], ["*"], [""])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "create", "pods", "test", sub="exec") is True


def test_subresource_rule_matches_only_that_subresource() -> None:
    objects = [role("r", "test", rule(["get"], ["pods/log"])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "get", "pods", "test", sub="log") is True
    assert can(objects, "a", "get", "pods", "test") is False
    assert can(objects, "a", "get", "pods", "test", sub="exec") is False


def test_resource_rule_does_not_cover_its_subresources() -> None:
    assert can(POD_READER, "alice", "get", "pods", "test", sub="log") is False


def test_star_slash_subresource_matches_that_subresource_of_any_resource() -> None:
    objects = [role("r", "test", rule(["update"], ["*/scale"], ["apps"])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "update", "deployments", "test", group="apps", sub="scale") is True
    assert can(objects, "a", "update", "statefulsets", "test", group="apps", sub="scale") is True
    assert can(objects, "a", "update", "deployments", "test", group="apps") is False
    assert can(objects, "a", "update", "deployments", "test", group="apps", sub="status") is False


def test_resource_slash_star_is_not_a_wildcard_in_kubernetes() -> None:
    # kubernetes/kubernetes#78936: `pods/*` is deliberately unsupported; it matches nothing real
    objects = [role("r", "test", rule(["get"], ["pods/*"])), role_binding("test", "Role", "r", user("a"))]
    assert can(objects, "a", "get", "pods", "test", sub="log") is False
    assert can(objects, "a", "get", "pods", "test") is False


# --- resourceNames ------------------------------------------------------------------------------------

NAMED = [
    role("r", "test", rule(["get", "list", "create", "update"], ["configmaps"], resourceNames=["app-config"])),
    role_binding("test", "Role", "r", user("a")),
]


def test_resource_names_match_the_named_object() -> None:
    assert can(NAMED, "a", "get", "configmaps", "test", name="app-config") is True
    assert can(NAMED, "a", "update", "configmaps", "test", name="app-config") is True


def test_resource_names_do_not_match_another_object() -> None:
    assert can(NAMED, "a", "get", "configmaps", "test", name="other") is False


def test_resource_names_never_grant_a_request_without_name() -> None:
    assert can(NAMED, "a", "list", "configmaps", "test") is False
    assert can(NAMED, "a", "create", "configmaps", "test") is False


# --- non-resource URLs --------------------------------------------------------------------------------


def _urls(*urls: str, verbs: tuple[str, ...] = ("get",)) -> list[dict[str, Any]]:
    return [cluster_role("u", {"nonResourceURLs": list(urls), "verbs": list(verbs)}), cluster_binding("u", user("a"))]


def test_non_resource_url_exact() -> None:
    assert can(_urls("/metrics"), "a", "get", path="/metrics") is True
    assert can(_urls("/metrics"), "a", "get", path="/metrics/slis") is False


def test_non_resource_url_prefix_with_slash_star() -> None:
    assert can(_urls("/api/*"), "a", "get", path="/api/v1") is True
    assert can(_urls("/api/*"), "a", "get", path="/api") is False  # prefix is "/api/"


def test_non_resource_url_star_suffix_is_a_plain_prefix() -> None:
    assert can(_urls("/healthz*"), "a", "get", path="/healthz/etcd") is True
    assert can(_urls("/healthz*"), "a", "get", path="/healthzzz") is True
    assert can(_urls("/healthz*"), "a", "get", path="/livez") is False


def test_non_resource_url_star_matches_everything() -> None:
    assert can(_urls("*"), "a", "get", path="/anything/at/all") is True


def test_non_resource_url_verb_must_match() -> None:
    assert can(_urls("/metrics"), "a", "post", path="/metrics") is False


def test_non_resource_rule_grants_no_resource() -> None:
    assert can(_urls("*", verbs=("*",)), "a", "get", "pods", "test") is False


def test_non_resource_rule_in_role_binding_never_applies() -> None:
    objects = [
        cluster_role("u", {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}),
        role_binding("test", "ClusterRole", "u", user("a")),
    ]
    assert can(objects, "a", "get", path="/metrics") is False


# --- subjects and groups ------------------------------------------------------------------------------

DEVS = [role("r", "test", rule(["get"], ["pods"])), role_binding("test", "Role", "r", group("devs"))]


def test_group_subject_matches_members() -> None:
    assert can(DEVS, "bob", "get", "pods", "test", groups=["devs"]) is True
    assert can(DEVS, "bob", "get", "pods", "test") is False


def test_service_account_subject_matches_its_user_name() -> None:
    objects = [role("r", "test", rule(["get"], ["pods"])), role_binding("test", "Role", "r", sa("test", "ci"))]
    assert can(objects, "system:serviceaccount:test:ci", "get", "pods", "test") is True
    assert can(objects, "system:serviceaccount:staging:ci", "get", "pods", "test") is False


def test_service_account_subject_without_namespace_defaults_to_binding_namespace() -> None:
    objects = [role("r", "test", rule(["get"], ["pods"])), role_binding("test", "Role", "r", sa("", "ci"))]
    assert can(objects, "system:serviceaccount:test:ci", "get", "pods", "test") is True


def test_service_account_of_another_namespace_bound_here() -> None:
    objects = [role("r", "test", rule(["get"], ["pods"])), role_binding("test", "Role", "r", sa("staging", "ci"))]
    assert can(objects, "system:serviceaccount:staging:ci", "get", "pods", "test") is True


def test_service_account_users_get_service_account_groups() -> None:
    objects = [cluster_role("r", rule(["get"], ["pods"])), cluster_binding("r", group("system:serviceaccounts:test"))]
    assert can(objects, "system:serviceaccount:test:x", "get", "pods", "test") is True
    assert can(objects, "system:serviceaccount:staging:x", "get", "pods", "test") is False


def test_service_account_given_explicit_groups_does_not_get_service_account_groups() -> None:
    # filters/impersonation.go adds the SA groups only when no --as-group is given
    objects = [cluster_role("r", rule(["get"], ["pods"])), cluster_binding("r", group("system:serviceaccounts"))]
    assert can(objects, "system:serviceaccount:test:x", "get", "pods", "test", groups=["other"]) is False


def test_every_authenticated_user_is_in_system_authenticated() -> None:
    objects = [cluster_role("r", rule(["get"], ["pods"])), cluster_binding("r", group("system:authenticated"))]
    assert can(objects, "anyone", "get", "pods", "test") is True
    assert can(objects, "system:anonymous", "get", "pods", "test") is False


def test_anonymous_is_in_system_unauthenticated() -> None:
    objects = [cluster_role("r", rule(["get"], ["pods"])), cluster_binding("r", group("system:unauthenticated"))]
    assert can(objects, "system:anonymous", "get", "pods", "test") is True
    assert can(objects, "anyone", "get", "pods", "test") is False


def test_impersonated_groups() -> None:
    assert impersonated_groups("system:serviceaccount:ns1:x") == (
        "system:serviceaccounts",
        "system:serviceaccounts:ns1",
        "system:authenticated",
    )
    assert impersonated_groups("alice", ["devs"]) == ("devs", "system:authenticated")
    assert impersonated_groups("system:anonymous") == ("system:unauthenticated",)
    assert impersonated_groups("alice", ["system:unauthenticated"]) == ("system:unauthenticated",)


# --- aggregation --------------------------------------------------------------------------------------


def test_aggregated_role_holds_the_rules_of_matching_roles_and_ignores_its_own() -> None:
    objects = [
        cluster_role("agg", rule(["delete"], ["pods"]), selectors=[{"matchLabels": {"agg": "true"}}]),
        cluster_role("part", rule(["get"], ["pods"]), labels={"agg": "true"}),
        cluster_role("other", rule(["list"], ["pods"]), labels={"agg": "false"}),
        cluster_binding("agg", user("a")),
    ]
    assert can(objects, "a", "get", "pods", "test") is True
    assert can(objects, "a", "list", "pods", "test") is False  # label value differs
    assert can(objects, "a", "delete", "pods", "test") is False  # controller overwrites own rules


def test_nested_aggregation_reaches_a_fixpoint() -> None:
    objects = [
        cluster_role("top", selectors=[{"matchLabels": {"to-top": "true"}}]),
        cluster_role("middle", labels={"to-top": "true"}, selectors=[{"matchLabels": {"to-middle": "true"}}]),
        cluster_role("leaf", rule(["watch"], ["services"]), labels={"to-middle": "true"}),
        cluster_binding("top", user("a")),
    ]
    assert can(objects, "a", "watch", "services", "test") is True


def test_aggregation_selectors_are_ored_and_match_expressions_work() -> None:
    objects = [
        cluster_role(
            "agg",
            selectors=[
                {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
                {"matchExpressions": [{"key": "extra", "operator": "Exists"}]},
            ],
        ),
        cluster_role("in", rule(["get"], ["pods"]), labels={"tier": "b"}),
        cluster_role("exists", rule(["get"], ["services"]), labels={"extra": ""}),
        cluster_role("not-in", rule(["get"], ["configmaps"]), labels={"tier": "c"}),
        cluster_binding("agg", user("a")),
    ]
    assert can(objects, "a", "get", "pods", "test") is True
    assert can(objects, "a", "get", "services", "test") is True
    assert can(objects, "a", "get", "configmaps", "test") is False


def test_aggregation_not_in_and_does_not_exist() -> None:
    objects = [
        cluster_role(
            "agg",
            selectors=[
                {
                    "matchLabels": {"team": "x"},
                    "matchExpressions": [
                        {"key": "tier", "operator": "NotIn", "values": ["secret"]},
                        {"key": "deprecated", "operator": "DoesNotExist"},
                    ],
                }
            ],
        ),
        cluster_role("ok", rule(["get"], ["pods"]), labels={"team": "x"}),
        cluster_role("excluded", rule(["get"], ["secrets"]), labels={"team": "x", "tier": "secret"}),
        cluster_role("old", rule(["get"], ["services"]), labels={"team": "x", "deprecated": "yes"}),
        cluster_binding("agg", user("a")),
    ]
    assert can(objects, "a", "get", "pods", "test") is True
    assert can(objects, "a", "get", "secrets", "test") is False
    assert can(objects, "a", "get", "services", "test") is False


def test_aggregated_cluster_role_through_role_binding_stays_in_namespace() -> None:
    objects = [
        cluster_role("agg", selectors=[{"matchLabels": {"agg": "true"}}]),
        cluster_role("part", rule(["get"], ["pods"]), labels={"agg": "true"}),
        role_binding("test", "ClusterRole", "agg", user("a")),
    ]
    assert can(objects, "a", "get", "pods", "test") is True
    assert can(objects, "a", "get", "pods", "staging") is False


# --- Kubernetes defaults --------------------------------------------------------------------------------


def test_defaults_system_masters_is_cluster_admin() -> None:
    assert can([], "root", "*", "*", "", group="*", groups=["system:masters"], defaults=True) is True
    assert can([], "root", "*", "*", "", group="*", defaults=True) is False


def test_defaults_discovery_for_authenticated_and_health_for_anonymous() -> None:
    assert can([], "alice", "get", path="/apis/apps/v1", defaults=True) is True
    assert can([], "system:anonymous", "get", path="/apis", defaults=True) is False
    assert can([], "system:anonymous", "get", path="/healthz", defaults=True) is True


def test_defaults_service_accounts_read_the_issuer_discovery_documents() -> None:
    assert can([], "system:serviceaccount:x:y", "get", path="/openid/v1/jwks", defaults=True) is True
    assert can([], "alice", "get", path="/openid/v1/jwks", defaults=True) is False


def test_defaults_edit_aggregates_view_and_admin_aggregates_edit() -> None:
    edit = [role_binding("test", "ClusterRole", "edit", user("e"))]
    view = [role_binding("test", "ClusterRole", "view", user("v"))]
    admin = [role_binding("test", "ClusterRole", "admin", user("a"))]
    assert can(edit, "e", "create", "pods", "test", sub="exec", defaults=True) is True
    assert can(edit, "e", "get", "pods", "test", sub="log", defaults=True) is True  # from view
    assert can(edit, "e", "create", "roles", "test", group="rbac.authorization.k8s.io", defaults=True) is False
    assert can(view, "v", "get", "secrets", "test", defaults=True) is False
    assert can(admin, "a", "create", "roles", "test", group="rbac.authorization.k8s.io", defaults=True) is True
    assert can(admin, "a", "get", "secrets", "test", defaults=True) is True  # from edit


def test_manifest_object_replaces_default_of_same_name() -> None:
    objects = [cluster_role("view", rule(["get"], ["only-this"])), cluster_binding("view", user("v"), name="v")]
    assert can(objects, "v", "get", "pods", "test", defaults=True) is False
    assert can(objects, "v", "get", "only-this", "test", defaults=True) is True


# --- explanations -------------------------------------------------------------------------------------


def test_grant_names_binding_aggregated_member_and_sources() -> None:
    objects = [
        cluster_role("agg", selectors=[{"matchLabels": {"agg": "true"}}]),
        cluster_role("part", rule(["get"], ["pods"]), labels={"agg": "true"}),
        role_binding("test", "ClusterRole", "agg", sa("test", "ro"), name="ro-binding"),
    ]
    objects[1]["metadata"]["annotations"] = {"platform-verify/source": "rbac/part.yaml"}
    authorizer = Authorizer.from_objects(objects, defaults=False)
    grant = authorizer.grant_for(Request("system:serviceaccount:test:ro", (), "get", "pods", namespace="test"))
    assert grant is not None
    text = grant.describe()
    assert "RoleBinding test/ro-binding" in text
    assert "ServiceAccount test/ro" in text
    assert "ClusterRole agg (aggregates ClusterRole part)" in text
    assert "[rbac/part.yaml]" in text


def test_rule_describe_is_compact() -> None:
    assert Rule(("get",), ("",), ("pods",)).describe() == "{apiGroups: ['']; resources: [pods]; verbs: [get]}"


# --- strict parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (role("r", "test", {"verb": ["get"], "apiGroups": [""], "resources": ["pods"]}), "unknown field(s) verb"),
        ({**role("r", "test"), "metadata": {"name": "r"}}, "needs metadata.namespace"),
        ({**cluster_role("c"), "apiVersion": "rbac.authorization.k8s.io/v1beta1"}, "not served"),
        ({**cluster_role("c"), "kind": "ClusterRoleBindng"}, "unknown kind 'ClusterRoleBindng'"),
        (role_binding("test", "Role", "r", {"kind": "Robot", "name": "x"}), "unknown subject kind 'Robot'"),
        ({**cluster_binding("c", user("a")), "roleRef": {"kind": "Role", "name": "r"}}, "not allowed here"),
        (role("r", "test", {"nonResourceURLs": ["/x"], "verbs": ["get"]}), "cannot apply to non-resource URLs"),
        (role("r", "test", {"verbs": ["get"], "resources": ["pods"]}), "apiGroups is required"),
        (cluster_binding("c", sa("", "x")), "needs a namespace"),
    ],
)
def test_bad_rbac_objects_are_one_clear_error(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=None) as caught:
        Authorizer.from_objects([obj], defaults=False)
    assert message in str(caught.value)


def test_a_role_defined_twice_is_one_clear_error() -> None:
    twice = [cluster_role("dup", rule(["get"], ["pods"])), cluster_role("dup"), cluster_binding("dup", user("a"))]
    with pytest.raises(UserError, match="ClusterRole dup is defined twice"):
        can(twice, "a", "get", "pods", "test")
