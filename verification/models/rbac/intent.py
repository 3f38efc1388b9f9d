"""platform/intent/permissions.yaml, read strictly: what each identity must and must not be allowed.

The format is documented at the top of the intent file itself. Every mistake (unknown key, unknown
resource, a namespace on a cluster-scoped resource, ...) is one UserError naming the file and entry.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

from verification.errors import UserError
from verification.models.rbac.authorizer import Request, impersonated_groups
from verification.models.rbac.resources import ResolvedResource, ResourceCatalog
from verification.paths import INTENT
from verification.yamlio import load_file, only_fields

PERMISSIONS_FILE = INTENT / "permissions.yaml"
_TOP_KEYS = {"admins", "prohibited", "exemptions", "identities", "serviceAccounts"}
_SCOPE_KEYS = {"namespace", "namespaces", "cluster", "url", "urls"}
_REQUEST_KEYS = {"verb", "verbs", "resource", "resources", "subresource", "apiGroup", "name", "why", *_SCOPE_KEYS}
_IDENTITY_KEYS = {"user", "groups", "readOnly", "allow", "deny", "why"}
_PROHIBITION_KEYS = {"name", "verbs", "resources", "why"}


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...]  # as the API server sees them (impersonation groups added)

    def describe(self) -> str:
        return self.user


@dataclass(frozen=True)
class Prohibition:
    name: str
    requests: tuple[Request, ...]  # templates: user, groups and namespace filled per check


@dataclass(frozen=True)
class Exemption:
    """One identity may hold some prohibited permissions, in named namespaces only, for a reason."""

    user: str
    prohibitions: frozenset[str]
    namespaces: frozenset[str]
    why: str

    def covers(self, user: str, prohibition: str, namespace: str) -> bool:
        return user == self.user and prohibition in self.prohibitions and namespace in self.namespaces


@dataclass
class IdentityIntent:
    identity: Identity
    read_only: bool = False
    allow: list[Request] = field(default_factory=list)
    deny: list[Request] = field(default_factory=list)


@dataclass
class Admins:
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()  # ClusterRoles allowed to hold wildcard rules

    def includes(self, user: str, groups: tuple[str, ...]) -> bool:
        return user in self.users or any(g in self.groups for g in groups)


@dataclass
class PermissionsIntent:
    source: str
    admins: Admins
    prohibited: list[Prohibition]
    identities: list[IdentityIntent]
    exemptions: list[Exemption]
    runtime_service_accounts: list[tuple[str, str]]  # (namespace, name)
    # (namespace, name) -> (the app needs a token, the Secrets its pods may reference)
    runtime_workloads: dict[tuple[str, str], tuple[bool, tuple[str, ...]]] = field(default_factory=dict)


def load_intent(catalog: ResourceCatalog, path: Path = PERMISSIONS_FILE) -> PermissionsIntent:
    where = str(path)
    data = only_fields(load_file(path), _TOP_KEYS, where)
    prohibited = [
        _prohibition(raw, f"{where}: prohibited[{i}]", catalog) for i, raw in enumerate(_list(data, "prohibited"))
    ]
    names = {p.name for p in prohibited}
    runtime = _runtime_accounts(data.get("serviceAccounts") or {}, f"{where}: serviceAccounts")
    return PermissionsIntent(
        source=where,
        admins=_admins(data.get("admins") or {}, f"{where}: admins"),
        prohibited=prohibited,
        exemptions=[
            _exemption(raw, f"{where}: exemptions[{i}]", names) for i, raw in enumerate(_list(data, "exemptions"))
        ],
        identities=[
            _identity(raw, f"{where}: identities[{i}]", catalog) for i, raw in enumerate(_list(data, "identities"))
        ],
        runtime_service_accounts=[a for a, _ in runtime],
        runtime_workloads=dict(runtime),
    )


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise UserError(f"{key} must be a list")
    return value


def _strings(raw: dict[str, Any], one: str, many: str, where: str) -> list[str]:
    if one in raw and many in raw:
        raise UserError(f"{where}: give {one} or {many}, not both")
    values = raw.get(many, [raw[one]] if one in raw else [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise UserError(f"{where}: {many} must be a list of non-empty strings")
    return values


def _admins(raw: Any, where: str) -> Admins:
    only_fields(raw, {"users", "groups", "roles", "why"}, where)
    return Admins(
        users=frozenset(_strings(raw, "_", "users", where)),
        groups=frozenset(_strings(raw, "_", "groups", where)),
        roles=frozenset(_strings(raw, "_", "roles", where)),
    )


def _prohibition(raw: Any, where: str, catalog: ResourceCatalog) -> Prohibition:
    only_fields(raw, _PROHIBITION_KEYS, where)
    verbs = _strings(raw, "_", "verbs", where)
    resources = _strings(raw, "_", "resources", where)
    if not raw.get("name") or not verbs or not resources:
        raise UserError(f"{where}: name, verbs and resources are required")
    resolved = [(verb, _resolve(catalog, text, "", None, where)) for verb, text in product(verbs, resources)]
    requests = (Request("", (), verb, r.resource, r.subresource, r.group) for verb, r in resolved)
    return Prohibition(str(raw["name"]), tuple(requests))


def _exemption(raw: Any, where: str, prohibition_names: set[str]) -> Exemption:
    only_fields(raw, {"user", "prohibited", "namespaces", "why"}, where)
    if not isinstance(raw.get("user"), str) or not raw["user"] or not raw.get("why"):
        raise UserError(f"{where}: user and why are required (an exemption without a reason is a hole)")
    names = _strings(raw, "_", "prohibited", where)
    unknown = set(names) - prohibition_names
    if unknown or not names:
        raise UserError(f"{where}: prohibited must name entries of `prohibited` (unknown: {sorted(unknown)})")
    namespaces = _strings(raw, "_", "namespaces", where)
    if not namespaces:
        raise UserError(f"{where}: namespaces is required (exemptions never hold cluster-wide)")
    return Exemption(raw["user"], frozenset(names), frozenset(namespaces), str(raw["why"]))


def _identity(raw: Any, where: str, catalog: ResourceCatalog) -> IdentityIntent:
    if not isinstance(only_fields(raw, _IDENTITY_KEYS, where).get("user"), str) or not raw["user"]:
        raise UserError(f"{where}: user is required")
    where = f"{where} ({raw['user']})"
    identity = Identity(raw["user"], impersonated_groups(raw["user"], _strings(raw, "_", "groups", where)))
    intent = IdentityIntent(identity, read_only=bool(raw.get("readOnly", False)))
    for key, target in (("allow", intent.allow), ("deny", intent.deny)):
        entries = raw.get(key) or []
        if not isinstance(entries, list):
            raise UserError(f"{where}: {key} must be a list of requests")
        for i, entry in enumerate(entries):
            target.extend(_requests(entry, f"{where}: {key}[{i}]", identity, catalog))
    return intent


def _requests(raw: Any, where: str, identity: Identity, catalog: ResourceCatalog) -> Iterator[Request]:
    only_fields(raw, _REQUEST_KEYS, where)
    verbs = _strings(raw, "verb", "verbs", where)
    if not verbs:
        raise UserError(f"{where}: verb is required")
    urls = _strings(raw, "url", "urls", where)
    namespaces = _strings(raw, "namespace", "namespaces", where)
    cluster = raw.get("cluster", False)
    scopes = sum(bool(x) for x in (urls, namespaces, cluster))
    if scopes != 1:
        raise UserError(f"{where}: give exactly one of namespace(s), cluster: true, or url(s)")
    user, groups = identity.user, identity.groups
    if urls:
        for verb, url in product(verbs, urls):
            if not url.startswith("/"):
                raise UserError(f"{where}: a non-resource URL starts with /: {url!r}")
            yield Request(user, groups, verb, path=url)
        return
    resources = _strings(raw, "resource", "resources", where)
    if not resources:
        raise UserError(f"{where}: resource is required (or url)")
    name = raw.get("name", "")
    for text in resources:
        resolved = _resolve(catalog, text, raw.get("subresource", ""), raw.get("apiGroup"), where)
        if namespaces and resolved.namespaced is False:
            raise UserError(f"{where}: {resolved.display()} is cluster-scoped; use cluster: true")
        for verb, namespace in product(verbs, namespaces or [""]):
            yield Request(
                user, groups, verb, resolved.resource, resolved.subresource, resolved.group, namespace, str(name)
            )


def _resolve(catalog: ResourceCatalog, text: str, subresource: str, group: str | None, where: str) -> ResolvedResource:
    try:
        return catalog.resolve(text, subresource, group)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None


def _runtime_accounts(raw: Any, where: str) -> list[tuple[tuple[str, str], tuple[bool, tuple[str, ...]]]]:
    only_fields(raw, {"runtime", "why"}, where)
    accounts = []
    for i, entry in enumerate(raw.get("runtime") or []):
        at = f"{where}: runtime[{i}]"
        only_fields(entry, {"namespace", "name", "token", "secrets"}, at)
        if not entry.get("namespace") or not entry.get("name"):
            raise UserError(f"{at}: namespace and name are required")
        if not isinstance(entry.get("token", False), bool):
            raise UserError(f"{at}: token must be true or false (whether the app's pods get a token)")
        secrets = _strings(entry, "_", "secrets", at)
        accounts.append(((entry["namespace"], entry["name"]), (entry.get("token", False), tuple(secrets))))
    return accounts
