"""Deploy jobs need every gate of their app (hand-written pipelines)."""

from verification.models.delivery import gates as delivery_gates
from verification.models.delivery.gitlab_ci import Evaluation, Job, Pipeline, Scenario

SCENARIO = Scenario("push_main", ("platform/apps/a/x",), frozenset({"a"}))
DEFINITIONS = {
    "sample-app:build": {},
    "sample-app:sast": {},
    "sample-app:container-scan": {},
    "sample-app:package": {},
    "sample-app:deploy-staging": {"environment": {"name": "staging/sample-app", "action": "start"}},
    "sample-app:rollback-staging": {"environment": {"name": "staging/sample-app", "action": "access"}},
    "verify:conformance": {},
}


def _pipeline(deploy_needs: tuple[str, ...]) -> tuple[Evaluation, Pipeline]:
    jobs = (
        Job("sample-app:build", "build", "on_success", False, ()),
        Job("sample-app:sast", "security", "on_success", False, ()),
        Job("sample-app:container-scan", "security", "on_success", False, ("sample-app:build",)),
        Job("sample-app:package", "package", "on_success", False, ("sample-app:build",)),
        Job("sample-app:deploy-staging", "deploy", "manual", False, deploy_needs),
        Job("sample-app:rollback-staging", "rollback", "manual", True, ()),  # not a deploy (action access)
        Job("verify:conformance", "test", "on_success", False, ()),  # another app's (none) gate
    )
    pipeline = Pipeline(SCENARIO, jobs)
    return Evaluation(DEFINITIONS, {}, [pipeline]), pipeline


def test_deploy_reaching_every_gate_through_needs_passes() -> None:
    evaluation, _ = _pipeline(("sample-app:package", "sample-app:sast", "sample-app:container-scan"))
    assert delivery_gates.check(evaluation) == []  # build is reached through package


def test_deploy_that_skips_the_scan_is_named() -> None:
    evaluation, _ = _pipeline(("sample-app:package", "sample-app:sast"))
    assert delivery_gates.check(evaluation) == [
        "push_main: sample-app:deploy-staging does not need sample-app:container-scan: it may deploy before "
        "(or although) those gates fail"
    ]
