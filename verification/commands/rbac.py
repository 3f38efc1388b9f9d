"""`platform-verify rbac can-i VERB RESOURCE[/SUBRESOURCE] [NAME] [-n NS] --as USER ...`.

`kubectl auth can-i` answered from manifests: prints `yes` or `no`; exit 0 yes, 1 no, 2 bad input.
Differences from kubectl, by contract: without `-n` the question is cluster-wide (kubectl would
use the context's namespace), and a slash in RESOURCE names a subresource (kubectl reads it as a
name and takes the subresource from `--subresource`).
"""

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from verification.commands import report
from verification.errors import UserError
from verification.models.rbac.authorizer import RBAC_KINDS, Authorizer, Request, impersonated_groups
from verification.models.rbac.checks import all_violations
from verification.models.rbac.intent import PERMISSIONS_FILE, load_intent
from verification.paths import MANIFESTS
from verification.yamlio import load_manifests

_VERB_RE = re.compile(r"^[A-Za-z*][A-Za-z0-9*-]*$")


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("rbac", help="effective RBAC permissions computed from manifests")
    actions = parser.add_subparsers(dest="rbac_command", metavar="ACTION", required=True)
    can_i = actions.add_parser(
        "can-i",
        help="may USER do VERB on RESOURCE? (yes: exit 0, no: exit 1)",
        description="Answer like `kubectl auth can-i`, from manifests instead of a cluster. "
        "Kubernetes' default roles (cluster-admin, admin/edit/view, discovery) are included.",
    )
    can_i.add_argument("verb", help="e.g. get, list, create, delete, impersonate, *")
    can_i.add_argument(
        "target", metavar="RESOURCE[/SUBRESOURCE]", help="e.g. pods, pods/log, deployments.apps, or a URL: /metrics"
    )
    can_i.add_argument("name", nargs="?", default="", metavar="NAME", help="object name (for resourceNames rules)")
    can_i.add_argument("-n", "--namespace", default="", help="namespace (omit: cluster-wide question)")
    can_i.add_argument("--as", dest="user", required=True, metavar="USER", help="e.g. system:serviceaccount:NS:NAME")
    can_i.add_argument("--as-group", dest="groups", action="append", default=[], metavar="GROUP")
    can_i.add_argument(
        "--manifests", action="append", required=True, metavar="PATH", help="file or directory (repeatable)"
    )
    can_i.add_argument("--explain", action="store_true", help="say on stderr which binding and rule decide")
    can_i.set_defaults(func=_can_i)

    check = actions.add_parser(
        "check",
        help="check manifests against the permissions intent (exit 0 holds, 1 violations)",
        description="Every RBAC check of the conformance suite, with readable violations.",
    )
    check.add_argument("--manifests", action="append", metavar="PATH", help=f"default: {MANIFESTS}")
    check.add_argument("--intent", default=str(PERMISSIONS_FILE), metavar="FILE")
    check.set_defaults(func=_check)

    effective = actions.add_parser(
        "effective",
        help="what USER reaches, directly or through the workloads it may create (exit 0 nothing "
        "prohibited is reached, 1 otherwise)",
        description="Every path from USER to Secrets, ServiceAccount tokens and running pods, with the "
        "admission policy that closes it where one does (verification/models/rbac/effective.py).",
    )
    effective.add_argument(
        "--as", dest="user", required=True, metavar="USER", help="e.g. system:serviceaccount:NS:NAME"
    )
    effective.add_argument("--as-group", dest="groups", action="append", default=[], metavar="GROUP")
    effective.add_argument("--manifests", action="append", metavar="PATH", help=f"default: {MANIFESTS}")
    effective.add_argument("--intent", default=str(PERMISSIONS_FILE), metavar="FILE")
    effective.add_argument("--open-only", action="store_true", help="hide paths an admission policy closes")
    effective.set_defaults(func=_effective)


def _can_i(args: argparse.Namespace) -> int:
    if not _VERB_RE.match(args.verb):
        raise UserError(f"bad verb {args.verb!r}: expected a word such as get, list, create or *")
    if not args.user.strip():
        raise UserError("--as needs a user name")
    authorizer = Authorizer.from_objects(_with_rbac(load_manifests(args.manifests), args.manifests))
    request = build_request(authorizer, args.verb, args.target, args.name, args.namespace, args.user, args.groups)
    grant = authorizer.grant_for(request)
    print("yes" if grant else "no")
    if args.explain:
        who = f"{request.user} (groups: {', '.join(request.groups)})"
        reason = f"allowed by {grant.describe()}" if grant else "no rule allows it"
        print(f"{who}: {request.describe()}: {reason}", file=sys.stderr)
    return 0 if grant else 1


def _check(args: argparse.Namespace) -> int:
    objects = _with_rbac(load_manifests(args.manifests or [MANIFESTS]), args.manifests or [MANIFESTS])
    authorizer = Authorizer.from_objects(objects)
    intent = load_intent(authorizer.catalog, Path(args.intent))
    if not intent.prohibited and not intent.identities:
        raise UserError(f"{args.intent}: no `prohibited` or `identities` entries: nothing to check")
    from verification.models.rbac.effective import Platform, check_effective

    checks = all_violations(objects, authorizer, intent)
    checks["effective permissions (admission evaluated)"] = check_effective(Platform(objects, authorizer, intent))
    return report(checks)


def _effective(args: argparse.Namespace) -> int:
    from verification.models.rbac.checks import namespaces_in_scope
    from verification.models.rbac.effective import Platform, effective_reach, prohibited_reaches, table
    from verification.models.rbac.intent import Identity

    if not args.user.strip():
        raise UserError("--as needs a user name")
    objects = load_manifests(args.manifests or [MANIFESTS])
    authorizer = Authorizer.from_objects(objects)
    platform = Platform(objects, authorizer, load_intent(authorizer.catalog, Path(args.intent)))
    identity = Identity(args.user, impersonated_groups(args.user, args.groups))
    reaches = effective_reach(platform, identity, namespaces_in_scope(authorizer, platform.intent))
    if args.open_only:
        reaches = [r for r in reaches if r.open]
    print(f"{identity.user} (groups: {', '.join(identity.groups)})")
    for namespace, what, path, state in table(reaches):
        print(f"  {namespace:<12} {what}\n      via {path}\n      {state}")
    prohibited = prohibited_reaches(platform, identity, reaches)
    print(f"{len(reaches)} path(s), {sum(r.open for r in reaches)} open, {len(prohibited)} reach what is prohibited")
    for line in prohibited:
        print(f"  PROHIBITED {line}")
    return 1 if prohibited else 0


def _with_rbac(objects: list[dict[str, Any]], paths: Sequence[Path | str]) -> list[dict[str, Any]]:
    # Without a Role or binding every answer comes from Kubernetes' defaults alone: a wrong path, not an answer.
    if not any(o.get("kind") in RBAC_KINDS for o in objects):
        where = " ".join(str(p) for p in paths)
        raise UserError(f"{where}: no Role, ClusterRole, RoleBinding or ClusterRoleBinding (give the RBAC manifests)")
    return objects


def build_request(
    authorizer: Authorizer, verb: str, target: str, name: str, namespace: str, user: str, groups: list[str]
) -> Request:
    effective_groups = impersonated_groups(user, groups)
    if target.startswith("/"):
        if name:
            raise UserError(f"a non-resource URL ({target}) takes no NAME")
        # like kubectl: a non-resource request has no namespace, -n is ignored
        return Request(user, effective_groups, verb, path=target)
    resolved = authorizer.catalog.resolve(target)
    if namespace and resolved.namespaced is False:
        # as kubectl: warn, but ask the question as given (SubjectAccessReview semantics)
        print(f"Warning: resource '{resolved.display()}' is not namespace scoped", file=sys.stderr)
    return Request(
        user,
        effective_groups,
        verb,
        resource=resolved.resource,
        subresource=resolved.subresource,
        api_group=resolved.group,
        namespace=namespace,
        name=name,
    )
