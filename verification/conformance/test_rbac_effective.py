"""Effective permissions conformance: `prohibited` in platform/intent/permissions.yaml holds for what
every identity REACHES (through the workloads it may create, pod subresources, tokens, operators,
ArgoCD), with the platform's ValidatingAdmissionPolicies evaluated as the API server would; and
those policies still admit every app as its chart renders it and as the intent describes it."""

import json
from typing import Any

import pytest

from verification.models.admission.cel import AdmissionRequest, pod_specs, server_defaults
from verification.models.delivery import chart as bg
from verification.models.rbac.authorizer import Authorizer, Request
from verification.models.rbac.effective import (
    POD_PRODUCERS,
    WRITE_OPERATIONS,
    Platform,
    admission_only_reach,
    allowed_pod_template,
    check_effective,
    closing_policies,
    workload_object,
)
from verification.models.rbac.intent import Identity, load_intent

Objects = list[dict[str, Any]]


@pytest.fixture(scope="module")
def platform(platform_objects: Objects) -> Platform:
    authorizer = Authorizer.from_objects(platform_objects)
    return Platform(platform_objects, authorizer, load_intent(authorizer.catalog))


def _assert_none(violations: list[str]) -> None:
    if violations:
        pytest.fail(f"{len(violations)} violation(s):\n  " + "\n  ".join(violations), pytrace=False)


def test_nobody_but_admins_reaches_a_prohibited_permission_effectively(platform: Platform) -> None:
    _assert_none(check_effective(platform))


def _workload_writers(platform: Platform, namespace: str) -> list[tuple[Identity, tuple[str, str, str, str], str]]:
    """(identity, kind row, operation) for every declared identity that may write a pod-producing kind."""
    found = []
    for declared in platform.intent.identities:
        identity = declared.identity
        for row in POD_PRODUCERS:
            group, _, resource, _ = row
            for verb, operation in WRITE_OPERATIONS.items():
                request = Request(identity.user, identity.groups, verb, resource, api_group=group, namespace=namespace)
                if platform.authorizer.allowed(request):
                    found.append((identity, row, operation))
    return found


def _decide(
    platform: Platform, identity: Identity, row: tuple[str, str, str, str], operation: str, obj: dict[str, Any]
) -> Any:
    group, version, resource, kind = row
    meta = obj["metadata"]
    request = AdmissionRequest(
        operation,
        group,
        version,
        resource,
        kind,
        meta["namespace"],
        meta["name"],
        identity.user,
        identity.groups,
        server_defaults(obj),
        obj if operation == "UPDATE" else None,
        namespace_labels=platform.namespace_labels(meta["namespace"]),
    )
    return platform.policies.decide(request)


def test_runtime_workloads_of_the_intent_are_admitted(platform: Platform) -> None:
    """Every runtime account, with the token and the Secrets the intent gives its app, is admitted
    for every identity that may create workloads there (the policies close paths, not deploys)."""
    problems = []
    for (namespace, account), (token, secrets) in platform.intent.runtime_workloads.items():
        template = allowed_pod_template(namespace, account)
        spec = template["spec"]
        spec["automountServiceAccountToken"] = token
        for secret in secrets:
            spec.setdefault("volumes", []).append({"name": f"s-{secret}", "secret": {"secretName": secret}})
        writers = _workload_writers(platform, namespace)
        for identity, row, operation in writers:
            obj = workload_object(row[3], namespace, "intent-workload", template)
            decision = _decide(platform, identity, row, operation, obj)
            if not decision.allowed:
                problems.append(
                    f"{identity.user} {operation} {row[3]} running as {namespace}/{account}: "
                    + "; ".join(v.api_message() for v in decision.denials)
                )
    _assert_none(problems)


def test_chart_renders_are_admitted_for_the_deployers(
    platform: Platform, chart_renders: dict[tuple[str, str, str], Any]
) -> None:
    """The apps still deploy through the same chart: each render's Deployments pass the policies for
    every identity that may create Deployments in that environment's namespace."""
    problems = []
    checked = 0
    writers = {ns: _workload_writers(platform, ns) for ns in {bg.namespace_for(env) for _, env, _ in chart_renders}}
    # A decision is a function of the request: renders that differ only in their Services (the
    # two colours' renders carry the same Deployments) and update/patch (both UPDATE) share one.
    decided: dict[tuple[Any, ...], Any] = {}
    for (app, env, color), render in chart_renders.items():
        namespace = bg.namespace_for(env)
        for deployment in render.of_kind("Deployment"):
            obj = {**deployment, "metadata": {**deployment["metadata"], "namespace": namespace}}
            content = json.dumps(obj, sort_keys=True)
            for identity, row, operation in writers[namespace]:
                if row[3] != "Deployment":
                    continue
                checked += 1
                key = (identity, row, operation, content)
                if key not in decided:
                    decided[key] = _decide(platform, identity, row, operation, json.loads(content))
                decision = decided[key]
                if not decision.allowed:
                    problems.append(
                        f"{app} {env} {color}: {identity.user} {operation}: "
                        + "; ".join(v.api_message() for v in decision.denials)
                    )
    assert checked, "no chart render was checked against the policies"
    _assert_none(problems)


def test_chart_runs_as_the_runtime_account_without_token(
    platform: Platform, chart_renders: dict[tuple[str, str, str], Any]
) -> None:
    problems = []
    for (app, env, color), render in chart_renders.items():
        namespace = bg.namespace_for(env)
        for deployment in render.of_kind("Deployment"):
            spec = pod_specs(deployment)[0]
            account = spec.get("serviceAccountName", "default")
            workload = platform.intent.runtime_workloads.get((namespace, account))
            if workload is None:
                problems.append(f"{app} {env} {color}: runs as {namespace}/{account}, not a runtime account")
            elif spec.get("automountServiceAccountToken") is not workload[0]:
                problems.append(f"{app} {env} {color}: automountServiceAccountToken is not {workload[0]}")
    _assert_none(problems)


def _writer_scopes(platform: Platform) -> list[tuple[Identity, str]]:
    """(identity, namespace) where a declared identity may write some pod-producing kind."""
    namespaces = {ns for ns, _ in platform.intent.runtime_service_accounts}
    found = []
    for namespace in sorted(namespaces):
        for identity in dict.fromkeys(identity for identity, _, _ in _workload_writers(platform, namespace)):
            if not platform.intent.admins.includes(identity.user, identity.groups):
                found.append((identity, namespace))
    return found


@pytest.fixture(scope="module")
def admission_only(platform: Platform) -> list[tuple[Identity, str, Any]]:
    return [
        (identity, namespace, reach)
        for identity, namespace in _writer_scopes(platform)
        for reach in admission_only_reach(platform, identity, namespace)
    ]


def test_every_pod_producing_kind_is_closed_for_the_workload_writers(
    admission_only: list[tuple[Identity, str, Any]],
) -> None:
    """Admission alone, RBAC aside: a later grant of StatefulSets or CronJobs to a deployer must not
    reopen the paths (a kind missing from the policy's matchConstraints fails here)."""
    assert admission_only, "no declared identity writes workloads in an app namespace: nothing was checked"
    problems = [
        f"{identity.user}: {reach.what} in {namespace} via {reach.path}"
        for identity, namespace, reach in admission_only
        if reach.open
    ]
    _assert_none(problems)


def test_policies_that_close_paths_fail_closed(
    platform: Platform, admission_only: list[tuple[Identity, str, Any]]
) -> None:
    reaches = [reach for _, _, reach in admission_only]
    assert any(not r.open for r in reaches), "no path is closed by a policy: nothing to check"
    _assert_none(closing_policies(platform, reaches))
