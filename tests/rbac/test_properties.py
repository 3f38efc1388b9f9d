"""Properties of the RBAC model that hold for any policy (hypothesis)."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from verification.models.rbac.authorizer import Authorizer, Request, Rule, impersonated_groups

RBAC = "rbac.authorization.k8s.io/v1"
VERBS = ["get", "list", "create", "delete", "*"]
GROUPS = ["", "apps", "*"]
RESOURCES = ["pods", "pods/log", "pods/*", "deployments", "deployments/scale", "*/scale", "*"]
NAMESPACES = ["test", "staging"]
USERS = ["alice", "bob", "system:serviceaccount:test:ci", "system:anonymous"]
SUBJECTS = [
    {"kind": "User", "name": "alice"},
    {"kind": "Group", "name": "devs"},
    {"kind": "Group", "name": "system:authenticated"},
    {"kind": "Group", "name": "system:serviceaccounts:test"},
    {"kind": "ServiceAccount", "name": "ci", "namespace": "test"},
]
LABELS = [{}, {"agg": "true"}, {"agg": "false"}]

resource_rules = st.builds(
    lambda verbs, groups, resources, names: {
        "verbs": verbs,
        "apiGroups": groups,
        "resources": resources,
        **({"resourceNames": names} if names else {}),
    },
    st.lists(st.sampled_from(VERBS), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(["a", "b"]), max_size=1),
)
url_rules = st.builds(
    lambda verbs, urls: {"verbs": verbs, "nonResourceURLs": urls},
    st.lists(st.sampled_from(["get", "post", "*"]), min_size=1, max_size=2, unique=True),
    st.lists(st.sampled_from(["/metrics", "/api/*", "/api*", "*"]), min_size=1, max_size=2, unique=True),
)


@st.composite
def policies(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A handful of Roles, ClusterRoles (some aggregating) and bindings between them."""
    objects: list[dict[str, Any]] = []
    role_names = ["r0", "r1"]
    cluster_names = ["c0", "c1", "c2"]
    for name in role_names:
        namespace = draw(st.sampled_from(NAMESPACES))
        rules = draw(st.lists(resource_rules, max_size=2))
        objects.append(
            {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": name, "namespace": namespace}, "rules": rules}
        )
    for name in cluster_names:
        role: dict[str, Any] = {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": draw(st.sampled_from(LABELS))},
            "rules": draw(st.lists(st.one_of(resource_rules, url_rules), max_size=2)),
        }
        if draw(st.booleans()):
            role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"}}]}
        objects.append(role)
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["RoleBinding", "ClusterRoleBinding"]))
        subjects = draw(st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=2))
        meta: dict[str, Any] = {"name": f"b{i}"}
        if kind == "RoleBinding":
            meta["namespace"] = draw(st.sampled_from(NAMESPACES))
            ref_kind = draw(st.sampled_from(["Role", "ClusterRole"]))
        else:
            ref_kind = "ClusterRole"
        ref_name = draw(st.sampled_from(role_names if ref_kind == "Role" else cluster_names))
        objects.append(
            {
                "apiVersion": RBAC,
                "kind": kind,
                "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
                "subjects": subjects,
            }
        )
    return objects


@st.composite
def requests(draw: st.DrawFn) -> Request:
    who = draw(st.sampled_from(USERS))
    groups = impersonated_groups(who, draw(st.lists(st.sampled_from(["devs"]), max_size=1)))
    verb = draw(st.sampled_from(["get", "list", "create", "delete", "update"]))
    if draw(st.integers(0, 4)) == 0:
        return Request(who, groups, verb, path=draw(st.sampled_from(["/metrics", "/api", "/api/v1", "/apis"])))
    resource, group = draw(st.sampled_from([("pods", ""), ("deployments", "apps"), ("deployments", ""), ("nodes", "")]))
    return Request(
        who,
        groups,
        verb,
        resource,
        draw(st.sampled_from(["", "log", "scale"])),
        group,
        draw(st.sampled_from(["", *NAMESPACES])),
        draw(st.sampled_from(["", "a", "b"])),
    )


def _answers(objects: list[dict[str, Any]], asked: list[Request]) -> list[bool]:
    authorizer = Authorizer.from_objects(objects, defaults=False)
    return [authorizer.allowed(r) for r in asked]


# generation dominates the cost (a decision takes ~0.5 ms); 40 examples keep this file at a few seconds
FAST = settings(max_examples=40, deadline=None)


@FAST
@given(policies(), st.lists(requests(), min_size=1, max_size=15), st.integers(0, 4), resource_rules)
def test_adding_a_rule_never_removes_a_permission(
    objects: list[dict[str, Any]], asked: list[Request], target: int, extra: dict[str, Any]
) -> None:
    before = _answers(objects, asked)
    grown = [dict(o) for o in objects]
    role = grown[target]  # one of the two Roles or three ClusterRoles
    role["rules"] = [*role["rules"], extra]
    after = _answers(grown, asked)
    assert all(a for b, a in zip(before, after, strict=True) if b)


@FAST
@given(policies(), st.lists(requests(), min_size=1, max_size=15), st.sampled_from(SUBJECTS), st.booleans())
def test_a_binding_to_a_missing_role_grants_nothing(
    objects: list[dict[str, Any]], asked: list[Request], subject: dict[str, str], cluster: bool
) -> None:
    dangling: dict[str, Any] = {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding" if cluster else "RoleBinding",
        "metadata": {"name": "dangling"} if cluster else {"name": "dangling", "namespace": "test"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "does-not-exist"},
        "subjects": [subject],
    }
    assert _answers([*objects, dangling], asked) == _answers(objects, asked)


@FAST
@given(
    policies().flatmap(lambda objs: st.tuples(st.just(objs), st.permutations(objs))), st.lists(requests(), max_size=15)
)
def test_answers_do_not_depend_on_object_order(pair: tuple[list, list], asked: list[Request]) -> None:
    objects, shuffled = pair
    assert _answers(objects, asked) == _answers(list(shuffled), asked)


@FAST
@given(resource_rules, requests())
def test_a_wildcard_verb_rule_grants_at_least_what_a_specific_verb_rule_grants(
    raw: dict[str, Any], request: Request
) -> None:
    specific = Rule(
        tuple(raw["verbs"]), tuple(raw["apiGroups"]), tuple(raw["resources"]), tuple(raw.get("resourceNames", ()))
    )
    wildcard = Rule(("*",), specific.api_groups, specific.resources, specific.resource_names)
    if specific.allows(request):
        assert wildcard.allows(request)


@FAST
@given(policies(), st.lists(requests(), min_size=1, max_size=15))
def test_role_bindings_never_answer_cluster_wide_questions(objects: list[dict[str, Any]], asked: list[Request]) -> None:
    only_role_bindings = [o for o in objects if o["kind"] != "ClusterRoleBinding"]
    cluster_wide = [r for r in asked if not r.namespace]
    assert not any(_answers(only_role_bindings, cluster_wide))
