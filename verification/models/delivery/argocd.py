"""The GitOps delivery rules, computed from the ArgoCD objects and the install values.

Each check takes the loaded objects (and where needed the install values or the repository) and
returns readable violations naming the object and the cause; an empty list means it conforms.
Conformance, the mutation tests and any CLI print the same sentences.
"""

import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from verification.models.schema import builtin
from verification.paths import PLATFORM, REPO_ROOT
from verification.versions import versions
from verification.yamlio import iter_kind, load_file, parse, source_of

INSTALL_VALUES = PLATFORM / "argocd-install" / "values.yaml"
IN_CLUSTER = "https://kubernetes.default.svc"
# App namespaces: each is reached only by the AppProject of the same name.
APP_ENVIRONMENTS = ("test", "staging")
AUTOMATED_ENVIRONMENTS = ("test",)
# Kinds another project (the platform's) may place in an app namespace: its guardrails only.
GUARDRAIL_KINDS = frozenset(
    {
        ("", "ServiceAccount"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("", "ResourceQuota"),
        ("", "LimitRange"),
    }
)
# Cluster-scoped kinds a project may be given at all; an app project gets Namespace at most.
CLUSTER_KINDS_ALLOWED = frozenset(
    {
        ("", "Namespace"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        # The edge (project `components`): its IngressClass and the controller's Ingress validation.
        ("networking.k8s.io", "IngressClass"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    }
)
# Admission policies are guardrails of every namespace: only the guardrail project may sync them
# (a project that could change them could lift what they deny).
GUARDRAIL_CLUSTER_KINDS = frozenset(
    {
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    }
)
APP_PROJECT_CLUSTER_KINDS = frozenset({("", "Namespace")})
# The project whose Applications sync namespaces and guardrails: before every other Application.
GUARDRAIL_PROJECT = "platform"
# Sync order: sources under these paths, in this order, before every other Application.
WAVE_ORDER = ("platform/manifests/namespaces", "platform/manifests/rbac", "platform/manifests/network-policies")
# ignoreDifferences that are justified: none. The blue-green orchestrator flips the active colour
# through the values ArgoCD syncs, so nothing in the cluster legitimately drifts from git.
JUSTIFIED_IGNORES: frozenset[tuple[str, str]] = frozenset()
PSA_PREFIX = "pod-security.kubernetes.io/"
FAILURE_TRIGGERS = ("on-sync-failed", "on-health-degraded")
ADMIN_ROLE = "role:admin"
READONLY_ROLE = "role:readonly"


def _name(obj: dict[str, Any]) -> str:
    return f"{source_of(obj)}: {obj['kind']} {obj['metadata'].get('name', '?')}"


def projects(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in iter_kind(objects, "AppProject")}


def applications(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in iter_kind(objects, "Application")}


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("spec") or {}


def _sources(app: dict[str, Any]) -> list[dict[str, Any]]:
    spec = _spec(app)
    # ArgoCD ignores spec.source when spec.sources is set (docs: user-guide/multiple_sources.md).
    return list(spec.get("sources") or ([spec["source"]] if spec.get("source") else []))


def app_namespace(app: dict[str, Any]) -> str | None:
    return (_spec(app).get("destination") or {}).get("namespace")


def wave(obj: dict[str, Any]) -> int:
    return int((obj["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0"))


# --- sync policy -------------------------------------------------------------------------------


def check_sync_policies(objects: list[dict[str, Any]]) -> list[str]:
    """test: automated with prune and selfHeal; staging: never automated; allowEmpty never with prune."""
    problems = []
    for app in applications(objects).values():
        policy = _spec(app).get("syncPolicy") or {}
        automated = policy.get("automated")
        project = _spec(app).get("project")
        if project in AUTOMATED_ENVIRONMENTS:
            if automated is None:
                problems.append(f"{_name(app)}: {project} apps sync automatically (syncPolicy.automated missing)")
            else:
                for flag in ("prune", "selfHeal"):
                    if automated.get(flag) is not True:
                        problems.append(f"{_name(app)}: {project} apps need syncPolicy.automated.{flag}: true")
        elif project in APP_ENVIRONMENTS and automated is not None:
            problems.append(
                f"{_name(app)}: {project} is synced by hand after approval; remove syncPolicy.automated "
                f"(found {automated})"
            )
        if automated and automated.get("allowEmpty") and automated.get("prune"):
            problems.append(
                f"{_name(app)}: automated prune with allowEmpty: true lets an empty render delete every resource"
            )
    return problems


# --- projects ----------------------------------------------------------------------------------


def _wild(value: Any) -> bool:
    return isinstance(value, str) and ("*" in value or value.startswith("!"))


def check_project_wildcards(objects: list[dict[str, Any]]) -> list[str]:
    """No `*` (or negation) in sources, destinations or resource lists."""
    problems = []
    for project in projects(objects).values():
        spec = _spec(project)
        for repo in spec.get("sourceRepos") or []:
            if _wild(repo):
                problems.append(f"{_name(project)}: sourceRepos {repo!r} is a wildcard; name the repository")
        for dest in spec.get("destinations") or []:
            for key in ("server", "name", "namespace"):
                if _wild(dest.get(key)):
                    problems.append(f"{_name(project)}: destination {key} {dest.get(key)!r} is a wildcard")
            if not dest.get("namespace"):
                problems.append(f"{_name(project)}: destination {dest} names no namespace")
        for key in ("clusterResourceWhitelist", "namespaceResourceWhitelist"):
            for entry in spec.get(key) or []:
                if _wild(entry.get("group")) or _wild(entry.get("kind")):
                    problems.append(f"{_name(project)}: {key} entry {entry} is a wildcard; list kinds one by one")
        if not spec.get("sourceRepos"):
            problems.append(f"{_name(project)}: no sourceRepos (nothing may be deployed, or the default is used)")
    return problems


def _kinds(entries: Iterable[dict[str, Any]] | None) -> set[tuple[str, str]]:
    return {(e.get("group", ""), e.get("kind", "")) for e in entries or []}


def check_cluster_whitelists(objects: list[dict[str, Any]]) -> list[str]:
    """Minimal cluster-scoped kinds: app projects Namespace at most, others from a short list."""
    problems = []
    for name, project in projects(objects).items():
        spec = _spec(project)
        # A missing whitelist denies every cluster-scoped kind: the safe default.
        allowed = APP_PROJECT_CLUSTER_KINDS if name in APP_ENVIRONMENTS else CLUSTER_KINDS_ALLOWED
        if name == GUARDRAIL_PROJECT:
            allowed = allowed | GUARDRAIL_CLUSTER_KINDS
        for group, kind in sorted(_kinds(spec.get("clusterResourceWhitelist")) - allowed):
            problems.append(
                f"{_name(project)}: cluster-scoped {group or 'core'}/{kind} is not on the minimal whitelist"
            )
    return problems


def check_namespace_isolation(objects: list[dict[str, Any]]) -> list[str]:
    """Every app namespace is reachable only from its own project (others: guardrail kinds only)."""
    problems = []
    projs = projects(objects)
    for env in APP_ENVIRONMENTS:
        own = projs.get(env)
        if own is None:
            problems.append(f"no AppProject {env!r} for app namespace {env}")
            continue
        namespaces = {d.get("namespace") for d in _spec(own).get("destinations") or []}
        if namespaces != {env}:
            problems.append(
                f"{_name(own)}: destinations must be namespace {env} only (found {sorted(map(str, namespaces))})"
            )
    for name, project in projs.items():
        spec = _spec(project)
        foreign = {d.get("namespace") for d in spec.get("destinations") or []} & set(APP_ENVIRONMENTS) - {name}
        if not foreign:
            continue
        whitelist = spec.get("namespaceResourceWhitelist")
        if whitelist is None:
            problems.append(
                f"{_name(project)}: reaches app namespace(s) {sorted(foreign)} with every namespaced kind; "
                f"limit namespaceResourceWhitelist to guardrail kinds"
            )
            continue
        for group, kind in sorted(_kinds(whitelist) - GUARDRAIL_KINDS):
            problems.append(
                f"{_name(project)}: reaches app namespace(s) {sorted(foreign)} and may deploy {group or 'core'}/{kind} "
                f"there; only the namespace's own project deploys workloads"
            )
    for app in applications(objects).values():
        ns, project_name = app_namespace(app), _spec(app).get("project")
        if ns in APP_ENVIRONMENTS and project_name != ns:
            problems.append(f"{_name(app)}: deploys into {ns} from project {project_name!r}; use project {ns!r}")
    return problems


def check_apps_within_projects(objects: list[dict[str, Any]]) -> list[str]:
    """Each Application's sources and destination are allowed by its project (else sync is refused)."""
    problems = []
    projs = projects(objects)
    for app in applications(objects).values():
        project = projs.get(_spec(app).get("project", ""))
        if project is None:
            problems.append(f"{_name(app)}: project {_spec(app).get('project')!r} is not defined")
            continue
        repos = set(_spec(project).get("sourceRepos") or [])
        for source in _sources(app):
            if source.get("repoURL") not in repos:
                problems.append(f"{_name(app)}: repoURL {source.get('repoURL')} is not in project's sourceRepos")
        dest = _spec(app).get("destination") or {}
        if dest.get("server", IN_CLUSTER) != IN_CLUSTER or dest.get("name"):
            problems.append(f"{_name(app)}: destination must be the in-cluster server {IN_CLUSTER}")
        allowed = {d.get("namespace") for d in _spec(project).get("destinations") or []}
        if dest.get("namespace") and dest["namespace"] not in allowed:
            problems.append(f"{_name(app)}: namespace {dest['namespace']} is not a destination of its project")
    return problems


# --- ordering, drift, namespaces -----------------------------------------------------------------


def check_sync_waves(objects: list[dict[str, Any]]) -> list[str]:
    """Projects first; namespaces, RBAC and policies in that order before every other Application."""
    problems = []
    apps = applications(objects)
    first_app = min((wave(a) for a in apps.values()), default=0)
    for project in projects(objects).values():
        if wave(project) >= first_app:
            problems.append(
                f"{_name(project)}: sync wave {wave(project)} must come before every Application ({first_app})"
            )
    by_path = {str(source.get("path", "")).rstrip("/"): app for app in apps.values() for source in _sources(app)}
    previous: dict[str, Any] | None = None
    for path in WAVE_ORDER:
        synced = by_path.get(path)
        if synced is None:
            problems.append(f"no Application syncs {path} (namespaces, RBAC and policies come before apps)")
            continue
        if previous is not None and wave(synced) <= wave(previous):
            problems.append(
                f"{_name(synced)}: wave {wave(synced)} must come after {previous['metadata']['name']} "
                f"(wave {wave(previous)})"
            )
        previous = synced
    guardrails = [a for a in apps.values() if _spec(a).get("project") == GUARDRAIL_PROJECT]
    last_guardrail = max((wave(a) for a in guardrails), default=None)
    for app in apps.values():
        if _spec(app).get("project") in (GUARDRAIL_PROJECT, "gitops") or last_guardrail is None:
            continue
        if wave(app) <= last_guardrail:
            problems.append(
                f"{_name(app)}: wave {wave(app)} runs before (or with) namespaces, RBAC and policies "
                f"(wave {last_guardrail})"
            )
    return problems


def check_ignore_differences(objects: list[dict[str, Any]]) -> list[str]:
    return [
        f"{_name(app)}: ignoreDifferences {entry.get('kind')} {pointer} hides drift without a "
        f"justification (JUSTIFIED_IGNORES in verification/models/delivery/argocd.py)"
        for app in applications(objects).values()
        for entry in _spec(app).get("ignoreDifferences") or []
        for pointer in (entry.get("jsonPointers") or []) + (entry.get("jqPathExpressions") or [])
        if (entry.get("kind", ""), pointer) not in JUSTIFIED_IGNORES
    ]


def check_managed_namespaces(objects: list[dict[str, Any]]) -> list[str]:
    """CreateNamespace carries the same Pod Security labels as platform/manifests/namespaces."""
    problems = []
    namespaces = {o["metadata"]["name"]: o for o in iter_kind(objects, "Namespace")}
    for app in applications(objects).values():
        ns, policy = app_namespace(app), _spec(app).get("syncPolicy") or {}
        if ns not in APP_ENVIRONMENTS or "CreateNamespace=true" not in (policy.get("syncOptions") or []):
            continue
        managed = (policy.get("managedNamespaceMetadata") or {}).get("labels") or {}
        psa = {k: v for k, v in managed.items() if k.startswith(PSA_PREFIX)}
        if not psa:
            problems.append(
                f"{_name(app)}: CreateNamespace=true without Pod Security labels in managedNamespaceMetadata"
            )
            continue
        declared = namespaces.get(ns)
        if declared is None:
            problems.append(f"{_name(app)}: namespace {ns} is not declared under platform/manifests")
            continue
        want = {k: v for k, v in (declared["metadata"].get("labels") or {}).items() if k.startswith(PSA_PREFIX)}
        if psa != want:
            diff = sorted(set(psa.items()) ^ set(want.items()))
            problems.append(f"{_name(app)}: managed Pod Security labels differ from Namespace {ns}: {diff}")
    return problems


def check_sources_exist(objects: list[dict[str, Any]], root: Path = REPO_ROOT) -> list[str]:
    """Paths and Helm value files the Applications name exist in this repository."""
    problems = []
    for app in applications(objects).values():
        for source in _sources(app):
            path = root / str(source.get("path", ""))
            if not path.is_dir():
                problems.append(f"{_name(app)}: source path {source.get('path')} does not exist")
                continue
            for values in (source.get("helm") or {}).get("valueFiles") or []:
                if not (path / values).resolve().is_file():
                    problems.append(
                        f"{_name(app)}: Helm value file {values} (from {source.get('path')}) does not exist"
                    )
    return problems


def _brace_globs(pattern: str) -> list[str]:
    """ArgoCD's directory include/exclude: a glob, or `{a,b}` alternatives."""
    pattern = pattern.strip()
    if pattern.startswith("{") and pattern.endswith("}"):
        return [p.strip() for p in pattern[1:-1].split(",")]
    return [pattern]


def directory_files(source: dict[str, Any], objects: list[dict[str, Any]]) -> set[str]:
    """Source files (repository-relative) a directory source syncs, as ArgoCD selects them."""
    path = str(source.get("path", "")).rstrip("/")
    directory = source.get("directory") or {}
    include = [g for p in [directory.get("include") or "*"] for g in _brace_globs(p)]
    exclude = [g for p in [directory.get("exclude") or ""] if p for g in _brace_globs(p)]
    selected = set()
    for file in {source_of(o) for o in objects}:
        relative = Path(file).relative_to(REPO_ROOT) if Path(file).is_absolute() else Path(file)
        if relative.parent.as_posix() != path and not (
            directory.get("recurse") and relative.as_posix().startswith(path + "/")
        ):
            continue
        name = relative.relative_to(path).as_posix()
        if any(fnmatch.fnmatch(name, g) for g in include) and not any(fnmatch.fnmatch(name, g) for g in exclude):
            selected.add(file)
    return selected


def check_directory_apps(objects: list[dict[str, Any]]) -> list[str]:
    """Every manifest is synced by exactly one Application whose project permits its kind and namespace."""
    problems = []
    projs = projects(objects)
    owners: dict[str, list[str]] = {}
    for app in applications(objects).values():
        project = projs.get(_spec(app).get("project", ""))
        for source in _sources(app):
            if not str(source.get("path", "")).startswith("platform/manifests"):
                continue
            files = directory_files(source, objects)
            for file in files:
                owners.setdefault(file, []).append(app["metadata"]["name"])
            if project is None:
                continue
            for obj in (o for o in objects if source_of(o) in files):
                problem = _permitted(project, app, obj)
                if problem:
                    problems.append(
                        f"{_name(app)}: {obj['kind']} {obj['metadata'].get('name')} ({source_of(obj)}) {problem}"
                    )
    for file in sorted({source_of(o) for o in objects}):
        apps = owners.get(file, [])
        if not apps:
            problems.append(f"{file}: no Application syncs this file (it never reaches the cluster)")
        elif len(apps) > 1:
            problems.append(f"{file}: synced by {len(apps)} Applications ({', '.join(sorted(apps))}); they would fight")
    return problems


def _permitted(project: dict[str, Any], app: dict[str, Any], obj: dict[str, Any]) -> str | None:
    spec = _spec(project)
    key = (str(obj["apiVersion"]).rpartition("/")[0], obj["kind"])
    label = f"{key[0] or 'core'}/{key[1]}"
    name = project["metadata"]["name"]
    if key in builtin.CLUSTER_SCOPED:
        if key not in _kinds(spec.get("clusterResourceWhitelist")):
            return f"is cluster-scoped {label}, not whitelisted in project {name}"
        return None
    namespace = obj["metadata"].get("namespace") or app_namespace(app)
    if namespace not in {d.get("namespace") for d in spec.get("destinations") or []}:
        return f"goes to namespace {namespace}, not a destination of project {name}"
    whitelist = spec.get("namespaceResourceWhitelist")
    if whitelist is not None and key not in _kinds(whitelist):
        return f"is {label}, not in project {name}'s namespaceResourceWhitelist"
    if key in _kinds(spec.get("namespaceResourceBlacklist")):
        return f"is {label}, blacklisted in project {name}"
    return None


_KIND_LINE = re.compile(r"^kind:\s*([A-Za-z]+)\s*$", re.M)
_API_LINE = re.compile(r"^apiVersion:\s*(\S+)\s*$", re.M)


def chart_kinds(chart: Path) -> set[tuple[str, str]]:
    """(group, kind) of every document in the chart's templates: every kind any values can render."""
    found = set()
    for template in sorted((chart / "templates").glob("*.yaml")):
        for doc in re.split(r"^---\s*$", template.read_text(), flags=re.M):
            kind, api = _KIND_LINE.search(doc), _API_LINE.search(doc)
            if kind and api:
                found.add((api.group(1).rpartition("/")[0] if "/" in api.group(1) else "", kind.group(1)))
    return found


def check_chart_kinds(objects: list[dict[str, Any]]) -> list[str]:
    """What an app project's charts can render is whitelisted there, and never a Namespace."""
    problems = []
    projs = projects(objects)
    for app in applications(objects).values():
        project = projs.get(_spec(app).get("project", ""))
        if project is None or _spec(app).get("project") not in APP_ENVIRONMENTS:
            continue
        allowed = _kinds(_spec(project).get("namespaceResourceWhitelist"))
        for source in _sources(app):
            chart = REPO_ROOT / str(source.get("path", ""))
            if not (chart / "Chart.yaml").is_file():
                continue
            for group, kind in sorted(chart_kinds(chart)):
                if kind == "Namespace":
                    problems.append(
                        f"{_name(app)}: chart {source['path']} renders a Namespace "
                        "(app projects may not own namespaces)"
                    )
                elif (group, kind) not in allowed:
                    problems.append(
                        f"{_name(app)}: chart {source['path']} renders {group or 'core'}/{kind}, "
                        f"not whitelisted in project {project['metadata']['name']} (sync would fail)"
                    )
    return problems


# --- notifications and ArgoCD's own RBAC --------------------------------------------------------


def _config_map(objects: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((o for o in iter_kind(objects, "ConfigMap") if o["metadata"]["name"] == name), None)


def check_notifications(objects: list[dict[str, Any]]) -> list[str]:
    """Triggers, templates and services resolve; every Application is subscribed to its failures."""
    cm = _config_map(objects, "argocd-notifications-cm")
    if cm is None:
        return ["no ConfigMap argocd-notifications-cm under platform/manifests/argocd"]
    data = cm.get("data") or {}
    where = _name(cm)
    services = {k.split(".")[-1] if k.count(".") > 1 else k.split(".", 1)[1] for k in data if k.startswith("service.")}
    templates = {k.split(".", 1)[1] for k in data if k.startswith("template.")}
    # The embedded YAML goes through the one loader: a duplicated key is refused, not silently merged.
    triggers = {
        k.split(".", 1)[1]: parse(str(v), f"{where} data.{k}") or []
        for k, v in data.items()
        if k.startswith("trigger.")
    }
    sent = [(t, template) for t, conditions in triggers.items() for c in conditions for template in c.get("send") or []]
    problems = [
        f"{where}: trigger {t} sends unknown template {template}" for t, template in sent if template not in templates
    ]
    subscriptions = parse(str(data.get("subscriptions", "")), f"{where} data.subscriptions") or []
    covered: dict[str, list[str | None]] = {t: [] for t in FAILURE_TRIGGERS}
    for sub in subscriptions:
        for recipient in sub.get("recipients") or []:
            service = recipient.split(":", 1)[0]
            if service not in services:
                problems.append(f"{where}: subscription recipient {recipient} uses unconfigured service {service}")
        for trigger in sub.get("triggers") or []:
            if trigger not in triggers:
                problems.append(f"{where}: subscription uses undefined trigger {trigger}")
            if trigger in covered:
                covered[trigger].append(sub.get("selector"))
    for app in applications(objects).values():
        labels = app["metadata"].get("labels") or {}
        annotations = app["metadata"].get("annotations") or {}
        for trigger in FAILURE_TRIGGERS:
            by_annotation = any(k.startswith(f"notifications.argoproj.io/subscribe.{trigger}.") for k in annotations)
            by_default = any(_selects(sel, labels) for sel in covered[trigger])
            if not (by_annotation or by_default):
                problems.append(f"{_name(app)}: nobody is notified on {trigger}")
    return problems


def _selects(selector: str | None, labels: dict[str, str]) -> bool:
    terms = (term.strip().partition("=") for term in (selector or "").split(",") if selector)
    return all(labels.get(key) == value for key, _, value in terms)


def _policy_lines(csv: str) -> list[list[str]]:
    lines = (line.strip() for line in csv.splitlines())
    return [[cell.strip() for cell in line.split(",")] for line in lines if line and not line.startswith("#")]


def check_argocd_rbac(objects: list[dict[str, Any]]) -> list[str]:
    """Read-only by default, admin only through a group, staging synced by release managers only."""
    cm = _config_map(objects, "argocd-rbac-cm")
    if cm is None:
        return ["no ConfigMap argocd-rbac-cm under platform/manifests/argocd"]
    data = cm.get("data") or {}
    where = _name(cm)
    problems = []
    if data.get("policy.default") != READONLY_ROLE:
        problems.append(
            f"{where}: policy.default is {data.get('policy.default')!r}; every login must default to {READONLY_ROLE}"
        )
    rows = _policy_lines(data.get("policy.csv", ""))
    groups = [r for r in rows if r[0] == "g"]
    for row in groups:
        if len(row) >= 3 and row[2] == ADMIN_ROLE and "/" not in row[1]:
            problems.append(
                f"{where}: {row[1]} gets {ADMIN_ROLE} directly; admin only through a GitLab group (group/subgroup)"
            )
    if not any(len(r) >= 3 and r[2] == ADMIN_ROLE for r in groups):
        problems.append(f"{where}: no group is mapped to {ADMIN_ROLE}")
    for row in rows:
        if row[0] != "p" or len(row) < 6:
            continue
        _, subject, resource, action, obj, effect = row[:6]
        if effect == "allow" and ("*" in (resource, action) or obj in ("*", "*/*")):
            problems.append(f"{where}: policy `{', '.join(row)}` is a wildcard grant")
        if effect == "allow" and resource == "applications" and action == "sync" and obj.startswith("staging/"):
            if subject != "role:release-manager":
                problems.append(f"{where}: {subject} may sync staging; only role:release-manager approves staging")
    return problems


# --- install values ---------------------------------------------------------------------------


def load_install_values(path: Path = INSTALL_VALUES) -> dict[str, Any]:
    return load_file(path) or {}


def check_install_values(values: dict[str, Any], objects: list[dict[str, Any]]) -> list[str]:
    """The Helm install matches the pin and agrees with what platform/manifests/argocd owns."""
    where = "platform/argocd-install/values.yaml"
    problems = []
    pin = str(versions().get("components", {}).get("argocd"))
    tag = ((values.get("global") or {}).get("image") or {}).get("tag")
    if tag != pin:
        problems.append(
            f"{where}: global.image.tag {tag!r} differs from components.argocd {pin!r} in platform/versions.yaml"
        )
    configs = values.get("configs") or {}
    cm = configs.get("cm") or {}
    if _config_map(objects, "argocd-rbac-cm") and (configs.get("rbac") or {}).get("create", True):
        problems.append(
            f"{where}: configs.rbac.create must be false: argocd-rbac-cm is owned by platform/manifests/argocd"
        )
    notifications = values.get("notifications") or {}
    if _config_map(objects, "argocd-notifications-cm") and (notifications.get("cm") or {}).get("create", True):
        problems.append(
            f"{where}: notifications.cm.create must be false: "
            "argocd-notifications-cm is owned by platform/manifests/argocd"
        )
    if notifications.get("enabled") is False:
        problems.append(f"{where}: notifications are disabled, nobody hears about failed syncs")
    if str(cm.get("admin.enabled", "true")).lower() != "false":
        problems.append(f'{where}: configs.cm admin.enabled must be "false" (log in through the GitLab group)')
    if any(_spec(p).get("destinationServiceAccounts") for p in projects(objects).values()):
        if str(cm.get("application.sync.impersonation.enabled", "false")).lower() != "true":
            problems.append(
                f"{where}: projects use destinationServiceAccounts but "
                'application.sync.impersonation.enabled is not "true"'
            )
    if any(
        "argocd.argoproj.io/sync-wave" in (a["metadata"].get("annotations") or {})
        for a in applications(objects).values()
    ):
        if "resource.customizations.health.argoproj.io_Application" not in cm:
            problems.append(
                f"{where}: Applications use sync waves but configs.cm has no health check for argoproj.io/Application, "
                f"so waves would not wait"
            )
    return problems


CHECKS = (
    check_sync_policies,
    check_project_wildcards,
    check_cluster_whitelists,
    check_namespace_isolation,
    check_apps_within_projects,
    check_sync_waves,
    check_ignore_differences,
    check_managed_namespaces,
    check_sources_exist,
    check_directory_apps,
    check_chart_kinds,
    check_notifications,
    check_argocd_rbac,
)


def violations(objects: list[dict[str, Any]], values: dict[str, Any] | None = None) -> list[str]:
    problems = [p for check in CHECKS for p in check(objects)]
    return problems + check_install_values(load_install_values() if values is None else values, objects)
