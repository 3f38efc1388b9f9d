"""Realistic mistakes in the pipelines each fail a delivery check with a message naming the cause.

Each mutation edits a copy of the pipeline files and is evaluated by the real gitlab-ci-local for
the scenario that exposes it (all mutations in one batch, results cached by content).
"""

from dataclasses import dataclass

import pytest

from verification.models.delivery import gitlab_ci as ci
from verification.paths import REPO_ROOT


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    old: str
    new: str
    scenario: ci.Scenario
    expected: str


def _scenario(event: str, apps: set[str]) -> ci.Scenario:
    return next(s for s in ci.SCENARIOS if s.event == event and s.apps == apps)


MAIN_SAMPLE = _scenario("push_main", {"sample-app"})
MAIN_SAMPLE2 = _scenario("push_main", {"sample2-app"})
DEVELOP_SAMPLE2 = _scenario("push_develop", {"sample2-app"})
MR_SAMPLE = _scenario("merge_request", {"sample-app"})
SCHEDULE = _scenario("schedule", set())
T = "platform/ci/templates.yml"
V = "platform/ci/verification.yml"

MUTATIONS = [
    Mutation(
        "deploy_staging_not_manual",
        T,
        '$CI_COMMIT_BRANCH == "main"\n      changes: *app-paths\n      when: manual\n      allow_failure: false',
        '$CI_COMMIT_BRANCH == "main"\n      changes: *app-paths',
        MAIN_SAMPLE,
        "sample-app:deploy-staging is when: on_success; staging is deployed only by hand (when: manual)",
    ),
    Mutation(
        "manual_with_allow_failure_true",
        T,
        "      when: manual\n      allow_failure: false",
        "      when: manual\n      allow_failure: true",
        MAIN_SAMPLE,
        "sample-app:deploy-staging is manual with allow_failure: true",
    ),
    Mutation(
        "e2e_removed_from_schedule",
        "platform/ci/verification.yml",
        '  rules:\n    - if: $CI_PIPELINE_SOURCE == "schedule"',
        '  rules:\n    - if: $CI_PIPELINE_SOURCE == "web"',
        SCHEDULE,
        "schedule (no change): the nightly schedule must run verify:e2e",
    ),
    Mutation(
        "broad_glob_builds_the_other_app",
        T,
        "    - platform/apps/$APP/**/*\n",
        "    - platform/apps/**/*\n",
        MAIN_SAMPLE2,
        "sample-app:deploy-staging runs although the change touches sample2-app (app independence)",
    ),
    Mutation(
        "missing_resource_group",
        T,
        "  resource_group: $APP-staging\n  environment:\n    name: staging/$APP\n    deployment_tier: staging\n"
        "    action: start",
        "  environment:\n    name: staging/$APP\n    deployment_tier: staging\n    action: start",
        MAIN_SAMPLE,
        "sample-app:deploy-staging deploys to staging/sample-app without a resource_group",
    ),
    Mutation(
        "rule_without_event_deploys_on_schedule",
        T,
        '    - if: $CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "main"\n      changes: *app-paths\n'
        "      when: manual\n      allow_failure: false",
        '    - if: $CI_COMMIT_BRANCH == "main"\n      changes: *app-paths\n      when: manual\n'
        "      allow_failure: false",
        SCHEDULE,
        "schedule (no change): sample-app:deploy-staging deploys on a schedule pipeline",
    ),
    Mutation(
        "schedule_dropped_from_workflow",
        ".gitlab-ci.yml",
        '    - if: $CI_PIPELINE_SOURCE == "schedule"\n',
        "",
        SCHEDULE,
        "schedule (no change): the nightly schedule must run verify:e2e",
    ),
    Mutation(
        "conformance_not_on_merge_requests",
        "platform/ci/verification.yml",
        '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n',
        "",
        MR_SAMPLE,
        "merge requests must run verify:conformance",
    ),
    Mutation(
        "deploy_waits_for_the_other_app",
        "platform/ci/sample-app.yml",
        "sample-app:deploy-test:\n  extends: [.app:deploy-test, .sample-app]\n"
        "  needs: [sample-app:build, sample-app:package,",
        "sample-app:deploy-test:\n  extends: [.app:deploy-test, .sample-app]\n"
        "  needs: [sample-app:build, sample2-app:package, sample-app:package,",
        DEVELOP_SAMPLE2,
        "sample-app:deploy-test needs sample2-app:package: an app's pipeline may only wait for its own jobs",
    ),
    Mutation(
        "staging_switch_outside_git",
        T,
        "    - platform-verify bluegreen switch $APP --env staging --version $IMAGE_TAG $GITOPS",
        "    - platform-verify bluegreen switch $APP --env staging --version $IMAGE_TAG",
        MAIN_SAMPLE,
        "sample-app:deploy-staging: staging is synced by ArgoCD; without `--source gitops` the flip is made "
        "outside git",
    ),
    Mutation(
        "image_pushed_where_the_chart_does_not_pull",
        T,
        "  IMAGE: $IMAGE_REGISTRY/$APP",
        "  IMAGE: $CI_REGISTRY_IMAGE/$APP",
        MAIN_SAMPLE,
        "sample-app:build pushes $CI_REGISTRY_IMAGE/sample-app, but the chart values use "
        "registry.example.local/platform/sample-app (images.sample-app)",
    ),
    Mutation(
        "develop_deploy_made_manual",
        T,
        '$CI_COMMIT_BRANCH == "develop"\n      changes: *app-paths\n      when: on_success',
        '$CI_COMMIT_BRANCH == "develop"\n      changes: *app-paths\n      when: manual',
        DEVELOP_SAMPLE2,
        "sample2-app:deploy-test is when: manual; develop deploys to test automatically",
    ),
    Mutation(
        "nightly_cache_without_the_pins_key",
        T,
        "  cache:\n    key:\n      files: [platform/versions.yaml]\n    paths: [.cache/]\n",
        "  cache:\n    key: $CI_JOB_NAME\n    paths: [.cache/]\n",
        SCHEDULE,
        "verify:e2e: no cache keyed on platform/versions.yaml",
    ),
    Mutation(
        "go_build_cache_outside_the_project",
        T,
        "    GOCACHE: $CI_PROJECT_DIR/.cache/go-build\n",
        "    GOCACHE: /root/.cache/go-build\n",
        SCHEDULE,
        "verify:e2e: GOCACHE=/root/.cache/go-build is outside $CI_PROJECT_DIR",
    ),
    Mutation(
        "every_job_writes_the_cache",
        T,
        "    paths: [.cache/]\n    policy: pull\n",
        "    paths: [.cache/]\n",
        SCHEDULE,
        "verify:conformance: writes the platform/versions.yaml cache (policy pull-push)",
    ),
    Mutation(
        "nightly_images_not_archived",
        V,
        '    PLATFORM_VERIFY_IMAGE_ARCHIVE: "1"\n',
        "",
        SCHEDULE,
        "verify:e2e: PLATFORM_VERIFY_IMAGE_ARCHIVE is not 1",
    ),
]


def _mutated(mutation: Mutation) -> dict[str, str]:
    files = ci.ci_files(REPO_ROOT)
    text = files[mutation.file]
    assert mutation.old in text, f"{mutation.name}: the text to mutate is gone from {mutation.file}"
    return {**files, mutation.file: text.replace(mutation.old, mutation.new)}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[str]]:
    # One batch for every mutation: node's start-up is paid once per process, not per question.
    trees = [(_mutated(m), [m.scenario]) for m in MUTATIONS]
    evaluations = ci.evaluate_many(trees, validate_schema=False)
    return {m.name: ci.violations(e) for m, e in zip(MUTATIONS, evaluations, strict=True)}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_mutation_is_caught(outcomes: dict[str, list[str]], mutation: Mutation) -> None:
    problems = outcomes[mutation.name]
    assert any(mutation.expected in p for p in problems), f"expected {mutation.expected!r} among:\n" + "\n".join(
        problems
    )


def test_remote_template_include_is_refused() -> None:
    files = ci.ci_files()
    files[".gitlab-ci.yml"] = files[".gitlab-ci.yml"].replace(
        "include:\n", "include:\n  - template: Jobs/SAST.gitlab-ci.yml\n", 1
    )
    assert ci.check_offline(files) == [
        ".gitlab-ci.yml: include {'template': 'Jobs/SAST.gitlab-ci.yml'} is fetched from the network; "
        "define the jobs locally"
    ]
