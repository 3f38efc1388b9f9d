"""The pipeline delivery checks on hand-built pipelines (no interpreter): each rule's message."""

from pathlib import Path

import pytest

from verification.errors import UserError
from verification.models.delivery import gitlab_ci as ci

DEFINITIONS = {
    "sample-app:build": {"stage": "build", "script": ["b"]},
    "sample-app:deploy-test": {
        "stage": "deploy",
        "script": ["d"],
        "environment": {"name": "test/$APP"},
        "variables": {"APP": "sample-app"},
    },
    "sample-app:deploy-staging": {
        "stage": "deploy",
        "script": ["d"],
        "environment": {"name": "staging/sample-app", "action": "start"},
    },
    "sample-app:rollback-staging": {
        "stage": "rollback",
        "script": ["r"],
        "environment": {"name": "staging/sample-app", "action": "access"},
    },
    "verify:conformance": {"stage": "test", "script": ["c"]},
    "verify:e2e": {"stage": "verify", "script": ["e"]},
}


def _pipeline(event: str, apps: set[str], jobs: list[tuple[str, str, bool, tuple[str, ...]]]) -> ci.Pipeline:
    scenario = ci.Scenario(event, ("platform/apps/sample-app/x",) if apps else (), frozenset(apps))
    return ci.Pipeline(scenario, tuple(ci.Job(n, "s", when, af, needs) for n, when, af, needs in jobs))


def _check(pipeline: ci.Pipeline) -> list[str]:
    return ci.check_pipeline(ci.Evaluation(DEFINITIONS, {}), pipeline)


def test_deploy_jobs_are_found_through_their_environment() -> None:
    evaluation = ci.Evaluation(DEFINITIONS, {})
    assert ci.deploy_jobs(evaluation, "test") == ["sample-app:deploy-test"]
    # a rollback only accesses the environment: it is not a deployment
    assert ci.deploy_jobs(evaluation, "staging") == ["sample-app:deploy-staging"]


def test_main_must_not_deploy_test_and_needs_must_exist() -> None:
    problems = _check(
        _pipeline(
            "push_main",
            {"sample-app"},
            [
                ("sample-app:build", "on_success", False, ()),
                ("sample-app:deploy-test", "on_success", False, ("sample-app:package",)),
                ("sample-app:deploy-staging", "manual", False, ("sample-app:build",)),
                ("verify:conformance", "on_success", False, ()),
            ],
        )
    )
    where = "push_main (platform/apps/sample-app/x)"
    assert problems == [
        f"{where}: sample-app:deploy-test needs sample-app:package, which is not in this pipeline (GitLab rejects it)",
        f"{where}: sample-app:deploy-test runs on main; test is deployed from develop only",
    ]


def test_develop_must_not_offer_staging_and_e2e_stays_nightly() -> None:
    problems = _check(
        _pipeline(
            "push_develop",
            {"sample-app"},
            [
                ("sample-app:build", "on_success", False, ()),
                ("sample-app:deploy-test", "on_success", False, ()),
                ("sample-app:deploy-staging", "manual", False, ()),
                ("verify:e2e", "on_success", False, ()),
            ],
        )
    )
    where = "push_develop (platform/apps/sample-app/x)"
    assert problems == [
        f"{where}: sample-app:deploy-staging runs on develop; staging is deployed from main only",
        f"{where}: verify:e2e runs on push_develop; it belongs to the nightly schedule",
    ]


def test_merge_request_conformance_must_gate() -> None:
    problems = _check(_pipeline("merge_request", set(), [("verify:conformance", "manual", True, ())]))
    assert problems == [
        "merge_request (no change): verify:conformance must gate the merge request "
        "(when on_success, allow_failure false; is manual, allow_failure true)"
    ]


def test_schedule_e2e_must_count() -> None:
    problems = _check(
        _pipeline(
            "schedule", set(), [("verify:e2e", "on_success", True, ()), ("verify:mutants", "on_success", False, ())]
        )
    )
    assert problems == [
        "schedule (no change): verify:e2e must run unattended and count (is on_success, allow_failure True)"
    ]


def test_schedule_without_the_mutation_session_is_named() -> None:
    problems = _check(_pipeline("schedule", set(), [("verify:e2e", "on_success", False, ())]))
    assert problems == ["schedule (no change): the nightly schedule must run verify:mutants"]


def test_grid_shows_each_scenario_column() -> None:
    evaluation = ci.Evaluation(DEFINITIONS, {})
    evaluation.pipelines.append(_pipeline("schedule", set(), [("verify:e2e", "on_success", False, ())]))
    evaluation.pipelines.append(_pipeline("merge_request", set(), [("verify:conformance", "manual", True, ())]))
    assert ci.grid(evaluation).splitlines() == [
        "job                 S1           S2         ",
        "verify:conformance  -            manual/af  ",
        "verify:e2e          on_success   -          ",
        "(af = allow_failure)",
        "S1: schedule (no change)",
        "S2: merge_request (no change)",
    ]


def test_expand_uses_job_then_global_variables() -> None:
    assert (
        ci.expand("$IMAGE_REGISTRY/${APP}:$TAG", {"IMAGE_REGISTRY": "r.example/p", "APP": "a"}) == "r.example/p/a:$TAG"
    )


@pytest.mark.parametrize("where", [ci.ROOT_FILE, f"{ci.TEMPLATES_DIR}/jobs.yml"])
def test_a_duplicated_key_in_a_ci_file_is_one_line(tmp_path: Path, where: str) -> None:
    # GitLab keeps the last of two jobs with the same name: the first one silently disappears.
    (tmp_path / ci.TEMPLATES_DIR).mkdir(parents=True)
    (tmp_path / ci.ROOT_FILE).write_text("stages: [build]\n")
    (tmp_path / where).write_text(
        "build:\n  stage: build\n  script: [make]\ntest:\n  script: [!reference [build, script]]\n"
        "build:\n  script: [other]\n"
    )
    with pytest.raises(UserError) as refused:
        ci.ci_files(tmp_path)
    assert str(refused.value) == f"{where}: line 6: duplicate key 'build' (first on line 1); remove one"


def test_gitlabs_reference_tag_still_loads() -> None:
    data = ci.load_ci_yaml("a:\n  script: [x]\nb:\n  script: [!reference [a, script]]\n", "t.yml")
    assert data["b"]["script"] == [["a", "script"]]
