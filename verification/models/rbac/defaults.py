"""The part of Kubernetes' bootstrap RBAC policy that every v1.33 cluster has and this model needs.

A real cluster answers `can-i` with these objects present, so the model includes them by default:
`cluster-admin` (bound to `system:masters`; the platform binds `platform-admins` to it), the
user-facing aggregated roles `admin` > `edit` > `view`, and the roles every authenticated (and
anonymous) user holds. Source: kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy
(testdata/cluster-roles.yaml, cluster-role-bindings.yaml); controller and node roles are left out
because no platform identity can hold them. The rules are complete (including the long-gone
`extensions` group) so that answers match a real cluster's.
"""

from typing import Any

DEFAULTS_SOURCE = "<kubernetes bootstrap policy>"
_API = "rbac.authorization.k8s.io/v1"
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _role(
    name: str, rules: list[dict[str, Any]], labels: dict[str, str] | None = None, aggregate: str = ""
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": _API,
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})}},
        "rules": rules,
    }
    if aggregate:
        label = f"rbac.authorization.k8s.io/aggregate-to-{aggregate}"
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {label: "true"}}]}
        obj["rules"] = []
    return obj


def _binding(name: str, role: str, *groups: str) -> dict[str, Any]:
    return {
        "apiVersion": _API,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups],
    }


def _r(groups: list[str], resources: str, verbs: list[str]) -> dict[str, Any]:
    """A rule; `resources` as words, in the order of upstream's cluster-roles.yaml."""
    return {"apiGroups": groups, "resources": resources.split(), "verbs": verbs}


_TO_ADMIN = {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}
_TO_EDIT = {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}
_TO_VIEW = {"rbac.authorization.k8s.io/aggregate-to-view": "true"}
_GET = ["get"]
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
_DISCOVERY = ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"]
_HEALTH = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

DEFAULT_OBJECTS: list[dict[str, Any]] = [
    _role(
        "cluster-admin",
        [_r(["*"], "*", ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    ),
    _role("admin", [], aggregate="admin"),
    _role("edit", [], labels=_TO_ADMIN, aggregate="edit"),
    _role("view", [], labels=_TO_EDIT, aggregate="view"),
    _role(
        "system:aggregate-to-admin",
        [
            _r(["authorization.k8s.io"], "localsubjectaccessreviews", ["create"]),
            _r(["rbac.authorization.k8s.io"], "rolebindings roles", [*_WRITE, *_READ]),
        ],
        labels=_TO_ADMIN,
    ),
    _role(
        "system:aggregate-to-edit",
        [
            _r([""], "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy", _READ),
            _r([""], "serviceaccounts", ["impersonate"]),
            _r([""], "pods pods/attach pods/exec pods/portforward pods/proxy", _WRITE),
            _r([""], "pods/eviction", ["create"]),
            _r(
                [""],
                "configmaps events persistentvolumeclaims replicationcontrollers replicationcontrollers/scale secrets "
                "serviceaccounts services services/proxy",
                _WRITE,
            ),
            _r([""], "serviceaccounts/token", ["create"]),
            _r(
                ["apps"],
                "daemonsets deployments deployments/rollback deployments/scale replicasets replicasets/scale "
                "statefulsets statefulsets/scale",
                _WRITE,
            ),
            _r(["autoscaling"], "horizontalpodautoscalers", _WRITE),
            _r(["batch"], "cronjobs jobs", _WRITE),
            _r(
                ["extensions"],
                "daemonsets deployments deployments/rollback deployments/scale ingresses networkpolicies replicasets "
                "replicasets/scale replicationcontrollers/scale",
                _WRITE,
            ),
            _r(["policy"], "poddisruptionbudgets", _WRITE),
            _r(["networking.k8s.io"], "ingresses networkpolicies", _WRITE),
            _r(["coordination.k8s.io"], "leases", [*_WRITE, *_READ]),
        ],
        labels=_TO_EDIT,
    ),
    _role(
        "system:aggregate-to-view",
        [
            _r(
                [""],
                "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods "
                "replicationcontrollers replicationcontrollers/scale serviceaccounts services services/status "
                "bindings events limitranges namespaces/status pods/log pods/status replicationcontrollers/status "
                "resourcequotas resourcequotas/status namespaces",
                _READ,
            ),
            _r(["discovery.k8s.io"], "endpointslices", _READ),
            _r(
                ["apps"],
                "controllerrevisions daemonsets daemonsets/status deployments deployments/scale deployments/status "
                "replicasets replicasets/scale replicasets/status statefulsets statefulsets/scale statefulsets/status",
                _READ,
            ),
            _r(["autoscaling"], "horizontalpodautoscalers horizontalpodautoscalers/status", _READ),
            _r(["batch"], "cronjobs cronjobs/status jobs jobs/status", _READ),
            _r(
                ["extensions"],
                "daemonsets daemonsets/status deployments deployments/scale deployments/status ingresses "
                "ingresses/status networkpolicies replicasets replicasets/scale replicasets/status "
                "replicationcontrollers/scale",
                _READ,
            ),
            _r(["policy"], "poddisruptionbudgets poddisruptionbudgets/status", _READ),
            _r(["networking.k8s.io"], "ingresses ingresses/status networkpolicies", _READ),
        ],
        labels=_TO_VIEW,
    ),
    _role(
        "system:basic-user",
        [
            _r(["authorization.k8s.io"], "selfsubjectaccessreviews selfsubjectrulesreviews", ["create"]),
            _r(["authentication.k8s.io"], "selfsubjectreviews", ["create"]),
        ],
    ),
    _role(
        "system:discovery",
        [{"nonResourceURLs": [*_DISCOVERY, *_HEALTH], "verbs": _GET}],
    ),
    _role("system:public-info-viewer", [{"nonResourceURLs": _HEALTH, "verbs": ["get"]}]),
    _role(
        "system:service-account-issuer-discovery",
        [{"nonResourceURLs": ["/.well-known/openid-configuration", "/openid/v1/jwks"], "verbs": _GET}],
    ),
    _binding("cluster-admin", "cluster-admin", "system:masters"),
    _binding("system:basic-user", "system:basic-user", "system:authenticated"),
    _binding("system:discovery", "system:discovery", "system:authenticated"),
    _binding(
        "system:service-account-issuer-discovery", "system:service-account-issuer-discovery", "system:serviceaccounts"
    ),
    _binding("system:public-info-viewer", "system:public-info-viewer", AUTHENTICATED, UNAUTHENTICATED),
]
